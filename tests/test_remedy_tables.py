"""onepoch.analysis.remedy_tables and leaderboard_text.summary_lines, on a hand-made leaderboard."""
import pandas as pd

from onepoch.analysis import leaderboard_text, remedy_tables

REMEDIES = ["baseline", "lazy Adam (embeddings)", "embedding L2 1e-2", "frequency decay 100", "MEDA"]


def board() -> pd.DataFrame:
    """Two data sets, five remedies each; on "x" only the L2 setting beats one epoch."""
    rows = []
    for d, shift in (("x", 0.0), ("y", 0.1)):
        for i, r in enumerate(REMEDIES):
            rows.append(dict(dataset=d, remedy=r, end_1_mean=0.7 + shift, end_1_std=0.001, drop_mean=0.01 * i,
                             drop_std=0.002, sharp_drop=i % 2 == 1, best_mean=0.71 + shift, best_std=0.003,
                             best_end_mean=0.70 + shift + 0.001 * i, best_end_std=0.004, best_end_epoch=i + 1,
                             beats_one_epoch=(d == "x" and i == 2), gain=0.001 * i - 0.002))
    return pd.DataFrame(rows)


def test_lazy_table_keeps_baseline_and_lazy_adam_only():
    t = remedy_tables.lazy_table(board())
    assert list(t.columns) == ["dataset", "optimizer", "end of epoch 1", "drop at epoch 2", "sharp",
                               "best at any point"]
    assert list(t.optimizer) == ["baseline", "lazy Adam (embeddings)"] * 2
    assert list(t.sharp) == ["no", "yes", "no", "yes"]
    assert t["drop at epoch 2"].iloc[1] == "0.0100 ± 0.0020"


def test_regularisation_table_gives_best_epoch_and_the_rule():
    t = remedy_tables.regularisation_table(board())
    assert list(t.setting) == ["baseline", "embedding L2 1e-2", "frequency decay 100"] * 2
    assert t["best end of epoch"].iloc[1] == "0.7020 ± 0.0040 (epoch 3)"
    assert list(t["beats one epoch"]) == ["no", "yes", "no", "no", "no", "no"]


def ends() -> pd.DataFrame:
    """Abundance at epochs 0..2 for x's first three remedies: at the last epoch rising with the remedy's index,
    at the start falling with it."""
    rows = [dict(dataset="x", remedy=r, epoch=e, mean=1.0 + (i if e else -i) + e, std=0.1)
            for i, r in enumerate(REMEDIES[:3]) for e in range(3)]
    return pd.DataFrame(rows)


def test_abundance_wide_has_start_then_epoch_columns():
    wide = remedy_tables.abundance_wide(ends())
    assert list(wide.columns) == ["start", "epoch 1", "epoch 2"]
    assert wide.loc[("x", "lazy Adam (embeddings)"), "epoch 2"] == "4.00 ± 0.10"
    assert wide.loc[("x", "lazy Adam (embeddings)"), "start"] == "0.00 ± 0.10"


def test_abundance_correlation_uses_the_last_epoch_and_ranks():
    corr = remedy_tables.abundance_correlation(ends(), board())
    assert corr.to_dict() == {"x": 1.0}  # at the last epoch both rise with the index
    assert remedy_tables.correlation_text(corr, 3).endswith("test AUC: x +1.00 (3 settings each).")
    assert remedy_tables.correlation_items(pd.Series({"x": -0.5, "y": 0.25})) == ["\u22120.50 on x", "+0.25 on y"]


def test_summary_lines_count_winners_and_name_the_top_setting():
    lines = leaderboard_text.summary_lines(board())
    assert lines[0] == ("On x, 1 of 5 settings end a later epoch above one-epoch training by the rule; the top "
                        "setting, MEDA, ends a later epoch +0.0020 against it in seed means.")
    assert lines[1].startswith("On y, 0 of 5 settings end")
    one = leaderboard_text.summary_line("z", board().iloc[:1])
    assert one.startswith("On z, 0 of 1 setting ends a later epoch")
