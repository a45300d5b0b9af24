"""The embedding layer shared by every model: one table, fields pooled.

As in the paper's code, ONE embedding table serves all fields (user, item,
category and the history fields share the global vocabulary). The feature
fields arrive packed side by side in one integer matrix (one column per
single-valued field, `L` columns per history field) so a training step
gathers a batch with a single `index_select`. History fields are
mean-pooled over their non-padding entries: padding ids are dropped before
the lookup, so the result does not depend on what the padding row holds (a
re-initialised table need not keep it at zero).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F
from torch import nn

from onepoch.data import registry as _registry

SEQUENCE_FIELDS = ("hist_item_ids", "hist_cat_ids")
# the paper's five fields: one case of "any set of fields" (a tabular data set's fields are its columns)
PAPER_FIELDS = _registry.PAPER_FIELDS


def resolve_fields(fields, data) -> tuple[str, ...]:
    """The fields a run feeds the model: `fields` as asked, except that the default (the paper's five)
    on data that has other fields (a tabular data set) means all of the data's own fields."""
    fields = tuple(fields)
    own = tuple(getattr(data, "fields", fields))
    if fields == PAPER_FIELDS and own != PAPER_FIELDS and not set(fields) <= set(data.train):
        return own
    missing = [f for f in fields if f not in data.train]
    if missing:
        raise ValueError(f"field(s) {missing} are not in data set {getattr(data, 'name', '?')!r}; "
                         f"its fields: {', '.join(own)}")
    return fields


@dataclass(frozen=True)
class FieldLayout:
    """Which columns of the packed id matrix belong to which field."""

    names: tuple[str, ...]
    widths: tuple[int, ...]  # 1 for a single id, L for a history field

    @property
    def width(self) -> int:
        return sum(self.widths)

    def spans(self):
        start = 0
        for name, w in zip(self.names, self.widths):
            yield name, start, w
            start += w

    @classmethod
    def of(cls, tensors: dict, fields) -> "FieldLayout":
        widths = tuple(1 if tensors[f].dim() == 1 else tensors[f].shape[1] for f in fields)
        return cls(tuple(fields), widths)

    def pack(self, tensors: dict) -> torch.Tensor:
        """Stack the fields' ids into one (N, width) int64 matrix."""
        cols = [tensors[f].reshape(len(tensors[f]), -1) for f in self.names]
        return torch.cat(cols, dim=1).contiguous()

    @cached_property
    def _ends(self) -> torch.Tensor:
        return torch.tensor([start + width - 1 for _, start, width in self.spans()])

    def bags(self, ids: torch.Tensor) -> "Bags":
        """The pooling input of packed ids: each (row, field) is a bag of its non-zero ids."""
        present = ids != 0
        upto = present.cumsum(dim=1).index_select(1, self._ends)  # non-zero ids up to each field's end
        counts = torch.diff(upto, dim=1, prepend=torch.zeros_like(upto[:, :1])).flatten()
        return Bags(ids[present], counts.cumsum(0) - counts, len(ids))


@dataclass(frozen=True)
class Bags:
    """Packed ids prepared for pooling: the non-zero ids of all (row, field)
    bags back to back, and where each bag starts. Evaluation prepares these
    once per evaluation set; a training batch is prepared in its step."""

    ids: torch.Tensor  # (number of non-zero ids,)
    offsets: torch.Tensor  # (rows * fields,)
    rows: int

    def __len__(self) -> int:
        return self.rows


def init_embedding(weight: torch.Tensor, scheme: str, std: float, generator=None) -> None:
    """Initialise an embedding table in place.

    "glorot" is TF1's default initializer, which the original code's
    `tf.get_variable` used: uniform in +-sqrt(6 / (rows + dim)). With a
    vocabulary of ~1e5 rows that is ~0.01: embeddings start almost at zero.
    "normal" draws N(0, std^2).
    """
    with torch.no_grad():
        if scheme == "glorot":
            limit = math.sqrt(6.0 / (weight.shape[0] + weight.shape[1]))
            weight.uniform_(-limit, limit, generator=generator)
        elif scheme == "normal":
            weight.normal_(0.0, std, generator=generator)
        else:
            raise ValueError(f"unknown embedding initialisation {scheme!r}; choose glorot or normal")


class FieldEmbedding(nn.Module):
    """ids (B, width) -> pooled field vectors (B, n_fields, dim)."""

    def __init__(self, vocab_size: int, dim: int, layout: FieldLayout, init: str = "glorot", init_std: float = 0.01):
        super().__init__()
        self.layout = layout
        self.dim = dim
        self.table = nn.Embedding(vocab_size, dim)
        self.init, self.init_std = init, init_std
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        init_embedding(self.table.weight, self.init, self.init_std, generator)

    def forward(self, ids: "torch.Tensor | Bags") -> torch.Tensor:
        # One embedding_bag call pools every field of every row: each (row,
        # field) is a bag of its non-zero ids, mean-pooled (an empty bag gives
        # a zero vector). One call means one dense gradient for the table per
        # step instead of one per field, and padding is never looked up.
        bags = ids if isinstance(ids, Bags) else self.layout.bags(ids)
        pooled = F.embedding_bag(bags.ids, self.table.weight, bags.offsets, mode="mean", sparse=self.table.sparse)
        return pooled.view(bags.rows, len(self.layout.names), self.dim)
