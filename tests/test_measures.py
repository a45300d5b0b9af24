"""onepoch.analysis.measures: the plain numbers of Effect columns for a chart."""
import numpy as np
import pandas as pd

from onepoch.analysis import measures
from onepoch.analysis.stats import seed_effect


def test_interval_columns_give_the_estimate_and_half_the_interval():
    table = pd.DataFrame({"gain": [seed_effect([0.01, 0.02, 0.03]), seed_effect([0.5])]})
    out = measures.interval_columns(table, ["gain"])
    assert np.allclose(out.gain_mean, [0.02, 0.5])
    e = table.gain[0]
    assert np.isclose(out.gain_half[0], (e.high - e.low) / 2) and out.gain_half[0] > 0.01
    assert np.isnan(out.gain_half[1])  # one seed: no interval
    assert "gain_mean" not in table  # the input is not changed
