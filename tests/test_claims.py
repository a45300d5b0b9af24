"""onepoch.analysis.claims / claims_beyond: rows decided by the rules, on constructed curves."""
import json

import numpy as np
import pandas as pd
import pytest

from onepoch.analysis import claims, claims_beyond, ledger, measures


@pytest.fixture(autouse=True)
def ledger_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path))
    monkeypatch.delenv("ONEPOCH_CHAPTER", raising=False)
    return tmp_path


def curve(seed, drop=0.02, level=0.70, epochs=3, per_epoch=10, noise=0.0005, later=0.0, drop_sd=0.0, **labels):
    """Test AUC evaluated `per_epoch` times an epoch: rises in the first half of epoch 1, then flat at `level`
    with small noise; at each boundary a step of -`drop` (+- `drop_sd` from seed to seed); `later` is added to
    epochs >= 2 (a gain or loss)."""
    rng = np.random.default_rng([seed, len(labels)])
    drop = drop + drop_sd * rng.standard_normal()
    e = np.arange(0, epochs * per_epoch + 1) / per_epoch
    v = level - 0.2 * np.clip(0.5 - e, 0, None) + noise * rng.standard_normal(len(e))
    v = v - drop * np.floor(e - 1e-9).clip(0, 1) + later * (e > 1 + 1e-9)
    return pd.DataFrame({"step": np.arange(len(e)), "epoch": e, "split": "test", "metric": "auc", "value": v,
                         "seed": seed, **labels})


def runs(n_seeds=5, **kw):
    return pd.concat([curve(s, **kw) for s in range(n_seeds)], ignore_index=True)


def test_per_run_numbers_hand_checked():
    r = measures.per_run(curve(0, drop=0.02, noise=0.0, dataset="a"), ["dataset"]).iloc[0]
    assert r["drop"] == pytest.approx(0.02) and r["end_1"] == pytest.approx(0.70)
    assert r["gain"] == pytest.approx(-0.02) and r["peak_in_epoch1"]


@pytest.mark.parametrize("kw, verdict", [
    (dict(drop=0.02), "agrees"),
    (dict(drop=-0.01), "disagrees"),
    (dict(drop=0.002, drop_sd=0.004, noise=0.0002), "inconclusive"),
    (dict(drop=0.02, level=0.52), "not testable"),  # the model does not learn (Yelp)
])
def test_c1_can_return_every_verdict(kw, verdict, ledger_folder):
    row = claims.record_drop("C1", runs(dataset="a", **kw), ["dataset"], "ch")
    assert row["verdict"] == verdict
    stored = json.loads((ledger_folder / "ch.json").read_text())[0]
    assert stored["rule"] == "drop+sharp" and stored["n_seeds"] in (5, None)
    if verdict != "not testable":
        assert stored["ci"][0] <= stored["effect"] <= stored["ci"][1]


def test_c1_pools_the_data_sets_and_a_non_learning_one_is_left_out():
    frame = pd.concat([runs(dataset="a", drop=0.02), runs(dataset="b", drop=0.03),
                       runs(dataset="yelp", level=0.52)], ignore_index=True)
    row = claims.record_drop("C1", frame, ["dataset"], "ch")
    assert row["verdict"] == "agrees" and 0.02 < row["effect"] < 0.03 and "pooled over 2" in row["evidence"]
    assert "yelp: not testable" in row["measured"]


def test_a_gradual_decline_is_a_drop_but_not_sharp():
    frame = runs(dataset="a", drop=0.0, noise=0.003)
    frame["value"] -= 0.004 * frame["epoch"]  # the same decline at every evaluation
    table = measures.effects(frame, ["dataset"]).iloc[0]
    assert table["sharp_verdict"] in ("disagrees", "inconclusive")


@pytest.mark.parametrize("kw, verdict", [(dict(later=-0.01), "agrees"), (dict(drop=0.0, later=0.02), "disagrees"),
                                         (dict(drop=0.0, later=0.002, noise=0.002), "inconclusive"),
                                         (dict(level=0.5), "not testable")])
def test_c2_one_rule_every_verdict(kw, verdict):
    row = claims.record_one_epoch(runs(dataset="a", **kw), ["dataset"], "ch")
    assert row["verdict"] == verdict and row["rule"] == "C2-gain"
    if verdict != "not testable":
        assert "best evaluation within epoch 1 for" in row["measured"]


def test_c3_no_drop_uses_the_margin():
    assert claims.record_drop("C3", runs(dataset="a", drop=0.0), ["dataset"], "ch", rule="no-drop")["verdict"] == "agrees"
    assert claims.record_drop("C3", runs(dataset="a", drop=0.02), ["dataset"], "ch", rule="no-drop")["verdict"] == "disagrees"


def _study(settings, frames):
    from onepoch.analysis.factors import Factor, Study
    curves = pd.concat(frames, ignore_index=True)
    return Study(Factor("emb_dim", settings), curves, None)


def test_keeps_drop_is_not_testable_where_the_baseline_does_not_drop():
    from onepoch import RunConfig
    base = RunConfig()
    settings = {"1": {"emb_dim": 1}, "8": {"emb_dim": 8}}
    drops = _study(settings, [runs(dataset="a", emb_dim="1", drop=0.02), runs(dataset="a", emb_dim="8", drop=0.02)])
    flat = _study(settings, [runs(dataset="a", emb_dim="1", drop=0.0), runs(dataset="a", emb_dim="8", drop=0.0)])
    gone = _study(settings, [runs(dataset="a", emb_dim="1", drop=0.0), runs(dataset="a", emb_dim="8", drop=0.02)])
    assert claims.record_keeps_drop("C4", [drops], base, "ch")["verdict"] == "agrees"
    assert claims.record_keeps_drop("C4", [flat], base, "ch")["verdict"] == "not testable"
    assert claims.record_keeps_drop("C4", [gone], base, "ch")["verdict"] == "disagrees"


def test_remedies_gain_is_paired_with_the_baselines_epoch_1():
    frame = pd.concat([runs(dataset="a", remedy="baseline", drop=0.02, later=-0.01),
                       runs(dataset="a", remedy="MEDA", drop=0.0, later=0.01),
                       runs(dataset="a", remedy="lazy Adam (embeddings)", drop=0.02)], ignore_index=True)
    row = claims_beyond.record_leaderboard(frame, "ch")
    assert row["verdict"] == "disagrees" and "a MEDA" in row["evidence"] and row["effect"] == pytest.approx(0.01, abs=0.002)
    assert claims_beyond.record_lazy_adam(frame, "ch")["verdict"] == "agrees"
    flat = frame.assign(value=np.where(frame.remedy == "baseline", frame.value + 0.03 * (frame.epoch > 1), frame.value))
    assert claims_beyond.record_lazy_adam(flat, "ch")["verdict"] == "not testable"


def test_every_row_carries_its_numbers():
    claims.record_drop("C1", runs(dataset="a"), ["dataset"], "ch")
    claims.record_one_epoch(runs(dataset="a"), ["dataset"], "ch")
    frame = ledger.table()
    assert set(frame.rule) == {"drop+sharp", "C2-gain"}
    assert all(isinstance(c, list) and len(c) == 2 for c in frame.ci) and (frame.n_seeds == 5).all()


def test_long_tail_row_judges_the_interval_of_the_largest_share():
    shares = pd.DataFrame({"dataset": ["a", "b"], "bottom_share": [0.02, 0.11], "low": [0.019, 0.10],
                           "high": [0.021, 0.12]})
    row = claims.record_long_tail(shares, "ch")
    assert row["verdict"] == "disagrees" and row["effect"] == pytest.approx(0.11) and row["ci"] == [0.10, 0.12]
    assert claims.record_long_tail(shares.iloc[:1], "ch")["verdict"] == "agrees"
    straddles = shares.assign(bottom_share=[0.049, 0.02], low=[0.045, 0.019], high=[0.053, 0.021])
    assert claims.record_long_tail(straddles, "ch")["verdict"] == "inconclusive"
    with pytest.raises(ValueError, match="bottom_share_interval"):
        claims.record_long_tail(shares[["dataset", "bottom_share"]], "ch")


@pytest.mark.parametrize("kw, verdict", [(dict(drop=0.0), "agrees"), (dict(drop=0.02), "disagrees"),
                                         (dict(drop=0.002, drop_sd=0.004, noise=0.0002), "inconclusive"),
                                         (dict(drop=0.0, level=0.5), "not testable")])
def test_no_drop_rule_every_verdict(kw, verdict):
    assert claims.record_drop("C3", runs(dataset="a", **kw), ["dataset"], "ch", rule="no-drop")["verdict"] == verdict


def test_keeps_drop_can_be_inconclusive():
    from onepoch import RunConfig
    settings = {"1": {"emb_dim": 1}, "8": {"emb_dim": 8}}
    unsure = _study(settings, [runs(dataset="a", emb_dim="1", drop=0.002, drop_sd=0.004, noise=0.0002),
                               runs(dataset="a", emb_dim="8", drop=0.02)])
    assert claims.record_keeps_drop("C6", [unsure], RunConfig(), "ch")["verdict"] == "inconclusive"


@pytest.mark.parametrize("dim1, baseline, verdict", [
    (dict(drop=0.02), dict(drop=0.02), "agrees"),  # drops, as much as the baseline
    (dict(drop=0.035), dict(drop=0.02), "disagrees"),  # drops, but 0.015 more: outside the equivalence margin
    (dict(drop=0.024, drop_sd=0.004), dict(drop=0.02), "inconclusive"),  # the difference's interval straddles it
    (dict(drop=0.02), dict(drop=0.0), "not testable")])  # the baseline does not drop
def test_no_influence_rule_every_verdict(dim1, baseline, verdict):
    """C4 and C5 ('no clear effect', 'almost no influence') are two-sided: equivalence of the drop."""
    from onepoch import RunConfig
    from onepoch.analysis import rules
    assert rules.FACTOR_RULE["C5"] == "no-influence" and rules.FACTOR_RULE["C6"] == "keeps-drop"
    settings = {"1": {"emb_dim": 1}, "8": {"emb_dim": 8}}
    study = _study(settings, [runs(dataset="a", emb_dim="1", **dim1), runs(dataset="a", emb_dim="8", **baseline)])
    row = claims.record_keeps_drop("C5", [study], RunConfig(), "ch")
    assert row["verdict"] == verdict and row["rule"] == "no-influence"
    if verdict != "not testable":  # every setting drops: the one-sided 'keeps-drop' alone agrees
        assert claims.record_keeps_drop("C6", [study], RunConfig(), "ch")["verdict"] == "agrees"


def test_finetune_and_each_epoch_are_not_testable_without_a_drop_to_begin_with():
    flat = pd.concat([runs(dataset="a", finetune=f, drop=0.0) for f in ("all", "mlp", "embedding")], ignore_index=True)
    assert claims.record_finetune(flat, "ch")["verdict"] == "not testable"
    arms = pd.concat([runs(dataset="a", finetune="all"), runs(dataset="a", finetune="mlp"),
                      runs(dataset="a", finetune="embedding", drop=0.0)], ignore_index=True)
    assert claims.record_finetune(arms, "ch")["verdict"] == "agrees"
    assert claims.record_each_epoch(runs(dataset="a", drop=0.0), "ch")["verdict"] == "not testable"


def test_every_claim_is_listed_with_one_kind_of_rule():
    """rules.py says, for every claim of claim_texts.CLAIMS, whether it is judged by non-inferiority,
    equivalence or a directional bound only."""
    from onepoch.analysis import rules
    from onepoch.analysis.claim_texts import CLAIMS
    kinds = [*rules.NON_INFERIORITY, *rules.EQUIVALENCE, *rules.DIRECTIONAL_ONLY]
    assert sorted(kinds) == sorted(CLAIMS)
    assert all(rules.FACTOR_RULE[c] == "no-influence" for c in rules.EQUIVALENCE)


def test_show_rows_folds_a_long_measured_list_under_its_counts():
    many = {"claim": "C7", "verdict": "disagrees", "effect": 0.01, "ci": [0.0, 0.02], "effect_of": "x < y",
            "n_seeds": 3, "rule": "optimizers",
            "measured": "a: 1 [agrees]; b: 2 [inconclusive]; c: 3 [inconclusive]"}
    few = dict(many, claim="C8", measured="a: 1 [agrees]")
    html = claims.show_rows([many, few]).data
    assert "<details><summary>1 agrees, 2 inconclusive (open for each)</summary><ul><li>a: 1 [agrees]</li>" in html
    assert html.count("<details>") == 1 and "<li>a: 1 [agrees]</li></ul></td>" in html
    assert "x &lt; y" in html  # text cells still escaped
