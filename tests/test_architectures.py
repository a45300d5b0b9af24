"""The architectures chapter's statistics and verdict rules, on small hand-made tables."""
import numpy as np
import pandas as pd
import pytest

from onepoch import architectures as arch
from onepoch import paired


def test_interval_is_the_student_t_interval_of_the_mean():
    mean, low, high, n = paired.interval([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert high - mean == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)  # t(0.975, 2) * s / sqrt(n)
    assert np.isnan(paired.interval([1.0])[1])


@pytest.mark.parametrize("low, high, verdict", [(0.001, 0.01, "positive"), (-0.001, 0.0015, "within margin"),
                                                (-0.01, -0.003, "negative"), (-0.001, 0.01, "inconclusive"),
                                                (np.nan, np.nan, "inconclusive")])
def test_judge(low, high, verdict):
    assert paired.judge(low, high, margin=0.002) == verdict


def test_paired_differences_match_on_seed():
    runs = pd.DataFrame({"data": ["a"] * 4, "model": ["dnn", "dnn", "fm", "fm"], "seed": [0, 1, 1, 0],
                         "drop": [0.01, 0.02, 0.5, 0.1]})
    diff = paired.paired_differences(runs, ["data"], "model", "dnn", "drop").sort_values("seed")
    assert diff.difference.tolist() == pytest.approx([0.09, 0.48])


def effects(rows):
    return pd.DataFrame([dict(data=d, model=m, boundary=1, mean=0.0, low=lo, high=hi, seeds=3,
                              verdict=paired.judge(lo, hi, arch.MARGIN)) for d, m, lo, hi in rows])


def test_structural_hypothesis_agrees_fails_or_is_not_testable():
    holds = effects([("a", "dnn", 0.01, 0.03), ("a", "fm", -0.001, 0.001), ("a", "lr", -0.01, -0.005)])
    assert arch.structural_verdict(holds)[0] == "agrees"
    fails = effects([("a", "dnn", 0.01, 0.03), ("a", "fm", 0.005, 0.02), ("a", "lr", -0.001, 0.001)])
    assert arch.structural_verdict(fails)[0] == "disagrees"
    unclear = effects([("a", "dnn", 0.01, 0.03), ("a", "fm", -0.001, 0.01), ("a", "lr", -0.001, 0.001)])
    assert arch.structural_verdict(unclear)[0] == "inconclusive"
    untestable = effects([("a", "dnn", -0.01, 0.03), ("a", "fm", -0.001, 0.001), ("a", "lr", -0.001, 0.001)])
    assert arch.structural_verdict(untestable)[0] == "not testable"
    # a data set without the phenomenon does not count against a data set that holds
    assert arch.structural_verdict(pd.concat([holds, untestable.assign(data="b")]))[0] == "agrees"


def test_c14_needs_the_mlp_arm_to_drop_and_the_embedding_arm_not_to():
    ft = pd.DataFrame([dict(data="a", model="dnn", finetune=f, mean=0.0, low=lo, high=hi,
                            verdict=paired.judge(lo, hi, arch.MARGIN))
                       for f, lo, hi in [("mlp", 0.01, 0.02), ("embedding", -0.001, 0.001)]])
    assert arch.c14_verdict(ft)[0] == "agrees"
    ft.loc[ft.finetune == "embedding", ["low", "high", "verdict"]] = [0.01, 0.02, "positive"]
    assert arch.c14_verdict(ft)[0] == "disagrees"
