"""onepoch.analysis.control_verdicts and the causes helpers behind the chapter causal_controls: the
activations against a reference, the 'keeps-drop' rows (C16a, b, d) and the 'fresh-pass' row (C16c)."""
import json

import numpy as np
import pandas as pd
import pytest

from onepoch.analysis import causes, control_verdicts
from onepoch.analysis.stats import Verdict, seed_effect


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path))
    return tmp_path


def per_run(before: dict, drop: dict) -> pd.DataFrame:
    """`around`'s frame by hand: (dataset, activation) -> per-seed "before" and "drop" values."""
    rows = [dict(dataset=d, activation=a, seed=s, before=b, drop=drop[(d, a)][s])
            for (d, a), values in before.items() for s, b in enumerate(values)]
    return pd.DataFrame(rows)


def test_versus_reference_pairs_each_setting_with_the_reference_of_its_own_data_set():
    runs = per_run({("x", "dice"): [0.70, 0.71, 0.72], ("x", "relu"): [0.60, 0.62, 0.61],
                    ("y", "dice"): [0.80, 0.80, 0.80], ("y", "relu"): [0.8001, 0.7999, 0.8000]},
                   drop={("x", "dice"): [0.03, 0.031, 0.029], ("x", "relu"): [0.01, -0.01, 0.0],
                         ("y", "dice"): [0.02, 0.02, 0.021], ("y", "relu"): [0.02, 0.022, 0.021]})
    table = causes.versus_reference(runs, ["dataset", "activation"], reference="dice")
    assert list(table.columns) == ["dataset", "activation", "end_1", "vs_dice", "drop", "same_level", "drops"]
    row = {(r.dataset, r.activation): r for r in table.itertuples()}
    # relu on x: -0.10, -0.09, -0.11 against x's dice (not y's): a gap, not the same level
    assert np.isclose(row["x", "relu"].vs_dice.estimate, -0.10)
    assert row["x", "relu"].same_level == Verdict.DISAGREES and row["x", "dice"].vs_dice.estimate == 0
    assert row["y", "relu"].same_level == Verdict.AGREES and np.isclose(row["y", "relu"].end_1, 0.8)
    assert row["x", "relu"].drops == Verdict.INCONCLUSIVE and row["y", "relu"].drops == Verdict.AGREES


def test_activation_gap_text_names_the_largest_gap_and_counts_the_drops():
    runs = per_run({("x", "dice"): [0.70, 0.71, 0.72], ("x", "relu"): [0.60, 0.62, 0.61],
                    ("x", "prelu"): [0.69, 0.70, 0.71]},
                   drop={("x", "dice"): [0.03, 0.031, 0.029], ("x", "relu"): [0.01, -0.01, 0.0],
                         ("x", "prelu"): [0.02, 0.022, 0.021]})
    text = control_verdicts.activation_gap_text(causes.versus_reference(runs, ["dataset", "activation"], "dice"))
    assert "within 0.1000 AUC of Dice (largest gap: relu on x, -0.1000 [" in text
    assert text.endswith("2 of 3 activation x data set settings drop at the boundary.")


def control_table(drops: dict) -> pd.DataFrame:
    """A `control_effects`-shaped table: (dataset, control) -> per-seed drops (plain: "plain")."""
    rows = []
    for (d, c), values in drops.items():
        drop = seed_effect(values)
        plain = seed_effect(np.array(values) - np.array(drops[d, "plain"]))
        rows.append(dict(dataset=d, control=c, at=1.0, before=0.7, drop=drop, vs_plain=plain, n_seeds=len(values),
                         drops=causes.directional(drop.ci, causes.rules.MIN_EFFECT),
                         no_drop=causes.at_most(drop.ci, causes.rules.NO_EFFECT_MARGIN)))
    return pd.DataFrame(rows)


KEEPS = [0.030, 0.031, 0.029]
REMOVES = [0.0001, -0.0001, 0.0]
UNSURE = [0.03, -0.03, 0.001]


def test_keeps_drop_is_removes_drop_reversed():
    table = control_table({("x", "plain"): KEEPS, ("x", "kept"): KEEPS, ("x", "gone"): REMOVES,
                           ("x", "unsure"): UNSURE})
    row = {r["control"]: r for _, r in table.iterrows()}
    assert causes.keeps_drop(row["kept"], row["plain"]) == Verdict.AGREES
    assert causes.keeps_drop(row["gone"], row["plain"]) == Verdict.DISAGREES
    assert causes.keeps_drop(row["unsure"], row["plain"]) == Verdict.INCONCLUSIVE
    assert causes.keeps_drop(row["kept"], row["gone"]) == Verdict.NOT_TESTABLE  # the "plain" run does not drop


def test_record_controls_combines_the_data_sets_and_writes_one_row_per_control(folder):
    table = control_table({("x", "plain"): KEEPS, ("y", "plain"): KEEPS, ("x", "frozen"): KEEPS,
                           ("y", "frozen"): REMOVES, ("x", "reset"): KEEPS, ("y", "reset"): KEEPS})
    sentences = control_verdicts.record_controls(table, {"frozen": "C16a", "reset": "C16b"}, "causal_controls")
    rows = {r["claim"]: r for r in json.loads((folder / "causal_controls.json").read_text())}
    assert rows["C16a"]["verdict"] == "disagrees" and rows["C16b"]["verdict"] == "agrees"  # y removes the drop
    assert rows["C16a"]["rule"] == "keeps-drop" and rows["C16a"]["n_seeds"] == 3
    assert np.isclose(rows["C16a"]["effect"], 0.03)  # the first data set's drop
    assert rows["C16a"]["measured"].startswith("x: change −0.0300 [") and "; y: change " in rows["C16a"]["measured"]
    assert "minus plain's" in rows["C16a"]["measured"]
    assert sentences[0].startswith("frozen: disagrees (change at epoch 2: x −0.0300 [") and len(sentences) == 2


@pytest.mark.parametrize("repeat, fresh, verdict", [(KEEPS, REMOVES, "agrees"), (KEEPS, KEEPS, "disagrees"),
                                                    (REMOVES, REMOVES, "not testable")])
def test_record_fresh_pass_every_verdict(folder, repeat, fresh, verdict):
    table = control_table({("x", "plain"): repeat, ("x", "fresh"): fresh}).replace({"control": {"plain": "repeat"}})
    table = table.rename(columns={"control": "second_pass"})
    sentence = control_verdicts.record_fresh_pass(table, "causal_controls")
    row = json.loads((folder / "causal_controls.json").read_text())[0]
    assert row["claim"] == "C16c" and row["verdict"] == verdict and row["rule"] == "fresh-pass"
    assert np.isclose(row["effect"], np.mean(fresh) - np.mean(repeat))  # fresh minus repeat
    assert row["measured"].startswith("x repeat: change ") and "; x fresh: change " in row["measured"]
    assert sentence.startswith(f"fresh second pass removes the drop: {verdict} (x repeat ")


def test_control_runs_sweeps_each_setting_over_the_data_sets_and_labels_it(monkeypatch):
    import onepoch.runs
    from onepoch.config import RunConfig

    calls = []

    def fake_sweep(configs, seeds):
        calls.append(configs)
        return pd.DataFrame([dict(dataset=c.dataset, seed=s, reshuffle=c.reshuffle) for c in configs for s in seeds])

    monkeypatch.setattr(onepoch.runs, "sweep", fake_sweep)
    frame = causes.control_runs({"plain": {}, "fixed order": {"reshuffle": False}}, RunConfig(epochs=2),
                                ["beauty", "sports"], [0, 1], column="control")
    assert [[c.dataset for c in configs] for configs in calls] == [["beauty", "sports"]] * 2
    assert all(c.epochs == 2 for configs in calls for c in configs)
    assert list(frame.control) == ["plain"] * 4 + ["fixed order"] * 4 and list(frame.index) == list(range(8))
    assert list(frame[frame.control == "fixed order"].reshuffle) == [False] * 4
