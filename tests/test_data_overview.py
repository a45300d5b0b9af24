"""onepoch.analysis.data_overview: the intro's tables of the data sets, on fake data sets."""
import pandas as pd
import pytest

from onepoch.analysis import data_overview


class Fake:
    """What `data.load` returns, as far as the tables read it: sizes depend on name and construction."""

    def __init__(self, name, construction):
        self.scale = (2 if construction == "positions" else 1) * (10 if name == "b" else 1)

    def summary(self):
        return {"train_samples": 90.0 * self.scale, "test_samples": 10.0 * self.scale, "users": 50.0,
                "items_in_vocab": 40.0, "categories_in_vocab": 5.0, "mean_history_length": 3.14159}

    def bottom_share(self, share):
        return 0.0123 * self.scale

    def field_stats(self):
        return pd.DataFrame({"unique_ids": [50.0, 40.0], "mean_occurrences": [1.04 * self.scale, 2.26 * self.scale]},
                            index=["user_id", "item_id"])


@pytest.fixture
def loads(monkeypatch):
    calls = []

    def load(name, construction=None, max_users=None):
        calls.append((name, construction, max_users))
        return Fake(name, construction)

    monkeypatch.setattr(data_overview.data, "load", load)
    return calls


def test_statistics_one_row_per_data_set_and_construction(loads):
    table = data_overview.statistics(["a", "b"], max_users=2000)
    assert loads == [("a", "last", 2000), ("a", "positions", 2000), ("b", "last", 2000), ("b", "positions", 2000)]
    first = table.iloc[0].to_dict()
    assert first == {"data set": "a", "construction": "last", "train samples": 90, "test samples": 10, "users": 50,
                     "items": 40, "categories": 5, "mean history length": 3.1,
                     "rarest 50% of IDs: share of occurrences": "1.2%"}
    assert table["train samples"].tolist() == [90, 180, 900, 1800]


def test_popularity_scores_each_data_set_under_the_papers_construction(loads, monkeypatch):
    auc = lambda d, fields=None: 0.4 if fields == ("item_id",) else 0.3 + d.scale / 100  # noqa: E731
    monkeypatch.setattr(data_overview, "popularity_auc", auc)
    pop = data_overview.popularity(["a", "b"])
    assert loads == [("a", "last", None), ("b", "last", None)]
    assert pop.values.tolist() == [["a", 0.31, 0.4], ["b", 0.4, 0.4]]


def test_popularity_text_reads_the_range_of_the_review_sets_only():
    pop = pd.DataFrame({"data set": ["a", "b", "ml-100k"], "by occurrences in item and history fields": [0.31, 0.4, 0.9],
                        "by occurrences as a target": [0.2, 0.2, 0.2]})
    text = data_overview.popularity_text(pop)
    assert "gives a test AUC of 0.31-0.40 on the review data sets" in text
    assert "ranking by inverse popularity alone reaches 0.60-0.69." in text


def test_field_occurrences_and_the_side_by_side_table(loads):
    per_field = data_overview.field_occurrences(["a"])
    assert per_field[["construction", "field", "unique IDs"]].values.tolist() == [
        ["last", "user_id", 50], ["last", "item_id", 40], ["positions", "user_id", 50], ["positions", "item_id", 40]]
    wide = data_overview.occurrences_by_construction(per_field)
    assert list(wide.columns) == ["data set", "field", "mean occurrences (last)", "mean occurrences (positions)"]
    assert wide.values.tolist() == [["a", "user_id", 1.0, 2.1], ["a", "item_id", 2.3, 4.5]]
