"""onepoch.analysis.factors.overview: every factor setting of a chapter in one frame."""
import pandas as pd

from onepoch.analysis.factors import Study, factor, overview


def study(name: str, settings, drops, bests) -> Study:
    """A Study with a hand-made factor table (two data sets per setting)."""
    rows = [dict(dataset=d, **{name: s}, drop_mean=x, best_mean=b)
            for (s, x, b) in zip(settings, drops, bests) for d in ("a", "b")]
    return Study(factor(name, {str(s): {} for s in settings}), pd.DataFrame(), pd.DataFrame(rows))


def test_overview_stacks_the_studies_with_the_change_as_minus_the_drop():
    frame = overview([study("emb_dim", [1, 8], [0.01, -0.02], [0.7, 0.72]),
                      study("activation", ["relu"], [0.0], [0.69])])
    assert list(frame.columns) == ["dataset", "factor", "setting", "drop_mean", "best_mean", "change"]
    assert frame.factor.tolist() == ["emb_dim"] * 4 + ["activation"] * 2
    assert frame.setting.tolist() == ["1", "1", "8", "8", "relu", "relu"]  # settings as text
    assert frame.change.tolist() == [-0.01, -0.01, 0.02, 0.02, -0.0, -0.0]
    assert int((frame.change < 0).sum()) == 2
