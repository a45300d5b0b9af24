"""onepoch.analysis.leaderboard_text: the remedies' leaderboard in words, on a hand-made board."""
import pandas as pd

from onepoch.analysis import leaderboard_text


def board() -> pd.DataFrame:
    """A `multi_epoch.leaderboard`-shaped board: on "x" two settings beat one epoch, on "y" none does."""
    rows = [("x", "baseline", 0.70, False, 2), ("x", "MEDA", 0.72, True, 3), ("x", "lazy", 0.75, True, 2),
            ("x", "L2", 0.69, False, 4), ("y", "baseline", 0.60, False, 2), ("y", "MEDA", 0.64, False, 3)]
    return pd.DataFrame([dict(dataset=d, remedy=r, best_end_mean=m, best_end_std=0.001, best_end_epoch=k,
                              beats_one_epoch=b, gain=m - (0.71 if d == "x" else 0.65),
                              one_epoch_mean=0.71 if d == "x" else 0.65, one_epoch_std=0.002)
                         for d, r, m, b, k in rows])


def test_winners_are_listed_best_first_with_their_gain():
    line = leaderboard_text.dataset_line("x", board()[board().dataset == "x"])
    assert line == ("- **x**: one-epoch training reaches 0.7100 ± 0.0020. 2 of 4 settings beat it: "
                    "lazy 0.7500 ± 0.0010 at the end of epoch 2 (+0.0400); MEDA 0.7200 ± 0.0010 at the end of "
                    "epoch 3 (+0.0100).")


def test_without_a_winner_the_closest_setting_is_named():
    line = leaderboard_text.dataset_line("y", board()[board().dataset == "y"])
    assert line == ("- **y**: one-epoch training reaches 0.6500 ± 0.0020. No remedy beats it; the closest is "
                    "MEDA with 0.6400 ± 0.0010 at the end of epoch 3.")


def test_verdict_text_has_one_line_per_data_set_in_board_order():
    text = leaderboard_text.verdict_text(board().iloc[::-1].reset_index(drop=True))
    assert [line.split("**")[1] for line in text.split("\n")] == ["y", "x"]
