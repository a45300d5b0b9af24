"""onepoch.analysis.id_sparsity: the feature-sparsity chapter's tables and sentences, on hand-made data
sets and tables."""
import numpy as np
import pandas as pd
import pytest

from onepoch.analysis import id_sparsity


class Fake:
    """A loaded data set with only what the tables read."""

    def __init__(self, mean, bottom, vocab_size=12):
        self.mean, self.bottom, self.vocab_size = mean, bottom, vocab_size

    def field_stats(self):
        return pd.DataFrame({"unique_ids": [3, 5], "mean_occurrences": self.mean},
                            index=pd.Index(["user_id", "item_id"], name="field"))

    def occurrence_share(self, fields):
        assert fields == "all"
        return pd.DataFrame({"field": "all", "id_share": [0.0, 1.0], "occurrence_share": [0.0, 1.0]})

    def bottom_share(self, share):
        assert share == 0.5
        return self.bottom


@pytest.fixture
def loaded():
    return {"beauty": Fake([2.0, 4.0], 0.021), "ml-100k": Fake([50.0, 60.0], 0.3)}


def test_load_all_and_vocab_sizes_load_each_name_once_in_order(monkeypatch):
    from onepoch import data

    calls = []
    monkeypatch.setattr(data, "load", lambda name, construction, max_users: calls.append(
        (name, construction, max_users)) or Fake([1.0, 1.0], 0.1, vocab_size=len(name) + 2))
    assert list(id_sparsity.load_all(["b", "a"], max_users=30)) == ["b", "a"]
    assert id_sparsity.vocab_sizes(["beauty", "xy"], max_users=None) == {"beauty": 6, "xy": 2}
    assert calls == [("b", "last", 30), ("a", "last", 30), ("beauty", "last", None), ("xy", "last", None)]


def test_field_tables_have_one_column_per_data_set(loaded):
    per_field = id_sparsity.field_stats(loaded)
    assert list(per_field.dataset) == ["beauty", "beauty", "ml-100k", "ml-100k"]
    wide = id_sparsity.mean_occurrences(per_field)
    assert list(wide.field) == ["user_id", "item_id"]  # fields in their order, not sorted
    assert list(wide["ml-100k"]) == [50.0, 60.0] and list(wide["beauty"]) == [2.0, 4.0]
    shares = id_sparsity.occurrence_shares(loaded)
    assert list(shares.dataset) == ["beauty", "beauty", "ml-100k", "ml-100k"]


def test_bottom_share_sentences(loaded):
    assert id_sparsity.bottom_half_text(loaded) == "2.1% in beauty, 30.0% in ml-100k"
    bottom = pd.DataFrame(dict(dataset=["beauty", "ml-100k", "sports"], bottom_share=[0.021, 0.3, 0.0249]))
    assert id_sparsity.bottom_names(bottom) == "2.1% (beauty), 30.0% (ml-100k) and 2.5% (sports)"


def test_kept_text_and_transform_settings():
    assert id_sparsity.kept_text({"a": 1000, "b": 50}, [0.1, 1e-5]) == "a: m=0.1 -> 100, m=1e-05 -> 1; b: m=0.1 -> 5, m=1e-05 -> 1"
    settings = id_sparsity.transform_settings([0.1, 0.001])
    assert list(settings) == ["none", "filter m=0.1", "filter m=0.001", "hash m=0.1", "hash m=0.001"]
    assert settings["none"] == {} and settings["hash m=0.001"] == {"sparsity": "hash", "sparsity_m": 0.001}


@pytest.fixture
def table():
    return pd.DataFrame(dict(dataset=["x", "x", "x", "y", "y"], transform=["none", "filter m=0.1", "hash m=0.1"] + ["none", "hash m=0.1"],
                             best_mean=[0.70, 0.69, 0.71, 0.80, 0.79], drop_mean=[0.01, 0.002, -0.003, 0.02, 0.005]))


def test_best_transform_per_data_set(table):
    best, base_best = id_sparsity.best_transforms(table)
    assert list(zip(best.dataset, best["transform"])) == [("x", "hash m=0.1"), ("y", "none")]
    assert base_best.to_dict() == {"x": 0.70, "y": 0.80}
    assert id_sparsity.best_text(best, base_best) == ("x: hash m=0.1 (0.7100, against 0.7000 untransformed); "
                                                      "y: none (0.8000, against 0.8000 untransformed)")
    assert id_sparsity.best_with_text(best, base_best) == ("hash m=0.1 on x (0.7100, untransformed 0.7000); "
                                                           "none on y (0.8000, untransformed 0.8000)")


def test_change_ranges_leave_the_untransformed_setting_out_of_the_range(table):
    minus = "\u2212"
    assert id_sparsity.change_ranges_text(table) == (
        f"{minus}0.0020 and +0.0030 across the filter and hash settings on x (untransformed: {minus}0.0100); "
        f"{minus}0.0050 and {minus}0.0050 across the filter and hash settings on y (untransformed: {minus}0.0200)")


def runs(dataset, seed, end, first):
    epochs = [0.5, 1.0, 1.1, 1.5, 2.0]
    values = [end - 0.01, end, first, first + 0.002, first + 0.003]
    return pd.DataFrame(dict(step=np.arange(5) * 10, epoch=epochs, value=values, split="test", metric="auc",
                             dataset=dataset, seed=seed))


def test_dense_change_text_reads_the_dense_data_set_only():
    curves = pd.concat([runs("ml-100k", 0, 0.80, 0.79), runs("ml-100k", 1, 0.81, 0.801), runs("ml-100k", 2, 0.805, 0.796),
                        runs("beauty", 0, 0.7, 0.6), runs("beauty", 1, 0.7, 0.61)], ignore_index=True)
    text = id_sparsity.dense_change_text(curves, "ml-100k")
    assert text.startswith("ml-100k: test AUC falls by 0.0093 [") and "beauty" not in text


def test_bottom_shares_table_one_row_per_data_set_in_order(monkeypatch, loaded):
    from onepoch import data

    seen = []

    def interval(d, share):
        seen.append(share)
        return d.bottom, d.bottom - 0.01, d.bottom + 0.02

    monkeypatch.setattr(data, "bottom_share_interval", interval)
    bottom = id_sparsity.bottom_shares(loaded)
    assert seen == [0.5, 0.5]
    assert list(bottom.columns) == ["dataset", "bottom_share", "low", "high"]
    assert list(bottom.dataset) == ["beauty", "ml-100k"]
    assert bottom.low.tolist() == pytest.approx([0.011, 0.29]) and bottom.high.tolist() == pytest.approx([0.041, 0.32])


def test_long_tail_text_gives_each_interval_and_the_verdict():
    from onepoch.analysis import rules

    bottom = pd.DataFrame(dict(dataset=["beauty", "ml-100k"], bottom_share=[0.02134, 0.3], low=[0.02, 0.28],
                               high=[0.0225, 0.31]))
    text = id_sparsity.long_tail_text(bottom, {"verdict": "disagrees"})
    assert text.startswith("The rarest 50% of IDs carry 2.13% [2.00%, 2.25%] (beauty), 30.00% [28.00%, 31.00%] "
                           "(ml-100k) of all occurrences (95% intervals: a bootstrap over users)")
    assert text.endswith(f"**C9: disagrees**. Its rule changed in this version: {rules.CHANGES['C9']}.")


def test_cases_text_lists_each_case_of_the_row_under_its_headline():
    row = dict(claim="C11", verdict="agrees", effect=0.01, ci=(0.005, 0.015), n_seeds=3, rule="no-drop+lower",
               effect_of="drop", measured="beauty: no drop; sports: no drop")
    head, cases = id_sparsity.cases_text(row).split("\n\n")
    assert head.startswith("**C11 (agrees)**: drop: ")
    assert cases == "- beauty: no drop\n- sports: no drop"


def test_dense_control_configs_put_the_dense_data_set_first():
    from onepoch.config import RunConfig

    base = RunConfig(epochs=4, max_users=6000)
    configs = id_sparsity.dense_control_configs(base, ["beauty", "sports"], epochs=2, eval_every=10, max_users=None)
    assert [c.dataset for c in configs] == ["ml-100k", "beauty", "sports"]
    assert {(c.construction, c.epochs, c.eval_every, c.max_users) for c in configs} == {("positions", 2, 10, None)}
    assert base.construction == "last" and base.epochs == 4  # the base is not changed
