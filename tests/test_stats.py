"""onepoch.analysis.stats: intervals that cover, and every rule able to return every verdict."""
import math

import numpy as np
import pytest

from onepoch.analysis import rules, stats
from onepoch.analysis.stats import Verdict


def binomial_floor(p: float, n: int, sds: float = 3.0) -> float:
    """The lowest coverage count consistent with nominal coverage p over n replications (3 sd)."""
    return n * p - sds * math.sqrt(n * p * (1 - p))


def test_seed_effect_is_the_t_interval_over_seeds():
    e = stats.seed_effect([1.0, 2.0, 3.0])
    assert e.estimate == 2.0 and e.n_seeds == 3
    assert e.high - 2.0 == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)  # t(2, .975) x sd / sqrt(n)
    one = stats.seed_effect([0.5, float("nan")])
    assert one.estimate == 0.5 and math.isnan(one.low) and one.n_seeds == 1
    assert stats.directional(one.ci, 0.0) == Verdict.INCONCLUSIVE  # one seed: no interval, no verdict


def test_paired_effect_aligns_seeds():
    import pandas as pd

    a = pd.Series([0.70, 0.71, 0.72], index=[0, 1, 2])
    b = pd.Series([0.69, 0.70, 0.705], index=[2, 0, 1])  # other order
    e = stats.paired_effect(a, b)
    assert e.values == pytest.approx((0.0, 0.005, 0.03))
    with pytest.raises(ValueError, match="one value per seed"):
        stats.paired_effect([1, 2], [1, 2, 3])


def test_seed_t_interval_covers_a_known_effect_at_the_nominal_rate():
    rng = np.random.default_rng(1)
    n, hits = 400, 0
    for _ in range(n):
        e = stats.seed_effect(0.01 + 0.004 * rng.standard_normal(4))
        hits += e.low < 0.01 < e.high
    assert hits >= binomial_floor(0.95, n) and hits <= n  # and not trivially wide:
    assert stats.seed_effect(0.01 + 0.004 * rng.standard_normal(4)).high - 0.01 < 0.03


@pytest.mark.parametrize("shared", [False, True])
def test_bootstrap_over_seeds_and_users_covers_a_known_effect(shared):
    """Each seed's effect is its test users' mean; seeds differ (training noise) and users differ
    (test-set sampling): the interval must cover the true mean at ~95% (200 replications)."""
    rng = np.random.default_rng(7)
    true, seeds, users, n, hits = 0.02, 6, 150, 200, 0
    for _ in range(n):
        user_effect = rng.normal(0, 0.05, users)  # shared test users: the same for every seed
        per_user = []
        for _ in range(seeds):
            own = user_effect if shared else rng.normal(0, 0.05, users)
            per_user.append(true + rng.normal(0, 0.004) + own + rng.normal(0, 0.02, users))
        e = stats.user_bootstrap_effect(per_user, shared_users=shared, n_boot=300, seed=int(rng.integers(1 << 30)))
        hits += e.low < true < e.high
    assert hits >= binomial_floor(0.95, n), f"coverage {hits / n:.3f}"
    assert hits <= n - 1 or shared  # nested: not trivially wide


def test_shared_users_bootstrap_keeps_the_test_set_error_the_seed_spread_misses():
    rng = np.random.default_rng(3)
    user_effect = rng.normal(0, 0.05, 200)
    per_user = [0.01 + user_effect + rng.normal(0, 0.001, 200) for _ in range(5)]
    seeds_only = stats.seed_effect([x.mean() for x in per_user])
    both = stats.user_bootstrap_effect(per_user, shared_users=True, n_boot=500)
    assert both.se > 5 * seeds_only.se  # the shared test set's error is ~0.05 / sqrt(200)
    assert both.se == pytest.approx(0.05 / math.sqrt(200), rel=0.3)


def test_auc_user_contributions_average_to_the_auc_and_carry_its_error():
    from onepoch.metrics import auc

    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(500), 2)
    labels = np.tile([1, 0], 500)
    scores = rng.normal(labels * 0.8, 1.0)
    keys, contrib = stats.auc_user_contributions(labels, scores, users)
    assert len(keys) == 500 and contrib.mean() == pytest.approx(auc(labels.astype(bool), scores))
    # the DeLong variance of the AUC, here by users: Hanley-McNeil gives about the same for this design
    a = contrib.mean()
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    hanley = math.sqrt((a * (1 - a) + 499 * (q1 - a * a) + 499 * (q2 - a * a)) / (500 * 500))
    assert contrib.std(ddof=1) / math.sqrt(500) == pytest.approx(hanley, rel=0.25)


def test_pooled_is_inverse_variance_weighted():
    a = stats.Effect(1.0, 0.0, 2.0, 5, "x", se=1.0, df=4)
    b = stats.Effect(4.0, 3.0, 5.0, 5, "x", se=2.0, df=4)
    p = stats.pooled([a, b])
    assert p.estimate == pytest.approx((1.0 / 1 + 4.0 / 4) / (1 + 1 / 4))  # 1.6
    assert p.se == pytest.approx(1 / math.sqrt(1.25)) and p.df == 8 and p.n_seeds == 10
    assert p.low < 1.6 < p.high
    assert math.isnan(stats.pooled([stats.seed_effect([1.0])]).estimate)


# -- every rule can return every verdict -------------------------------------------------

@pytest.mark.parametrize("ci, verdict", [((0.01, 0.02), "agrees"), ((-0.02, 0.001), "disagrees"),
                                         ((0.0, 0.01), "inconclusive"), ((float("nan"),) * 2, "inconclusive")])
def test_directional(ci, verdict):
    assert stats.directional(ci, rules.MIN_EFFECT) == verdict


@pytest.mark.parametrize("ci, verdict", [((-0.01, 0.001), "agrees"), ((0.003, 0.02), "disagrees"),
                                         ((-0.01, 0.01), "inconclusive")])
def test_at_most(ci, verdict):
    assert stats.at_most(ci, rules.NO_EFFECT_MARGIN) == verdict


@pytest.mark.parametrize("ci, verdict", [((-0.004, 0.004), "agrees"), ((0.006, 0.01), "disagrees"),
                                         ((-0.02, -0.006), "disagrees"), ((-0.001, 0.008), "inconclusive")])
def test_equivalence(ci, verdict):
    assert stats.equivalence(ci, rules.EQUIVALENCE_MARGIN) == verdict


def test_precondition_says_why_a_claim_is_not_testable():
    assert "does not learn" in stats.precondition(epoch1_auc=0.52)
    assert stats.precondition(epoch1_auc=rules.AUC_FLOOR + 0.1) is None
    assert "no drop" in stats.precondition(epoch1_auc=0.7, baseline_drop=Verdict.INCONCLUSIVE)
    assert stats.precondition(baseline_drop="agrees") is None


@pytest.mark.parametrize("parts, verdict", [
    (["agrees", "agrees", "not testable"], "agrees"), (["agrees", "disagrees"], "disagrees"),
    (["agrees", "inconclusive"], "inconclusive"), (["not testable"], "not testable"), ([], "not testable")])
def test_all_of(parts, verdict):
    assert stats.all_of(parts) == verdict


def test_placebo_z_compares_the_boundary_with_drops_inside_epochs():
    epochs = np.arange(0, 21) / 10  # 10 evaluations per epoch, 2 epochs
    rng = np.random.default_rng(0)
    calm = 0.7 + 0.001 * rng.standard_normal(21)
    sharp = calm.copy()
    sharp[11:] -= 0.02  # a step down right after the boundary (epoch 1.0 -> 1.1)
    z_sharp, pct = stats.placebo_z(epochs, sharp)
    z_calm, _ = stats.placebo_z(epochs, calm)
    assert z_sharp > 5 and pct == 1.0 and abs(z_calm) < 3
    coarse = np.array([0, 0.25, 0.5, 0.75, 1.0, 1.25])  # two placebo intervals (epoch 1's second half): too few
    assert math.isnan(stats.placebo_z(coarse, 0.7 - 0.01 * coarse)[0])


def test_every_rule_is_stated():
    for rule in ("drop", "sharp", "no-drop", "C2-gain", "every-setting", "keeps-drop", "equivalence"):
        assert rules.RULES[rule]


def test_popularity_auc_counts_item_occurrences_in_training():
    import torch
    from types import SimpleNamespace

    from onepoch.analysis.baselines import popularity_auc

    train = {"item_id": torch.tensor([2, 2, 3, 4]), "hist_item_ids": torch.tensor([[2, 0], [3, 3], [0, 0], [1, 0]])}
    # counts: item 2 -> 3, item 3 -> 3, item 4 -> 1, unseen (1) -> 0
    test = {"item_id": torch.tensor([4, 2, 1, 3]), "label": torch.tensor([1, 0, 1, 0])}
    data = SimpleNamespace(train=train, test=test)
    assert popularity_auc(data) == 0.0  # every positive is rarer than every negative
    assert popularity_auc(data, fields=("item_id",)) == 0.125  # targets only: 4 and 3 tie (one each)
    flipped = SimpleNamespace(train=train, test={**test, "label": torch.tensor([0, 1, 0, 1])})
    assert popularity_auc(flipped) == 1.0


def test_one_seed_bootstrap_resamples_its_test_users():
    rng = np.random.default_rng(5)
    users = 0.7 + rng.normal(0, 0.1, 400)
    e = stats.user_bootstrap_effect([users], n_boot=1000)
    assert e.n_seeds == 1 and "one seed" in e.method
    assert e.se == pytest.approx(0.1 / math.sqrt(400), rel=0.2) and e.low < users.mean() < e.high
