"""onepoch.analysis.one_epoch_summary: the one_epoch chapter's computed Summary, on hand-made curves."""
import pandas as pd

from onepoch.analysis import measures, one_epoch_summary


def curve(dataset, seed, values, metric="auc", steps_per_epoch=4):
    """One run's curve (test split) evaluated at steps 0..len(values)-1."""
    return pd.DataFrame({"step": range(len(values)), "epoch": [s / steps_per_epoch for s in range(len(values))],
                         "split": "test", "metric": metric, "value": values, "seed": seed, "dataset": dataset})


# "a" learns and falls by about 0.1 at the boundary; "b" stays under the learning floor (0.55)
A = [0.5, 0.6, 0.7, 0.8, 0.8, 0.7, 0.71, 0.72, 0.73]
B = [0.5, 0.51, 0.52, 0.52, 0.52, 0.52, 0.52, 0.53, 0.52]  # best evaluation in epoch 2


def dnn():
    runs = []
    for s in range(3):
        jitter = 0.001 * s
        runs += [curve("a", s, [v + jitter for v in A]), curve("b", s, [v + jitter for v in B]),
                 curve("a", s, [v + jitter for v in A], metric="gauc"), curve("b", s, B, metric="gauc")]
    return pd.concat(runs, ignore_index=True)


def test_where_names_a_data_set_where_the_model_does_not_learn():
    effects = measures.effects(dnn(), ["dataset"]).set_index("dataset", drop=False)
    assert one_epoch_summary.where(effects.loc["a"]) == "On a"
    assert one_epoch_summary.where(effects.loc["b"]).startswith(
        "On b, where the model does not learn (test AUC 0.521 at the end of epoch 1, under the floor of 0.55")


def test_lines_state_the_change_the_peaks_the_verdicts_and_the_dense_control():
    curves = dnn()
    effects = measures.effects(curves, ["dataset"])
    control = pd.concat([curve("ml-100k", s, [0.6, 0.7, 0.8, 0.85, 0.86, 0.87 + 0.001 * s, 0.88, 0.89, 0.9])
                         for s in range(3)] + [curve("a", 0, A)])
    rows = [dict(claim="C1", verdict="agrees", effect=0.1, ci=[0.09, 0.11], n_seeds=3, effect_of="drop")]
    lines = one_epoch_summary.lines(curves, effects, control, rows, n_shape=1, n_conditions=4,
                                    condition_dataset="a")
    assert len(lines) == 4
    boundary, best, verdicts, shape = lines
    assert boundary.startswith("At the first evaluation of epoch 2 (DNN, 95% intervals over seeds): On a, test AUC "
                               "falls by 0.1000 [")
    assert "user-weighted AUC falls by" in boundary and "On b, where the model does not learn" in boundary
    assert best.startswith("The best test AUC comes within epoch 1 in 3 of 6 DNN runs. On a the best later end of "
                           "an epoch falls short of the end of epoch 1 by 0.0700")
    assert verdicts.startswith("The one claim this chapter tests (C1) agrees with the paper.")
    assert shape.startswith("The paper's shape (a sharp drop and a peak within epoch 1) appears in 1 of 4 "
                            "conditions varied on a. On the dense control, ml-100k, test AUC rises by")
    assert shape.count(";") == 0  # only the dense data set, not the sparse one beside it
