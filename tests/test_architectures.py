"""The architectures chapter's verdict rules (C3b, C14) on hand-made per-seed numbers."""
import pandas as pd

from onepoch.analysis import architectures as arch
from onepoch.analysis import measures
from onepoch.analysis.stats import Verdict, all_of


def table(drops: dict, end_1: float = 0.7) -> pd.DataFrame:
    """Setting effects at boundary 1 from {(data, model): per-seed drops}."""
    rows = [dict(data=d, model=m, seed=s, drop=x, z=5.0 + s, gain=-0.01, end_1=end_1, best=end_1,
                 peak_in_epoch1=True) for (d, m), xs in drops.items() for s, x in enumerate(xs)]
    return measures.setting_effects(pd.DataFrame(rows), ["data", "model"]).assign(boundary=1)


DROPS = [0.010, 0.012, 0.011]
FLAT = [0.0002, -0.0003, 0.0001]


def verdict(t):
    return all_of(p.verdict for p in arch.structural_parts(t))


def test_structural_hypothesis_agrees_when_models_without_mlp_stay_flat_where_mlp_models_drop():
    assert verdict(table({("a", "dnn"): DROPS, ("a", "fm"): FLAT, ("a", "lr"): FLAT})) == Verdict.AGREES


def test_structural_hypothesis_disagrees_when_fm_drops_too():
    assert verdict(table({("a", "dnn"): DROPS, ("a", "fm"): DROPS, ("a", "lr"): FLAT})) == Verdict.DISAGREES


def test_structural_hypothesis_is_inconclusive_on_a_wide_interval():
    wide = [-0.01, 0.002, 0.015]
    assert verdict(table({("a", "dnn"): DROPS, ("a", "fm"): wide, ("a", "lr"): FLAT})) == Verdict.INCONCLUSIVE


def test_structural_hypothesis_is_not_testable_without_a_drop_or_without_learning():
    assert verdict(table({("a", "dnn"): FLAT, ("a", "fm"): FLAT, ("a", "lr"): FLAT})) == Verdict.NOT_TESTABLE
    assert verdict(table({("a", "dnn"): DROPS, ("a", "fm"): FLAT}, end_1=0.52)) == Verdict.NOT_TESTABLE
    # a data set without the phenomenon does not count against one where the hypothesis holds
    both = table({("a", "dnn"): DROPS, ("a", "fm"): FLAT, ("b", "dnn"): FLAT, ("b", "fm"): DROPS})
    assert verdict(both) == Verdict.AGREES


def test_c14_parts_need_the_mlp_arm_to_drop_and_the_embedding_arm_not_to(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path))
    rows = {("a", "none"): DROPS, ("a", "mlp"): DROPS, ("a", "embedding"): FLAT}
    per_seed = [dict(data=d, model="dnn", finetune=f, seed=s, drop=x, z=5.0, gain=0.0, end_1=0.7, best=0.7,
                     peak_in_epoch1=True) for (d, f), xs in rows.items() for s, x in enumerate(xs)]
    ft = measures.setting_effects(pd.DataFrame(per_seed), ["data", "model", "finetune"])
    assert arch.record_c14(ft, "architectures")["verdict"] == "agrees"
    ft.loc[ft.finetune == "none", "drop_verdict"] = Verdict.DISAGREES
    assert arch.record_c14(ft, "architectures")["verdict"] == "not testable"
