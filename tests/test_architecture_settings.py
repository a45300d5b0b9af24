"""onepoch.analysis.architectures: the chapter's base configurations and its fine-tuning arms."""
import pandas as pd

from onepoch.analysis import architectures as arch
from onepoch.analysis.multi_epoch import eval_every_for
from onepoch.analysis.stats import Verdict, seed_effect
from onepoch.data import synthetic

SIZES = dict(syn_samples=10_000, syn_users=2_500, syn_items=2_500, max_history=20)


def test_base_configs_real_data_sets_then_one_synthetic_set_per_zipf_exponent():
    evaluation = dict(eval_schedule="paper", eval_train=False)
    bases = arch.base_configs(["beauty"], [0.5, 2.0], 3, 20, SIZES, evaluation, real={"max_users": 6000})
    assert list(bases) == ["beauty", "synthetic s=0.5", "synthetic s=2"]
    real, sparse = bases["beauty"], bases["synthetic s=0.5"]
    assert (real.dataset, real.epochs, real.eval_every, real.max_users, real.eval_schedule) == ("beauty", 3, 20, 6000,
                                                                                               "paper")
    assert (sparse.dataset, sparse.syn_zipf, sparse.syn_samples, sparse.max_history) == ("synthetic", 0.5, 10_000, 20)
    assert sparse.max_users is None and sparse.train_eval_size == 5000 and not sparse.eval_train
    assert sparse.eval_every == eval_every_for(synthetic.sizes(10_000)[0]) != 20
    assert bases["synthetic s=2"].syn_zipf == 2.0


def test_finetune_runs_cut_the_plain_runs_and_add_one_grid_per_part(monkeypatch):
    calls = []

    def grid(bases, models, seeds, n_jobs=None, **changes):
        calls.append(changes)
        return pd.DataFrame({"model": list(models), "epoch": 2.0})

    monkeypatch.setattr(arch, "grid", grid)
    runs = pd.DataFrame({"model": ["dnn", "dnn", "lr", "fm"], "epoch": [1.0, 3.0, 1.0, 2.0]})
    out = arch.finetune_runs(runs, {}, ["dnn", "fm"], [0], 2)
    assert calls == [dict(epochs=2, finetune="embedding"), dict(epochs=2, finetune="mlp")]
    none = out[out.finetune == "none"]
    assert none.model.tolist() == ["dnn", "fm"] and none.epoch.max() == 2.0  # lr left out, epoch 3 cut
    assert out.finetune.tolist()[2:] == ["embedding", "embedding", "mlp", "mlp"]


def effects_row(data, model, arm, drops):
    drop = seed_effect(drops)
    return dict(data=data, model=model, finetune=arm, drop=drop, n_seeds=len(drops),
                drop_verdict=Verdict.AGREES if drop.low > 0.001 else Verdict.INCONCLUSIVE,
                no_drop_verdict=Verdict.AGREES if max(abs(drop.low), abs(drop.high)) < 0.001 else Verdict.INCONCLUSIVE)


def test_finetune_table_keeps_data_and_models_in_order_of_appearance_and_the_arms_in_order(monkeypatch):
    rows = [effects_row(d, m, a, [0.01, 0.011, 0.012]) for d, m, a in
            [("z", "fm", "mlp"), ("z", "dnn", "mlp"), ("z", "fm", "none"), ("a", "dnn", "embedding"),
             ("z", "dnn", "none"), ("a", "dnn", "none"), ("z", "dnn", "embedding")]]
    monkeypatch.setattr(arch, "finetune_effects", lambda frame: pd.DataFrame(rows))
    ft = arch.finetune_table(pd.DataFrame())
    assert list(zip(ft.data, ft.model, ft.finetune)) == [
        ("z", "fm", "none"), ("z", "fm", "mlp"), ("z", "dnn", "none"), ("z", "dnn", "embedding"), ("z", "dnn", "mlp"),
        ("a", "dnn", "none"), ("a", "dnn", "embedding")]
    assert ft.index.tolist() == list(range(7))


def test_finetune_readable_names_the_part_trained_and_reads_the_change():
    ft = pd.DataFrame([effects_row("a", "dnn", "none", [0.01, 0.011, 0.012]),
                       effects_row("a", "dnn", "embedding", [0.0001, -0.0001, 0.0])])
    text = arch.finetune_readable(ft)
    assert list(text.columns) == ["data", "model", "trained after epoch 1", "reads as", "change [95% CI]", "seeds"]
    assert text["trained after epoch 1"].tolist() == ["everything", "only embeddings"]
    assert text["reads as"].tolist() == ["drops", "does not drop"]
    assert text["change [95% CI]"].iloc[0].startswith("−0.0110 [")
