"""onepoch.analysis.causes: per-seed jumps and drops around a boundary, and the control verdicts."""
import numpy as np
import pandas as pd

from onepoch.analysis import causes
from onepoch.analysis.stats import Verdict


def curves(drop_by_seed, control="plain", at=1.0, metric="auc", split="test"):
    rows = []
    for seed, drop in drop_by_seed.items():
        for step, epoch in enumerate(np.arange(0, 2.01, 0.25)):
            value = 0.7 + 0.01 * epoch - (drop if epoch > at else 0.0)
            rows.append(dict(step=step, epoch=epoch, split=split, metric=metric, value=value, seed=seed,
                             dataset="d", control=control))
    return pd.DataFrame(rows)


def test_around_finds_the_values_either_side_of_the_boundary():
    per = causes.around(curves({0: 0.02}), ["dataset"], "auc", "test")
    assert per.iloc[0]["before"] == 0.71 and np.isclose(per.iloc[0]["drop"], 0.02 - 0.0025)
    half = causes.around(curves({0: 0.02}, at=0.5), ["dataset"], "auc", "test", at=0.5)
    assert np.isclose(half.iloc[0]["before"], 0.705)


def test_a_control_that_removes_the_drop_is_told_apart_from_one_that_keeps_it():
    plain = curves({s: 0.03 + 0.001 * s for s in range(4)})
    kept = curves({s: 0.03 - 0.001 * s for s in range(4)}, control="kept")
    removed = curves({s: 0.0 + 0.0001 * s for s in range(4)}, control="removed")
    table = causes.control_effects(pd.concat([plain, kept, removed]), ["dataset"], "control", plain="plain")
    row = {r["control"]: r for _, r in table.iterrows()}
    assert str(row["plain"]["drops"]) == "agrees"
    assert causes.removes_drop(row["removed"], row["plain"]) == Verdict.AGREES
    assert causes.removes_drop(row["kept"], row["plain"]) == Verdict.DISAGREES
    # per seed s: plain drops 0.0275 + 0.001 s, removed -0.0025 + 0.0001 s (the curve rises 0.0025 an evaluation)
    assert np.isclose(row["removed"]["vs_plain"].estimate, -0.03 - 0.0009 * 1.5)
    flat = table.assign(drops="disagrees")
    assert causes.removes_drop(flat.iloc[2], flat.iloc[0]) == Verdict.NOT_TESTABLE


def test_update_ratios_see_a_jump_in_the_mean_update():
    rows = []
    for seed in range(3):
        for step in range(1, 201):
            jump = 3.0 if step > 100 else 1.0
            rows += [dict(step=step, epoch=step / 100, split="train", metric="update_mean:fc1", value=1e-4 * jump,
                          seed=seed, dataset="d"),
                     dict(step=step, epoch=step / 100, split="train", metric="update_mean:embedding", value=1e-4,
                          seed=seed, dataset="d")]
    table = causes.update_ratios(pd.DataFrame(rows), ["dataset"], window=20)
    verdict = dict(zip(table.part, map(str, table.jumps)))
    assert verdict == {"fc1": "agrees", "embedding": "disagrees"}
    assert np.isclose(table[table.part == "fc1"].effect.iloc[0].estimate, 3.0)
