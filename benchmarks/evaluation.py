"""One evaluation (a 30,000-row training sample + a 30,000-row test set) and its parts,
the current code against the previous metrics, interleaved.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/evaluation.py [--repeats 5]

Parts: pooling (`embedding_bag` over the prepared bags), the MLP (1,024-row
pieces), the MLP's three matrix products alone (the arithmetic no fp32
evaluation can skip: the floor under any fusion of Dice), the metrics (AUC, log loss, GAUC) with `SplitMetrics` (one integer
sort per AUC) and with the general functions it replaced (argsort + lexsort).
Also: how many rows share their history with another row of the same split
(what pooling reuse could save). Every variant is checked to give the same
bits. Writes results/evaluation.json.
"""
from __future__ import annotations

import argparse

import torch

from common import interleaved, median, one_thread, paper_model, write_result

import targets


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    one_thread()
    from onepoch.metrics import auc, logloss, user_weighted_auc
    from onepoch.train.evaluate import EvalSet, predict, train_sample_index

    d, cfg, layout, model = paper_model(seed=0)
    packed = layout.pack(d.train)
    s = train_sample_index(len(packed), 30_000)
    sets = [EvalSet("train", packed[s], d.train["label"][s], d.train["user_raw"][s], layout),
            EvalSet("test", layout.pack(d.test), d.test["label"], d.test["user_raw"], layout)]

    def general(e, p):
        return {"auc": auc(e.labels, p), "logloss": logloss(e.labels, p), "gauc": user_weighted_auc(e.labels, p, e.users)}

    probs = [predict(model, e.inputs()) for e in sets]
    assert all(e.scores(model) == general(e, p) for e, p in zip(sets, probs)), "metrics differ"
    model.eval()
    with torch.inference_mode():
        pooled = [model.embedding(b).flatten(1) for e in sets for b in e.inputs()]
    model.train()

    def pooling():
        with torch.inference_mode():
            for e in sets:
                for b in e.inputs():
                    model.embedding(b)

    def mlp():
        model.eval()
        with torch.inference_mode():
            for x in pooled:
                model.mlp(x)
        model.train()

    linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
    inputs = []  # each Linear's input in every piece, so the products are timed on the real activations
    model.eval()
    with torch.inference_mode():
        for x in pooled:
            for m in model.mlp:
                if isinstance(m, torch.nn.Linear):
                    inputs.append((m, x))
                x = m(x)
    model.train()

    def matrix_products():
        with torch.inference_mode():
            for m, x in inputs:
                m(x)

    parts = {
        "evaluation": lambda: [e.scores(model) for e in sets],
        "evaluation_previous_metrics": lambda: [general(e, predict(model, e.inputs())) for e in sets],
        "pooling": pooling,
        "mlp": mlp,
        "mlp_matrix_products": matrix_products,
        "metrics": lambda: [e.metrics.scores(p) for e, p in zip(sets, probs)],
        "metrics_previous": lambda: [general(e, p) for e, p in zip(sets, probs)],
    }
    ms, load = interleaved(parts, args.repeats)
    shared = {e.name: 1 - len(torch.unique(e.ids[:, 3:], dim=0)) / len(e.ids) for e in sets}
    out = {
        "rows": sum(len(e.labels) for e in sets), "load_average": load, "repeats": args.repeats,
        "targets": {"eval_ms_idle": targets.EVAL_MS_IDLE},
        "ms": {k: median(v) for k, v in ms.items()}, "ms_all": ms,
        "ratio_new_to_previous": {
            "evaluation": median([a / b for a, b in zip(ms["evaluation"], ms["evaluation_previous_metrics"])]),
            "metrics": median([a / b for a, b in zip(ms["metrics"], ms["metrics_previous"])])},
        "rows_sharing_history": shared,
        "linear_layers": [list(m.weight.shape) for m in linears],
    }
    for k, v in out["ms"].items():
        print(f"{k:28s} {v:8.1f} ms (median of {args.repeats})")
    print(f"new / previous: {out['ratio_new_to_previous']}; rows whose history another row repeats: {shared}")
    print(f"load average {load}; wrote {write_result('evaluation', out)}")


if __name__ == "__main__":
    main()
