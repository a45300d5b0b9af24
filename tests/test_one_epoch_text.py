"""onepoch.analysis.one_epoch_text: the one_epoch chapter's sentences, on hand-made effect and condition tables."""
import pandas as pd

from onepoch.analysis import one_epoch_text
from onepoch.analysis.rules import MIN_EFFECT
from onepoch.analysis.stats import Effect


def effect(estimate, low, high):
    return Effect(estimate, low, high, 3, "t")


def effects():
    """`measures.effects`-shaped rows: "a" learns and falls by 0.01; "b" does not learn."""
    return pd.DataFrame([
        dict(dataset="a", untestable="", end_1=0.71234, drop=effect(0.01, 0.005, 0.015), drop_verdict="agrees",
             z=effect(4.0, 3.0, 5.0), sharp_verdict="agrees", gain=effect(-0.02, -0.03, -0.01), peaks_in_epoch1=3,
             n_seeds=3),
        dict(dataset="b", untestable="test AUC below the floor", end_1=0.51, drop=effect(0.0, -0.001, 0.001),
             drop_verdict="not testable", z=effect(0.1, -1.0, 1.0), sharp_verdict="not testable",
             gain=effect(0.001, 0.0, 0.002), peaks_in_epoch1=1, n_seeds=3)])


def test_effects_text_lists_each_data_set_and_says_why_one_is_not_testable():
    text = one_epoch_text.effects_text(effects())
    head, body = text.split("\n\n")
    assert head.startswith("For the DNN, per data set")
    a, b = body.split("\n")
    assert a == ("- **a**: 0.7123 at the end of epoch 1, a change of \u22120.0100 [\u22120.0150, \u22120.0050] at the "
                 f"first evaluation of epoch 2 (agrees that it fell by more than {MIN_EFFECT}); against the run's own "
                 "changes between evaluations inside epochs, placebo z 4.0 [3.0, 5.0] (sharp: agrees)")
    assert b.startswith("- **b**: not testable, test AUC below the floor (change ")


def test_later_epochs_text_gives_gains_peaks_and_the_lr_drop():
    text = one_epoch_text.later_epochs_text(effects(), effects().iloc[:1])
    assert "a -0.0200 [-0.0300, -0.0100], best evaluation within epoch 1 for 3 of 3 seeds; b 0.0010" in text
    assert text.endswith("Logistic regression's drop at the epoch-2 boundary: a 0.0100 [0.0050, 0.0150].")


def conditions():
    return pd.DataFrame({"condition": ["lr", "lr", "construction"], "value": ["0.001", "0.01", "last"],
                         "sharp": ["yes", "yes", "no"], "peak epoch (mean curve)": ["1.00", "2.50", "0.50"]})


def test_paper_shape_needs_a_sharp_drop_and_a_peak_within_epoch_1():
    shape = one_epoch_text.paper_shape(conditions())
    assert list(shape.value) == ["0.001"]


def test_shape_text_names_the_conditions_or_none():
    t = conditions()
    assert one_epoch_text.shape_text(one_epoch_text.paper_shape(t), len(t), "beauty") == (
        "The paper's shape -- a sharp drop and a peak within epoch 1 -- appears in 1 of 3 conditions on beauty: "
        "lr = 0.001.")
    assert one_epoch_text.shape_text(t.iloc[:0], 3, "beauty").endswith("on beauty: none.")
