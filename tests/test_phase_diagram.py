"""onepoch.analysis.phase_diagram: the synthetic phase diagram's tables and sentences, on hand-made
curves and tables (no run trains, no data set is generated)."""
import pandas as pd
import pytest

from onepoch.analysis import phase_diagram


def curve(seed, values, **cell):
    """Test AUC of one run: evaluations at epochs 0.5, 1 (end of epoch 1), 1.1 (first of epoch 2) and 2."""
    epochs = [0.5, 1.0, 1.1, 2.0]
    return pd.DataFrame([dict(step=int(e * 10), epoch=e, split="test", metric="auc", value=v, seed=seed, **cell)
                         for e, v in zip(epochs, values)])


def grid() -> pd.DataFrame:
    return pd.concat([
        # s = 0.5: a sharp drop of 0.02, epoch 1 best
        curve(0, [0.65, 0.700, 0.680, 0.690], syn_zipf=0.5, lr=1e-3),
        curve(1, [0.65, 0.701, 0.681, 0.691], syn_zipf=0.5, lr=1e-3),
        # s = 2: rises at the boundary, epoch 2 beats epoch 1 by 0.020 and 0.022
        curve(0, [0.65, 0.700, 0.705, 0.720], syn_zipf=2.0, lr=1e-3),
        curve(1, [0.65, 0.702, 0.707, 0.724], syn_zipf=2.0, lr=1e-3),
    ], ignore_index=True)


def test_diagram_table_adds_the_heat_maps_columns_with_each_cells_own_ceiling():
    phase = phase_diagram.diagram_table(grid(), {0.5: 0.8, 2.0: 0.87, 1.0: 0.1}).set_index("syn_zipf")
    assert list(phase.bayes_auc) == [0.8, 0.87]  # by the Zipf exponent, whatever the learning rate
    assert phase.loc[0.5, "change"] == pytest.approx(-0.02)
    assert phase.loc[0.5, "change_text"] == "\u2212" + "0.020*"  # sharp: starred, a true minus
    assert phase.loc[2.0, "change_text"] == "+0.005"
    assert phase.loc[0.5, "reach"] == pytest.approx((0.7005 - 0.5) / 0.3)
    assert list(phase.reach_text) == ["67%", "60%"]
    assert phase.loc[2.0, "gain_text"] == "+0.021*" and phase.loc[0.5, "gain_text"] == "\u2212" + "0.010"
    assert list(phase.peak_text) == ["1.0", "2.0"]


def test_cells_text_names_a_whole_row_of_the_grid_once():
    rows = pd.DataFrame(dict(syn_zipf=[0.5, 0.5, 2.0], lr=[1e-3, 1e-2, 1e-3]))
    assert phase_diagram.cells_text(rows, [1e-3, 1e-2]) == "s = 0.5 at every learning rate; s = 2 at lr 0.001"
    assert phase_diagram.cells_text(rows, [1e-4, 1e-3, 1e-2]) == "s = 0.5 at lr 0.001, 0.01; s = 2 at lr 0.001"
    assert phase_diagram.cells_text(rows.iloc[:0], [1e-3]) == "none"


def test_sparsity_classes_compare_each_exponent_with_the_real_data_sets_share():
    table = pd.DataFrame({"data": ["synthetic s=0", "synthetic s=1", "synthetic s=2", "beauty", "sports"],
                          phase_diagram.RARE: [0.5, 0.2, 0.01, 0.25, 0.15]})
    real, realistic, low = phase_diagram.sparsity_classes(table, [0.0, 1.0, 2.0])
    assert real == pytest.approx(0.2) and realistic == [1.0] and low == [2.0]


class FakeData:
    train = {"label": [0, 1, 1]}

    def field_stats(self):
        return pd.DataFrame({"mean_occurrences": [2.0, 3.0]}, index=["user_id", "item_id"])


def test_sparsity_comparison_has_a_row_per_exponent_then_per_real_data_set(monkeypatch):
    from onepoch.data import synthetic
    from onepoch.runs import runner

    seen = []
    monkeypatch.setattr(phase_diagram, "_info", lambda c: seen.append(c) or dict(
        train_samples=100 * c, user_mean_occurrences=1.5, item_mean_occurrences=c, item_rare_share=0.1, bayes_auc=0.8))
    monkeypatch.setattr(runner, "load_data", lambda config: FakeData())
    monkeypatch.setattr(synthetic, "sparsity", lambda data, field: 0.3 if field == "item_id" else 0.0)
    table = phase_diagram.sparsity_comparison([0.5, 2.0], lambda z: z * 2, ["beauty"])
    assert seen == [1.0, 4.0]
    assert list(table.data) == ["synthetic s=0.5", "synthetic s=2", "beauty"]
    assert list(table.samples) == [100.0, 400.0, 3]
    assert list(table["mean occurrences per item ID"]) == [1.0, 4.0, 3.0]
    assert list(table[phase_diagram.RARE]) == [0.1, 0.1, 0.3]
    assert table["Bayes-optimal test AUC"].isna().tolist() == [False, False, True]


SERIES = {"growing catalogue": ([100, 300], lambda n: dict(u=n // 4, i=n // 4)),
          "fixed catalogue": ([100], lambda n: dict(u=50, i=60))}


def test_size_runs_generate_each_data_set_before_sweeping_its_series(monkeypatch):
    import onepoch.runs

    events = []
    monkeypatch.setattr(phase_diagram, "_info", lambda c: events.append(("info", c)))

    def sweep(configs, seeds, n_jobs):
        events.append(("sweep", tuple(configs)))
        return pd.DataFrame([dict(syn_samples=c[0], seed=s) for c in configs for s in seeds])

    monkeypatch.setattr(onepoch.runs, "sweep", sweep)
    frame = phase_diagram.size_runs(SERIES, lambda n, u, i: (n, u, i), [0, 1], n_jobs=1)
    assert events == [("info", (100, 25, 25)), ("info", (300, 75, 75)), ("sweep", ((100, 25, 25), (300, 75, 75))),
                      ("info", (100, 50, 60)), ("sweep", ((100, 50, 60),))]
    assert list(frame.columns) == ["samples", "seed", "catalogue"]
    assert list(frame.catalogue) == ["growing catalogue"] * 4 + ["fixed catalogue"] * 2


def size_curves() -> pd.DataFrame:
    return pd.concat([curve(s, [0.65, 0.70 + s / 1000, 0.69, 0.69 + g], catalogue=label, samples=n)
                      for (label, n, g) in [("growing catalogue", 100, 0.0), ("growing catalogue", 300, 0.02),
                                            ("fixed catalogue", 100, 0.03)] for s in (0, 1)], ignore_index=True)


def test_size_table_adds_each_data_sets_ceiling_and_facts(monkeypatch):
    def info(config):
        n, u, i = config
        return dict(bayes_auc=0.8 + i / 10_000, train_samples=10 * n, item_mean_occurrences=n / i, item_rare_share=0.1,
                    other=1)

    monkeypatch.setattr(phase_diagram, "_info", info)
    table = phase_diagram.size_table(size_curves(), SERIES, lambda n, u, i: (n, u, i)).set_index(["catalogue", "samples"])
    assert table.loc[("fixed catalogue", 100), "bayes_auc"] == pytest.approx(0.806)
    assert table.loc[("growing catalogue", 300), "bayes_auc"] == pytest.approx(0.8075)
    assert table.loc[("growing catalogue", 300), "train_samples"] == 3000
    assert table.loc[("fixed catalogue", 100), "item_mean_occurrences"] == pytest.approx(100 / 60)
    assert "other" not in table and "later_gain_mean" in table


def test_readable_sizes_and_steps_caption():
    table = pd.DataFrame(dict(catalogue=["a", "a", "b"], samples=[5000, 15000, 5000], drop_mean=0.01, drop_std=0.001,
                              sharp_drop=True, peak_epoch=1.0, best_mean=0.7, best_std=0.01,
                              item_mean_occurrences=[2.04, 2.0, 8.0], train_samples=[1280, 3840, 1280]))
    show = phase_diagram.readable_sizes(table)
    assert list(show.columns[:3]) == ["catalogue", "samples", "samples per item ID"]
    assert list(show.samples) == ["5,000", "15,000", "5,000"] and list(show["samples per item ID"]) == ["2.0", "2.0", "8.0"]
    assert phase_diagram.steps_caption(table) == "Steps per epoch (training samples / batch 128), by size: 10, 30."


def size_rows(growing_gains, fixed_gains) -> pd.DataFrame:
    rows = [dict(catalogue=label, samples=n, later_gain_mean=g, later_gain_std=0.001, later_beats=g > 0.01,
                 peak_in_epoch1=g <= 0, item_mean_occurrences=n / 100)
            for label, gains in (("growing catalogue", growing_gains), ("fixed catalogue", fixed_gains))
            for n, g in zip((1000, 3000, 10_000), gains)]
    return pd.DataFrame(rows)


def test_size_findings_say_which_axis_moves_the_best_epoch():
    text = phase_diagram.size_findings(size_rows([-0.001, -0.003, -0.005], [-0.002, 0.005, 0.02]), SERIES)
    lines = text.split("\n")
    assert lines[0].startswith("- **growing catalogue** (10.0 to 100.0 training samples per item ID)")
    assert "(rank correlation with the size -1.00). A later epoch beats epoch 1 beyond seed noise at none of the sizes;" in lines[0]
    assert "beats epoch 1 beyond seed noise at 10,000 impressions; the seed-mean curve peaks after epoch 1 at 3,000, " \
           "10,000 impressions." in lines[1]
    assert "As the samples per ID grow (fixed catalogue), later epochs gain" in text
    assert text.endswith(f"Rule: {phase_diagram.LATER_RULE}.")
    assert "the length of an epoch, not the sparsity" in phase_diagram.size_findings(
        size_rows([0.001, 0.003, 0.005], [0.002, 0.001, -0.02]), SERIES)
    assert "(rank correlations +1.00 and +1.00): the two axes are not separated" in phase_diagram.size_findings(
        size_rows([0.001, 0.003, 0.005], [0.002, 0.005, 0.02]), SERIES)


def test_size_beats_text_names_the_winning_sizes_per_series():
    rows = size_rows([0.02, 0.0, 0.03], [0.0, 0.0, 0.0])
    assert phase_diagram.size_beats_text(rows, SERIES) == (
        "with a growing catalogue at 1,000, 10,000 impressions; with a fixed catalogue at none of the sizes")


def test_classes_text_names_the_exponents_of_each_class_or_none():
    text = phase_diagram.classes_text(0.2049, [1.0, 1.5], [])
    assert text.startswith("The real data sets rest 20% of their samples on rare item IDs.")
    assert "within a factor of 2 of that (s = 1, 1.5) and **low sparsity**" in text
    assert "under a tenth of it (s = none); the others are shown but not judged." in text


def test_grid_runs_sweep_every_exponent_and_learning_rate_zipf_first(monkeypatch):
    import onepoch.runs

    calls = []
    monkeypatch.setattr(onepoch.runs, "sweep", lambda configs, seeds, n_jobs: calls.append((configs, seeds, n_jobs))
                        or pd.DataFrame(dict(config=configs)))
    frame = phase_diagram.grid_runs([0.5, 2.0], [1e-3, 1e-2], lambda z, lr: (z, lr), [0, 1], n_jobs=1)
    assert calls == [([(0.5, 1e-3), (0.5, 1e-2), (2.0, 1e-3), (2.0, 1e-2)], [0, 1], 1)]
    assert len(frame) == 4


def test_bayes_ceilings_and_their_frame_keep_the_exponents_order(monkeypatch):
    monkeypatch.setattr(phase_diagram, "_info", lambda c: dict(bayes_auc=0.9 - c / 10))
    ceiling = phase_diagram.bayes_ceilings([2.0, 0.5], lambda z: z * 2)
    assert ceiling == {2.0: pytest.approx(0.5), 0.5: pytest.approx(0.8)} and list(ceiling) == [2.0, 0.5]
    frame = phase_diagram.ceiling_frame(ceiling)
    assert list(frame.columns) == ["syn_zipf", "ceiling"]
    assert frame.syn_zipf.tolist() == [2.0, 0.5] and frame.ceiling.tolist() == pytest.approx([0.5, 0.8])


def test_labelled_sizes_order_the_labels_by_size_not_by_text():
    curves = pd.DataFrame(dict(samples=[15_000, 5_000, 15_000, 1_000_000], value=[1, 2, 3, 4]))
    shown, order = phase_diagram.labelled_sizes(curves)
    assert order == ["5,000", "15,000", "1,000,000"]
    assert shown.samples.tolist() == ["15,000", "5,000", "15,000", "1,000,000"]
    assert curves.samples.tolist()[0] == 15_000  # the given curves are not changed
