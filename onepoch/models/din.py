"""The paper's model with DIN's target attention (Zhou et al., KDD 2018).

Instead of the mean over a history field's entries, each entry k gets a score
a(q, k) from an attention unit (`AttentionUnit`) against the target q -- the
item ID's embedding for `hist_item_ids`, the category's for `hist_cat_ids` --
and the field's vector is the softmax-weighted sum of its entries (the
normalised form of DIEN's released `din_attention`; with equal scores it is
exactly the mean, i.e. the paper's model). Padding entries take no part; an
empty history gives a zero vector, as mean pooling does. Everything else is
the paper's model: the other fields mean-pooled, concatenated, the paper's MLP.
A history field whose target field is not among the run's fields stays
mean-pooled.

Fine-tuning groups: the embedding table, and the rest (attention units and MLP).
"""
from __future__ import annotations

import torch
from torch import nn

from onepoch.models.fields import Bags, FieldLayout
from onepoch.models.layers import AttentionUnit, EmbeddingSplit, paper_parts, paper_settings, segment_softmax

TARGETS = {"hist_item_ids": "item_id", "hist_cat_ids": "cat_id"}  # history field -> its target field


class DIN(EmbeddingSplit, nn.Module):
    def __init__(self, vocab_size: int, layout: FieldLayout, **settings):
        super().__init__()
        self.embedding, self.mlp = paper_parts(vocab_size, layout, **settings)
        names = layout.names
        self.pairs = [(names.index(h), names.index(t)) for h, t in TARGETS.items() if h in names and t in names]
        self.attention = nn.ModuleList(AttentionUnit(self.embedding.dim) for _ in self.pairs)

    def forward(self, ids) -> torch.Tensor:
        bags = ids if isinstance(ids, Bags) else self.embedding.layout.bags(ids)
        return self.mlp(self.pooled(bags).flatten(1)).squeeze(-1)

    def pooled(self, bags: Bags) -> torch.Tensor:
        """(B, F, d): history fields attention-pooled, the others mean-pooled."""
        v = self.embedding(bags)
        columns = list(v.unbind(dim=1))
        for hist, rows, keys, weights in self.attend(bags, v):
            columns[hist] = torch.zeros_like(columns[hist]).index_add(0, rows, weights[:, None] * keys)
        return torch.stack(columns, dim=1)

    def attend(self, bags: Bags, v: torch.Tensor):
        """Per attended history field: (its column, each entry's row, the entries' embeddings, their
        weights), the weights summing to 1 within a row. `v`: the mean-pooled fields (B, F, d)."""
        if not self.pairs:
            return
        n_fields = len(self.embedding.layout.names)
        counts = torch.diff(bags.offsets, append=torch.tensor([len(bags.ids)]))
        bag = torch.repeat_interleave(torch.arange(len(bags.offsets)), counts)  # the bag of every id
        for (hist, target), unit in zip(self.pairs, self.attention):
            entries = (bag % n_fields == hist).nonzero().squeeze(1)
            rows = bag[entries] // n_fields
            keys = self.embedding.table(bags.ids[entries])
            yield hist, rows, keys, segment_softmax(unit(v[rows, target], keys), rows, bags.rows)

def build(config, vocab_size: int, layout: FieldLayout) -> DIN:
    return DIN(vocab_size, layout, **paper_settings(config))
