"""sweep's seeds vary the data seed too (so seed spread includes test-set sampling error)."""
from onepoch import RunConfig
from onepoch.runs.runner import expand


def test_each_seed_draws_its_own_data_except_on_synthetic_data():
    real = expand([RunConfig(dataset="beauty")], [0, 1, 2])
    assert [(c.seed, c.data_seed) for c in real] == [(0, 0), (1, 1), (2, 2)]
    fixed = expand([RunConfig(dataset="beauty", data_seed=5)], [0, 1], vary_data=False)
    assert [(c.seed, c.data_seed) for c in fixed] == [(0, 5), (1, 5)]
    synthetic = expand([RunConfig(dataset="synthetic")], [0, 1])
    assert [c.data_seed for c in synthetic] == [0, 0]  # the generated world (and its ceiling) stays
