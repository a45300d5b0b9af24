"""Information abundance of the embedding table (Guo et al., ICML 2024, arXiv 2310.04400).

For a matrix E with singular values s_1 >= s_2 >= ..., the information
abundance is IA(E) = sum_k s_k / s_1: 1 when E has rank 1 (every row on one
line, "collapsed"), up to the embedding dimension when the rows spread
evenly over all directions. Guo et al. use it to show that embeddings of
models with feature interactions collapse into few directions.

The probe records, at each evaluation (split "train", as it describes the
parameters learned from training data):

- `abundance`: IA of the table's rows of all real IDs (global ids 2.., not
  padding 0 or the default 1);
- `abundance:<field>`: IA of the rows of the IDs that occur in that field
  of the fixed training sample the trainer evaluates on.

It reads the model only.
"""
from __future__ import annotations

import torch

from onepoch.train.callbacks import Callback


def information_abundance(matrix: torch.Tensor) -> float:
    """sum of singular values / largest singular value (nan for an all-zero or empty matrix)."""
    if matrix.numel() == 0:
        return float("nan")
    s = torch.linalg.svdvals(matrix.detach().double())
    top = float(s.max())
    return float(s.sum()) / top if top > 0 else float("nan")


class AbundanceProbe(Callback):
    """Information abundance of the embedding table at every evaluation (see the module docstring)."""

    def __init__(self, per_field: bool = True):
        self.per_field = per_field
        self.cache_key = f"abundance(per_field={per_field})"
        self._rows = None

    def _field_rows(self, state) -> dict:
        if self._rows is None:
            sample = next(s for s in state.eval_sets if s.name == "train")
            self._rows = {}
            for name, start, width in state.model.embedding.layout.spans():
                ids = torch.unique(sample.ids[:, start:start + width])
                self._rows[name] = ids[ids >= 2]
        return self._rows

    def on_evaluate(self, state) -> None:
        with torch.no_grad():
            table = state.model.embedding.table.weight
            state.record("train", "abundance", information_abundance(table[2:]))
            if self.per_field:
                for name, rows in self._field_rows(state).items():
                    state.record("train", f"abundance:{name}", information_abundance(table[rows]))
