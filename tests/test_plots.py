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


def test_a_figure_has_a_numbered_caption_alt_text_and_readable_fonts():
    import base64
    import re

    from onepoch import figures

    wide = plots.curves(frame(), color="model") | plots.curves(frame(), color="model") | plots.curves(frame())
    out = figures.figure_html(wide, caption="Test AUC rises in both models.", name="fig-test-wide")
    assert "Figure " in out and "Test AUC rises in both models." in out and 'id="fig-test-wide"' in out
    alt = re.search(r'alt="([^"]*)"', out).group(1)
    assert alt.startswith("Line chart of AUC (test) against epoch") and "3 panels" in alt
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", out).group(1)).decode()
    assert figures.effective_min_font(svg) >= figures.MIN_TEXT_PX  # scaled up: the chart is wider than the column
    again = figures.figure_html(wide, caption="x", name="fig-test-wide")
    assert re.search(r"Figure (\d+)", out).group(1) == re.search(r"Figure (\d+)", again).group(1)


def test_one_facet_draws_no_header_and_titles_are_words():
    spec = plots.curves(frame(), color="model", facet="dataset").to_dict()
    assert "facet" not in spec  # one data set: one chart, no header
    assert plots.title_of("syn_zipf") == "Zipf exponent s (smaller = sparser)"
    assert plots.title_of("lr", "step size") == "step size"


def test_heatmap_text_is_white_on_dark_cells_and_black_on_light_ones():
    assert plots.ink([0.0, 1.0], "blues", 0.0, 1.0) == ["black", "white"]
    assert plots.ink([-1.0, 0.0, 1.0], "redblue", -1.0, 1.0, mid=0.0) == ["white", "black", "white"]
    assert plots.ink([0.0, 1.0], "viridis", 0.0, 1.0) == ["white", "black"]


def test_occurrence_share_draws_one_curve_per_data_set():
    shares = pd.DataFrame([dict(field=f, id_share=x / 4, occurrence_share=(x / 4) ** 2, dataset=d)
                           for d in ("a", "b") for f in ("all", "user_id") for x in range(5)])
    spec = plots.occurrence_share(shares).to_dict()
    rows = [r for rows in spec["datasets"].values() for r in rows if "field" in r]
    assert {r["field"] for r in rows} == {"all"} and len(rows) == 10


def test_peak_text_writes_large_sizes_with_thousands_separators():
    frame = pd.DataFrame({"samples": [30_000, 30_000, 3_000_000, 3_000_000], "epoch": [1.0, 2.0, 1.0, 2.0],
                          "metric": "auc", "split": "test", "value": [0.6, 0.7, 0.8, 0.7]})
    assert plots.peak_text(frame, "samples") == "peaks at epoch 2.0 (30,000), 1.0 (3,000,000)"
    assert plots.peak_text(frame.assign(samples=["a", "a", "b", "b"]), "samples") == "peaks at epoch 2.0 (a), 1.0 (b)"
