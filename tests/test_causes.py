"""onepoch.analysis.causes: per-seed jumps and drops around a boundary, and the control verdicts."""
import numpy as np
import pandas as pd
import pytest

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


def _jumps(jump_by_seed, split):
    rows = []
    for seed, jump in jump_by_seed.items():
        for step, epoch in enumerate(np.arange(0, 2.01, 0.25)):
            rows.append(dict(step=step, epoch=epoch, split=split, metric="a_distance", seed=seed, dataset="d",
                             value=0.3 + (jump if epoch > 1 else 0.0)))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("jumps, verdict, flat", [
    ({s: 0.3 + 0.01 * s for s in range(4)}, "agrees", "disagrees"),
    ({s: 0.001 * s for s in range(4)}, "disagrees", "agrees"),
    ({s: (-1) ** s * 0.2 for s in range(4)}, "inconclusive", "inconclusive")])
def test_a_distance_jump_rule_every_verdict(jumps, verdict, flat):
    """Rule 'causes-a-jump': the interval against rules.CAUSES_A_JUMP (0.05), unchanged from issue 13."""
    from onepoch.analysis import rules
    assert causes.A_JUMP == rules.CAUSES_A_JUMP == 0.05 and causes.UPDATE_RATIO == rules.UPDATE_RATIO == 1.2
    table = causes.a_distance_jumps(pd.concat([_jumps(jumps, "incoming"), _jumps(jumps, "test")]), ["dataset"])
    assert set(map(str, table.jumps)) == {verdict} and set(map(str, table.flat)) == {flat}


def test_update_ratio_rule_can_be_inconclusive():
    rows = []
    for seed in range(3):
        for step in range(1, 201):
            jump = (1.0 + 0.4 * (-1) ** seed) if step > 100 else 1.0  # ratio 1.4, 0.6, 1.4: straddles 1.2
            rows.append(dict(step=step, epoch=step / 100, split="train", metric="update_mean:fc1", value=1e-4 * jump,
                             seed=seed, dataset="d"))
    table = causes.update_ratios(pd.DataFrame(rows), ["dataset"], window=20)
    assert str(table.jumps.iloc[0]) == "inconclusive"


def test_removes_drop_is_inconclusive_where_the_control_neither_drops_nor_stays_flat():
    plain = curves({s: 0.03 for s in range(4)})
    unsure = curves({s: 0.004 + (-1) ** s * 0.01 for s in range(4)}, control="unsure")
    table = causes.control_effects(pd.concat([plain, unsure]), ["dataset"], "control", plain="plain")
    row = {r["control"]: r for _, r in table.iterrows()}
    assert causes.removes_drop(row["unsure"], row["plain"]) == Verdict.INCONCLUSIVE


def test_every_rule_a_chapter_records_is_stated_with_its_claim():
    """Rule ids the chapters and modules record are in rules.RULES; the claims beyond the paper in CLAIMS."""
    from onepoch.analysis import rules
    from onepoch.analysis.claim_texts import CLAIMS
    for rule in ("causes-a-jump", "causes-update-ratio", "fresh-pass", "keeps-drop", "structural", "no-influence"):
        assert rules.RULES[rule]
    for claim in ("C3b", "C16a", "C16b", "C16c", "C16d"):
        assert CLAIMS[claim]
    assert str(rules.CAUSES_A_JUMP) in rules.RULES["causes-a-jump"]
