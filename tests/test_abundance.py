"""Information abundance of the embedding table (onepoch.probes.abundance)."""
import pandas as pd
import pytest
import torch

from onepoch.config import RunConfig
from onepoch.probes import AbundanceProbe, information_abundance
from onepoch.runs.runner import one_thread
from onepoch.train import fit

from helpers import tiny_data

SMALL = dict(epochs=2, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=500)


def test_abundance_is_one_for_rank_one_and_the_dimension_for_balanced_directions():
    g = torch.Generator().manual_seed(0)
    line = torch.randn(100, 1, generator=g) @ torch.randn(1, 8, generator=g)
    assert information_abundance(line) == pytest.approx(1.0, abs=1e-6)
    q, _ = torch.linalg.qr(torch.randn(100, 8, generator=g))  # orthonormal columns: all singular values 1
    assert information_abundance(q) == pytest.approx(8.0)
    skewed = q * torch.tensor([1.0, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1])
    assert information_abundance(skewed) == pytest.approx(1 + 1.5 + 0.4)
    assert information_abundance(3.0 * skewed) == pytest.approx(information_abundance(skewed))  # scale-free
    assert information_abundance(torch.zeros(5, 3)) != information_abundance(torch.zeros(5, 3))  # nan


def test_probe_records_at_every_evaluation_and_does_not_change_the_model():
    data = tiny_data(2000, 500)
    with one_thread():
        plain = fit(RunConfig(**SMALL), data, progress=False)
        probed = fit(RunConfig(**SMALL), data, callbacks=[AbundanceProbe()], progress=False)
    same = probed[probed.metric.isin(plain.metric.unique())].reset_index(drop=True)
    pd.testing.assert_frame_equal(plain, same)
    rows = probed[probed.metric == "abundance"]
    assert list(rows.step) == sorted(plain.step.unique())  # one value per evaluation point
    assert (rows.split == "train").all() and rows.value.between(1.0, 8.0).all()
    assert {f"abundance:{f}" for f in RunConfig().fields} <= set(probed.metric)


def test_probe_reads_the_table_it_is_given():
    class State:  # the part of TrainState the probe reads
        def __init__(self, model):
            self.model, self.records = model, []

        def record(self, split, metric, value):
            self.records.append((split, metric, value))

    from onepoch.models import FieldLayout, build_model
    data = tiny_data(200, 50)
    model = build_model(RunConfig(), data.vocab_size, FieldLayout.of(data.train, RunConfig().fields))
    with torch.no_grad():
        model.embedding.table.weight[2:] = torch.arange(1.0, 9.0)  # every real row on one line
    state = State(model)
    AbundanceProbe(per_field=False).on_evaluate(state)
    assert state.records == [("train", "abundance", pytest.approx(1.0))]
    assert AbundanceProbe().cache_key != AbundanceProbe(per_field=False).cache_key
