"""bfloat16 evaluation against fp32 on a real run: is its AUC within 1e-4?

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/eval_precision.py

Trains Sports (the paper's construction, batch 128) for two epochs and, at
every evaluation (every 250 steps), predicts both evaluation sets in fp32 (the
trainer's path) and under `torch.autocast("cpu", dtype=torch.bfloat16)`;
records the AUC and GAUC differences and both times. The trainer would
evaluate in bfloat16 only if every AUC difference stayed within 1e-4.
Writes results/eval_precision.json.
"""
from __future__ import annotations

import time

import torch

from common import load_avg, one_thread, write_result

TOLERANCE = 1e-4


def main():
    one_thread()
    from onepoch.config import RunConfig
    from onepoch.metrics import auc, user_weighted_auc
    from onepoch.runs.runner import load_data
    from onepoch.train import Callback, fit
    from onepoch.train.evaluate import predict

    config = RunConfig(dataset="sports", epochs=2, eval_every=250)
    rows = []

    class Compare(Callback):
        def on_evaluate(self, state):
            for es in state.eval_sets:
                start = time.perf_counter()
                p32 = predict(state.model, es.inputs())
                t32 = time.perf_counter() - start
                state.model.eval()
                start = time.perf_counter()
                with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                    logits = torch.cat([state.model(x) for x in es.inputs()]).float()
                t16 = time.perf_counter() - start
                state.model.train()
                p16 = torch.sigmoid(logits).numpy()
                rows.append({"step": state.step, "split": es.name, "ms_fp32": 1e3 * t32, "ms_bf16": 1e3 * t16,
                             "auc_diff": float(auc(es.labels, p16) - auc(es.labels, p32)),
                             "gauc_diff": float(user_weighted_auc(es.labels, p16, es.users)
                                                - user_weighted_auc(es.labels, p32, es.users))})
                print(rows[-1], flush=True)

    load = [load_avg()]
    fit(config, load_data(config), callbacks=[Compare()], progress=False)
    load.append(load_avg())
    worst = max(abs(r["auc_diff"]) for r in rows)
    out = {"config": {"dataset": "sports", "epochs": 2, "eval_every": 250}, "tolerance": TOLERANCE,
           "max_abs_auc_diff": worst, "max_abs_gauc_diff": max(abs(r["gauc_diff"]) for r in rows),
           "within_tolerance": worst <= TOLERANCE, "evaluations": rows, "load_average": load}
    print(f"max |AUC bf16 - fp32| = {worst:.1e} (tolerance {TOLERANCE}): "
          f"{'within' if worst <= TOLERANCE else 'NOT within'}; wrote {write_result('eval_precision', out)}")


if __name__ == "__main__":
    main()
