"""onepoch.analysis.headline_text: the intro's "What this book measured" paragraph, on hand-made effects."""
import pandas as pd

from onepoch.analysis import headline_text
from onepoch.analysis.stats import Effect


def effect(values):
    mean = sum(values) / len(values)
    return Effect(mean, mean - 0.001, mean + 0.001, len(values), "t", se=0.0005, df=len(values) - 1,
                  values=tuple(values))


def head(learning=("a", "b")) -> pd.DataFrame:
    rows = [dict(dataset=d, untestable="" if d in learning else "below the floor", drop=effect([0.01, 0.012]),
                 gain=effect([-0.02, -0.01]), z=Effect(3.0, 2.0, 4.0, 2, "t"), peaks_in_epoch1=2, n_seeds=2)
            for d in ("a", "b", "c")]
    return pd.DataFrame(rows)


def test_pools_over_the_data_sets_where_the_model_learns_and_names_the_rest():
    text = headline_text.measured_text(head())
    assert "(pooled over the 2 data sets where the model learns; per data set: a \u22120.0110" in text
    assert "; b \u22120.0110" in text and "c \u2212" not in text
    assert "4 of 4 runs reach their best test AUC within epoch 1" in text
    assert text.endswith("cannot be tested there: c. ")


def test_says_so_when_no_data_set_can_be_tested():
    assert headline_text.measured_text(head(learning=())).startswith("In none of these settings does the model learn")


def test_headline_frames_the_measurement():
    text = headline_text.headline(head(), ["a", "b", "c"], 2)
    assert text.startswith("**What this book measured** (the one_epoch chapter's runs: a, b, c, 2 seeds each,")
    assert text.endswith("The claims ledger gives every claim's verdict with its interval.")
