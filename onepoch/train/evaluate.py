"""Evaluation at the paper's cadence: whole test set + a fixed training sample.

Speed: the evaluation sets never change, so each is prepared once: rows
sorted by history length and cut into chunks whose pooling input (`Bags`)
is built once; an evaluation is then one `embedding_bag` and the MLP per
chunk. Chunks are small (`EVAL_CHUNK` rows) so the MLP's activations stay
in the CPU cache. Neither the order nor the chunking changes a prediction:
in evaluation mode a row's output depends on that row only, and the test
suite checks that predictions are bit-identical for any chunk size.
"""
from __future__ import annotations

import numpy as np
import torch

from onepoch.metrics import SplitMetrics

EVAL_CHUNK = 1024  # rows per forward pass at evaluation
SEGMENT = 32_768  # the chunk size of earlier versions; see `_chunks`


def _chunks(ids: torch.Tensor, chunk: int) -> list[torch.Tensor]:
    """Rows cut into pieces of `chunk` rows within segments of `SEGMENT` rows,
    the remainder of a segment joining its last full piece.

    A row's prediction can depend on the size of the matrix product it is
    part of, in its last bits: the BLAS kernels treat a few trailing rows of
    a product, and products of 1-3 rows, differently. With `chunk` dividing
    `SEGMENT` and no sliver left over, every row is computed exactly as when
    evaluation ran in chunks of `SEGMENT` rows, so results stay bit-identical
    with earlier versions (tests/test_evaluate_speed.py checks this).
    """
    if chunk >= SEGMENT or SEGMENT % chunk:
        return [ids[i : i + chunk] for i in range(0, len(ids), chunk)]
    parts = []
    for seg in range(0, len(ids), SEGMENT):
        end = min(seg + SEGMENT, len(ids))
        starts = list(range(seg, end, chunk))
        if len(starts) > 1 and end - starts[-1] < chunk:
            starts.pop()  # the remainder joins the previous piece
        parts += [ids[a:b] for a, b in zip(starts, [*starts[1:], end])]
    return parts


def predict(model: torch.nn.Module, ids, chunk: int | None = None) -> np.ndarray:
    """Probabilities for every row of `ids` (a tensor of packed ids, or a list
    of prepared chunks), in evaluation mode (running stats, no dropout)."""
    parts = _chunks(ids, chunk or EVAL_CHUNK) if isinstance(ids, torch.Tensor) else ids
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(part) for part in parts]) if parts else torch.zeros(0)
    model.train(was_training)
    return torch.sigmoid(logits).numpy()


class EvalSet:
    """One split to evaluate: packed ids, labels and user keys, held as arrays.

    With the model's `layout` (a FieldLayout) the pooling input of every
    chunk is prepared once, here, instead of at every evaluation.
    """

    def __init__(self, name: str, ids: torch.Tensor, labels: torch.Tensor, users: torch.Tensor, layout=None):
        self.name = name
        # Rows sorted by history length, so each evaluation chunk pools only
        # as many ids as its rows hold.
        self.order = torch.argsort((ids != 0).sum(dim=1), stable=True)
        self.ids = ids[self.order]
        self.labels = labels[self.order].numpy().astype(bool)
        self.users = users[self.order].numpy()
        self.metrics = SplitMetrics(self.labels, self.users)  # what depends on labels and users, once
        self.layout = layout
        self._prepared = None

    def inputs(self):
        """What `predict` takes: prepared chunks when the layout is known, else the ids."""
        if self.layout is None:
            return self.ids
        if self._prepared is None:
            self._prepared = [self.layout.bags(part) for part in _chunks(self.ids, EVAL_CHUNK)]
        return self._prepared

    def scores(self, model) -> dict[str, float]:
        return self.metrics.scores(predict(model, self.inputs()))  # metrics do not depend on row order


def train_sample_index(n: int, size: int, seed: int = 12345) -> torch.Tensor:
    """A fixed random subset of training rows, the same for every run on the same data."""
    if size >= n:
        return torch.arange(n)
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[:size].sort().values
