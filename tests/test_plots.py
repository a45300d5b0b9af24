import pandas as pd

from onepoch import plots
from onepoch.config import RunConfig


def frame():
    rows = []
    for seed in (0, 1):
        for model in ("dnn", "lr"):
            for step in range(9):
                for split in ("train", "test"):
                    rows.append(dict(step=step, epoch=step / 4, split=split, metric="auc", model=model,
                                     dataset="x", seed=seed, value=0.5 + 0.01 * step + 0.001 * seed))
    return pd.DataFrame(rows)


def test_seed_band_spans_the_seeds():
    band = plots.seed_band(frame().query("split == 'test'"), ["model"])
    row = band[(band.model == "dnn") & (band.epoch == 1.0)].iloc[0]
    assert row.lo == 0.54 and row.hi == 0.541 and row.seeds == 2


def test_curves_render_to_svg_with_epoch_rules():
    chart = plots.curves(frame(), split=["train", "test"], color="model", facet="dataset")
    svg = chart.to_json()
    assert '"boundary"' in svg  # epoch boundaries are drawn
    import vl_convert as vlc
    out = vlc.vegalite_to_svg(chart.to_dict())
    assert out.startswith("<svg") and "epoch" in out


def test_model_diagram_follows_the_config():
    import vl_convert as vlc
    svg = vlc.vegalite_to_svg(plots.model_diagram(RunConfig(hidden=(64, 32), activation="prelu")).to_dict())
    assert "fully connected 64 + prelu" in svg and "fully connected 32 + prelu" in svg


def test_numeric_legends_are_in_numeric_order():
    import vl_convert as vlc

    f = pd.concat([frame().assign(samples=n) for n in (3_000_000, 30_000, 100_000)])
    assert plots.legend_order(f.samples) == [30_000, 100_000, 3_000_000]
    svg = vlc.vegalite_to_svg(plots.curves(f, color="samples").to_dict())
    assert svg.index(">30000<") < svg.index(">100000<") < svg.index(">3000000<")  # as text: 100000 first
    labels = pd.concat([frame().assign(n=n) for n in ("b", "a")])
    assert plots.legend_order(labels.n) == ["b", "a"]  # not numbers: as they come
