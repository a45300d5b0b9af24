"""Tabular CTR data (Criteo / Avazu layouts) through the whole pipeline, on tiny files the tests write."""
import numpy as np
import pandas as pd
import pytest

import onepoch
from onepoch import RunConfig
from onepoch.config import ConfigError
from onepoch.data import load, registry, sparsity, tabular
from onepoch.data.register import add
from onepoch.errors import DataError

pytestmark = pytest.mark.usefixtures("isolated_data_cache")


def write_criteo(path, rows=800, seed=0):
    """Criteo layout: label, I1-I13 (integers, some empty or negative), C1-C26 (hashes), tab-separated, no header.
    The label depends on C1 and I1, so a model can learn something."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(rows):
        c1 = int(rng.zipf(1.5)) % 50
        ints = [str(int(rng.integers(-2, 500))) if rng.random() > 0.2 else "" for _ in range(13)]
        cats = [f"{int(rng.zipf(1.3)) % 97 + 10 * j:08x}" if rng.random() > 0.1 else "" for j in range(26)]
        cats[0] = f"{c1:08x}"
        p = 1 / (1 + np.exp(-(2.0 * (c1 % 2) - 1.0 + (0.5 if ints[0] and int(ints[0]) > 250 else -0.5))))
        lines.append("\t".join([str(int(rng.random() < p)), *ints, *cats]))
    path.write_text("\n".join(lines) + "\n")
    return path


AVAZU_COLUMNS = ["id", "click", "hour", "C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
                 "app_domain", "app_category", "device_id", "device_ip", "device_model", "device_type",
                 "device_conn_type", *(f"C{i}" for i in range(14, 22))]


def write_avazu(path, rows=600, seed=1):
    rng = np.random.default_rng(seed)
    frame = {"id": [str(10**19 + i) for i in range(rows)], "click": rng.integers(0, 2, rows),
             "hour": [f"141021{h:02d}" for h in np.sort(rng.integers(0, 24, rows))]}
    for col in AVAZU_COLUMNS[3:]:
        frame[col] = [f"{col[:3]}{int(v)}" for v in rng.zipf(1.4, rows) % 40]
    pd.DataFrame(frame)[AVAZU_COLUMNS].to_csv(path, index=False)
    return path


def test_a_criteo_file_runs_through_onepoch_run(data_folder):
    entry = add("crit", write_criteo(data_folder / "train.txt"), layout="criteo")
    assert entry["numeric"] == [f"I{i}" for i in range(1, 14)] and len(entry["categorical"]) == 26
    config = RunConfig(dataset="crit", epochs=2, batch_size=64, eval_every=5, train_eval_size=200)
    curves = onepoch.run(config)
    test_auc = curves[(curves.split == "test") & (curves.metric == "auc")]
    assert len(test_auc) > 2 and test_auc.value.notna().all()
    assert set(curves.epoch.round()) >= {1.0, 2.0}


def test_criteo_fields_vocabulary_and_buckets(data_folder):
    add("crit", write_criteo(data_folder / "train.txt"), layout="criteo")
    data = load("crit")
    assert data.fields == (*(f"I{i}" for i in range(1, 14)), *(f"C{i}" for i in range(1, 27)))
    assert len(data.train["label"]) + len(data.test["label"]) == 800 and len(data.test["label"]) == 80
    counts = data.vocab.counts[2:]
    assert (np.diff(counts) <= 0).all() and counts.min() > 0  # one global frequency-ordered vocabulary
    train_ids = np.concatenate([data.train[f].numpy() for f in data.fields])
    assert train_ids.max() < data.vocab_size and (train_ids != 1).all()  # seen in training: never "unseen"
    assert (data.train["C2"] == 0).any()  # empty cells are missing (padding)
    stats = data.field_stats()
    assert set(stats.index) == {*data.fields, "all"}
    again = load("crit")  # the in-process copy; the disk cache is read by a fresh process (below)
    assert again is data


def test_a_cached_tabular_data_set_reads_back_whole(data_folder):
    from onepoch.data import dataset

    add("crit", write_criteo(data_folder / "train.txt", rows=300), layout="criteo")
    first = load("crit")
    dataset.clear_memory_cache()
    second = load("crit")
    assert second is not first and second.fields == first.fields
    assert all((second.train[f] == first.train[f]).all() for f in first.fields)
    assert second.vocab.size == first.vocab.size


def test_bucketize_follows_the_stated_rule(tmp_path):
    values = pd.Series(["", "-1", "0", "2", "3", "100", "2.5"])
    out = tabular.bucketize(values, tmp_path / "f", {"header": True}, "I1")
    expected = ["", "-1", "0", "2", str(int(np.floor(np.log(3) ** 2))), str(int(np.floor(np.log(100) ** 2))),
                str(int(np.floor(np.log(2.5) ** 2)))]
    assert out.tolist() == expected


def test_filter_hash_and_probes_work_on_tabular_fields(data_folder):
    from onepoch.probes import ADistanceProbe, AbundanceProbe
    from onepoch.train.trainer import fit

    add("crit", write_criteo(data_folder / "train.txt", rows=400), layout="criteo")
    data = load("crit")
    for kind in ("filter", "hash"):
        small = sparsity.apply(data, kind, 0.1)
        assert small.vocab_size < data.vocab_size
        assert max(int(small.train[f].max()) for f in data.fields) < small.vocab_size
    config = RunConfig(dataset="crit", epochs=1, batch_size=64, eval_every=3, train_eval_size=100, model="lr")
    curves = fit(config, sparsity.apply(data, "filter", 0.5), callbacks=[AbundanceProbe(), ADistanceProbe(samples=100)])
    assert curves.metric.str.startswith("abundance").any() and (curves.metric == "a_distance:C1").any()
    assert len(np.unique(data.train["user_raw"])) == len(data.train["label"])  # no user column: one group each


def test_an_avazu_file_with_a_header(data_folder):
    entry = add("ava", write_avazu(data_folder / "avazu.csv"), layout="avazu", user="device_ip", time="hour")
    assert "id" not in entry["categorical"] and "click" not in entry["categorical"]
    assert "hour" not in entry["categorical"]  # the time column orders the rows
    data = load("ava")
    assert "device_ip" in data.fields and len(data.test["label"]) == 60
    assert len(np.unique(data.train["user_raw"])) > 1  # GAUC groups by the user column
    RunConfig(dataset="ava", fields=("C1", "site_id"))  # a subset of its fields
    with pytest.raises(ConfigError, match="field"):
        RunConfig(dataset="ava", fields=("C1", "nope"))


@pytest.mark.parametrize("edit, cause", [
    (lambda t: t.replace("\n0\t", "\n2\t", 1), "label '2'"),
    (lambda t: t.replace("\n1\t", "\n1\tabc", 1), "numeric column 'I1' holds"),
    (lambda t: t + "1\t2\n", "columns"),
])
def test_bad_tabular_rows_name_file_line_and_cause(data_folder, edit, cause):
    path = write_criteo(data_folder / "train.txt", rows=50)
    path.write_text(edit(path.read_text()))
    with pytest.raises(DataError) as err:
        add("crit", path, layout="criteo")
    msg = str(err.value)
    assert str(path) in msg and cause in msg and "line " in msg
    assert not registry.manifest_path(data_folder).exists()


def test_a_missing_label_column_shows_the_columns_found(data_folder):
    path = write_avazu(data_folder / "avazu.csv", rows=20)
    with pytest.raises(DataError) as err:
        add("ava", path, label="clicked")
    msg = str(err.value)
    assert "no column 'clicked' (the --label column)" in msg and "click=" in msg and "hour=" in msg


def test_the_command_line_adds_and_lists(data_folder, capsys):
    from onepoch.cli import main

    path = write_criteo(data_folder / "train.txt", rows=100)
    assert main(["data", "add", "crit", str(path), "--layout", "criteo"]) == 0
    assert "added: your tabular file: 100 impressions, 39 fields" in capsys.readouterr().out
    main(["data", "crit"])
    assert "crit" in capsys.readouterr().out
    assert main(["data", "add", "crit2", str(path), "--label", "nope", "--no-header"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column 'nope'" in err
