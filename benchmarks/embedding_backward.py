"""The embedding-bag backward at batch 128, and what torch offers instead of it.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/embedding_backward.py [--repeats 3]

The trainer pools every field with one `F.embedding_bag(mode="mean")`; its
backward writes the dense gradient of the table (~45% of a training step).
Alternatives, each on the same 200 batches of Sports (all-positions) with the
same output gradients, interleaved:

- `mode="sum"` with `per_sample_weights` = 1 / bag size;
- `sparse=True` (a sparse gradient; fused dense Adam then needs it dense);
- a scatter-add (`index_add_`) of the scaled output gradients.

The trainer may use one only if its gradient has the same bits as the
current path's (cached results stay valid, same seed same curves). Writes
results/embedding_backward.json: ms per step and whether the gradient matches.
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from common import interleaved, median, one_thread, paper_data, write_result

STEPS = 200


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    one_thread()
    from onepoch.config import RunConfig
    from onepoch.models import FieldLayout

    d = paper_data(train_samples=128 * STEPS)
    layout = FieldLayout.of(d.train, RunConfig().fields)
    ids = layout.pack(d.train)
    torch.manual_seed(0)
    table = torch.nn.Parameter(torch.randn(d.vocab_size, 8) * 0.01)
    batches = [layout.bags(ids[i * 128:(i + 1) * 128]) for i in range(STEPS)]
    grads = [torch.randn(128 * len(layout.names), 8) for _ in range(STEPS)]

    def sizes(b):
        return torch.diff(b.offsets, append=torch.tensor([len(b.ids)]))

    def mean_dense():  # the trainer's path
        for b, g in zip(batches, grads):
            table.grad = None
            F.embedding_bag(b.ids, table, b.offsets, mode="mean").backward(g)
        return table.grad

    def sum_weighted():
        for b, g in zip(batches, grads):
            table.grad = None
            n = sizes(b)
            w = (1.0 / n.clamp(min=1).float()).repeat_interleave(n)
            F.embedding_bag(b.ids, table, b.offsets, mode="sum", per_sample_weights=w).backward(g)
        return table.grad

    def sparse_then_dense():
        for b, g in zip(batches, grads):
            table.grad = None
            F.embedding_bag(b.ids, table, b.offsets, mode="mean", sparse=True).backward(g)
            dense = table.grad.to_dense()
        return dense

    def scatter_add():
        for b, g in zip(batches, grads):
            n = sizes(b)
            bag = torch.arange(len(n)).repeat_interleave(n)
            scaled = g * (1.0 / n.clamp(min=1).float()).unsqueeze(1)
            grad = torch.zeros_like(table).index_add_(0, b.ids, scaled.index_select(0, bag))
        return grad

    variants = {"embedding_bag_mean (trainer)": mean_dense, "sum_per_sample_weights": sum_weighted,
                "sparse_gradient_to_dense": sparse_then_dense, "index_add_scatter": scatter_add}
    ref = mean_dense().clone()
    same = {}
    for name, f in variants.items():
        g = f()
        same[name] = {"same_bits": bool(torch.equal(g, ref)), "max_abs_diff": float((g - ref).abs().max()),
                      "entries_differing": int((g != ref).sum())}
    ms, load = interleaved(variants, args.repeats, per=STEPS)
    base = ms["embedding_bag_mean (trainer)"]
    out = {"steps": STEPS, "batch_size": 128, "load_average": load, "repeats": args.repeats,
           "ms_per_step": {k: median(v) for k, v in ms.items()}, "ms_all": ms,
           "ratio_to_trainer": {k: median([a / b for a, b in zip(v, base)]) for k, v in ms.items()},
           "gradient": same}
    for k in variants:
        print(f"{k:30s} {out['ms_per_step'][k]:6.2f} ms/step  {out['ratio_to_trainer'][k]:.2f}x the trainer's time  "
              f"same bits: {same[k]['same_bits']} (max diff {same[k]['max_abs_diff']:.1e})")
    print(f"load average {load}; wrote {write_result('embedding_backward', out)}")


if __name__ == "__main__":
    main()
