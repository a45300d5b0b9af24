"""Per-step parameter change (paper Sec. 5.3, Fig. 16).

After every optimizer step, the update the optimizer applied, delta = theta_t - theta_{t-1}, for the
embedding table and for each fully connected layer's weight matrix, as three numbers:

- `update:<part>`: the l-infinity norm max |delta|. Under Adam it sits near the learning rate and is
  set by a few outlier weights, so it barely moves when the typical update does;
- `update_mean:<part>`: the mean absolute update, mean |delta| -- what the original code also logged,
  and what the authors' appendix plots (last layer ~0.00045 -> ~0.00124 at epoch 2);
- `update_l2:<part>`: the l2 norm ||delta||_2.

For the embedding each is taken twice: over the whole table (dense Adam moves every row at every
step) and over the rows of the IDs in the batch (`<part>` = "embedding (batch rows)", what the
paper's TensorFlow code measured). Recorded every step (split "train"). The probe reads only.
"""
from __future__ import annotations

import torch

from onepoch.train.callbacks import Callback

BATCH_ROWS = "embedding (batch rows)"


def named_parts(model) -> list[tuple[str, torch.Tensor]]:
    parts = [("embedding", model.embedding.table.weight)]
    linears = [m for m in getattr(model, "mlp", []) if isinstance(m, torch.nn.Linear)]
    parts += [(f"fc{i + 1}", m.weight) for i, m in enumerate(linears)]
    return parts


def record_update(state, part: str, delta: torch.Tensor) -> None:
    size = delta.abs()
    state.record("train", f"update:{part}", size.max().item())
    state.record("train", f"update_mean:{part}", size.mean().item())
    state.record("train", f"update_l2:{part}", torch.linalg.vector_norm(delta).item())


class ParamChangeProbe(Callback):
    cache_key = "param_change(v2: linf, mean, l2)"

    def on_train_begin(self, state) -> None:
        self.parts = named_parts(state.model)
        self.before = [p.detach().clone() for _, p in self.parts]

    def on_step_end(self, state) -> None:
        with torch.no_grad():
            for (name, p), before in zip(self.parts, self.before):
                delta = p - before
                record_update(state, name, delta)
                if name == "embedding":
                    rows = torch.unique(state.batch_ids)
                    rows = rows[rows != 0]
                    record_update(state, BATCH_ROWS, delta[rows])
                before.copy_(p)
