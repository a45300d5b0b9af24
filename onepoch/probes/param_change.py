"""Per-step parameter change (paper Sec. 5.3, Fig. 16).

After every optimizer step, the l-infinity norm of the update the optimizer
applied, ||theta_t - theta_{t-1}||_inf, for the embedding table and for each
fully connected layer's weight matrix. For the embedding two numbers: over
the whole table (dense Adam moves every row at every step) and over the rows
of the IDs in the batch (what the paper's TensorFlow code measured).
Recorded every step as metrics `update:<part>` (split "train").
"""
from __future__ import annotations

import torch

from onepoch.train.callbacks import Callback


def named_parts(model) -> list[tuple[str, torch.Tensor]]:
    parts = [("embedding", model.embedding.table.weight)]
    linears = [m for m in getattr(model, "mlp", []) if isinstance(m, torch.nn.Linear)]
    parts += [(f"fc{i + 1}", m.weight) for i, m in enumerate(linears)]
    return parts


class ParamChangeProbe(Callback):
    cache_key = "param_change(v1)"

    def on_train_begin(self, state) -> None:
        self.parts = named_parts(state.model)
        self.before = [p.detach().clone() for _, p in self.parts]

    def on_step_end(self, state) -> None:
        with torch.no_grad():
            for (name, p), before in zip(self.parts, self.before):
                delta = p - before
                state.record("train", f"update:{name}", delta.abs().max().item())
                if name == "embedding":
                    rows = torch.unique(state.batch_ids)
                    rows = rows[rows != 0]
                    state.record("train", "update:embedding (batch rows)", delta[rows].abs().max().item())
                before.copy_(p)
