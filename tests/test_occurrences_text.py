"""onepoch.analysis.data_overview.occurrences_text: the intro's sentence on ID occurrences, on a hand-made table."""
import pandas as pd

from onepoch.analysis import data_overview


def test_occurrences_text_averages_review_sets_per_construction_and_field():
    per_field = pd.DataFrame({
        "data set": ["a", "b", "ml-100k", "a", "b", "a", "a", "a"],
        "construction": ["last", "last", "last", "last", "last", "positions", "positions", "last"],
        "field": ["user_id", "user_id", "user_id", "item_id", "item_id", "user_id", "item_id", "cate_id"],
        "mean occurrences": [1.0, 2.0, 50.0, 3.0, 5.0, 7.25, 9.0, 100.0]})
    text = data_overview.occurrences_text(per_field)
    assert text.startswith("Under the paper's construction a user ID occurs 1.5 times on average in the training "
                           "data and an item ID 4.0 times")
    assert "under the all-positions construction 7.2 and 9.0." in text
