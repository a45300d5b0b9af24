"""How far DIN's target attention is from the mean pooling of the paper's model.

At every evaluation, on a fixed random sample of test rows: for each attended
history field, every entry's attention weight times its history's length --
1 for every entry when the attention pools exactly like the mean -- over the
entries of histories with at least two entries; recorded as the standard
deviation of that ratio (metric `attention_spread:<field>`, split "test").
0 = DIN is the paper's model; 0.5 = weights typically 50% off the mean's.
A model without attention records nothing.
"""
from __future__ import annotations

import torch

from onepoch.train.callbacks import Callback


class AttentionSpreadProbe(Callback):
    def __init__(self, rows: int = 2000, seed: int = 12345):
        self.rows, self.seed = rows, seed
        self.cache_key = f"attention_spread(v1,rows={rows},seed={seed})"
        self.sample = None

    def on_evaluate(self, state) -> None:
        model = state.model
        if not hasattr(model, "attend"):
            return
        test = next(s for s in state.eval_sets if s.name == "test")
        if self.sample is None:  # own generator: the loop's random streams are untouched
            g = torch.Generator().manual_seed(self.seed)
            self.sample = test.ids[torch.randperm(len(test.ids), generator=g)[: self.rows]]
        layout = model.embedding.layout
        with torch.no_grad():
            bags = layout.bags(self.sample)
            for hist, rows, _, weights in model.attend(bags, model.embedding(bags)):
                length = torch.zeros(bags.rows).index_add(0, rows, torch.ones_like(weights))[rows]
                ratio = (weights * length)[length > 1]
                if len(ratio) > 1:
                    state.record("test", f"attention_spread:{layout.names[hist]}", ratio.std().item())
