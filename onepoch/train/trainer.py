"""The training loop, with the paper's evaluation cadence.

Speed: every sample's ids are packed once into one (N, width) tensor, and a
step slices a batch out of it with one `index_select` over a per-epoch
permutation -- no Dataset, no DataLoader, no per-sample Python.

Cadence: evaluation at step 0, every `eval_every` steps, and at the end of
each epoch (so "the end of epoch 1" is always measured), on the whole test
set and on a fixed training sample. An epoch is `N // batch_size` steps: the
last, partial batch is dropped (a batch of one would break Dice's batch
norm); the shuffle changes which samples are dropped from epoch to epoch.

Determinism: the model's initialisation and the shuffles come from the
run's seed; the caller (`onepoch.runs`) pins torch to one thread, so the
same configuration gives bit-identical curves.

Callbacks (probes, fine-tuning schemes) hook into the loop without editing
it; see `Callback`.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import sys

import pandas as pd
import torch
import torch.nn.functional as F

from onepoch.config import RunConfig
from onepoch.errors import OnepochError
from onepoch.models import FieldLayout, build_model
from onepoch.models.fields import resolve_fields
from onepoch.train.callbacks import Callback  # noqa: F401  (re-exported)
from onepoch.train.controls import controls_for, training_users_subset
from onepoch.train.evaluate import EvalSet, train_sample_index
from onepoch.train.optim import build_optimizer
from onepoch.train.schedule import evaluates_at
from onepoch.train.schemes import schemes_for
from onepoch.train.state import TrainState


class TrainingDiverged(OnepochError):
    """The loss became NaN or infinite."""


# glibc serves blocks above its largest mmap threshold (32 MiB on 64-bit) with
# fresh mmap'ed pages, unmapped again on free.
MMAP_LIMIT = 32 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt parameters (malloc.h)


@contextlib.contextmanager
def large_blocks_on_heap(nbytes: int):
    """While training a model whose largest parameter holds `nbytes` bytes,
    keep large blocks on glibc's heap instead of mapping fresh pages for each.

    The dense gradient of the embedding table is allocated at every step. For
    a table above 32 MiB (4M rows x 8 = 128 MB) glibc maps fresh pages for it
    each time and unmaps them after the optimizer step: tens of thousands of
    page faults per step, most of a step's forward + backward time. On the
    heap the same block is reused. Where a block lives changes no arithmetic,
    so results are unchanged. Smaller tables (every data set in the book) are
    reused from the heap anyway, and nothing is changed for them; nor off glibc.
    """
    libc = None
    if nbytes > MMAP_LIMIT and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only
        except (OSError, AttributeError):
            libc = None
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_MAX, 0)  # no mmap for large blocks ...
    libc.mallopt(_M_TRIM_THRESHOLD, 2**30)  # ... and no trimming of the heap's top between steps
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_MAX, 65536)  # glibc's defaults
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024)
        libc.malloc_trim(0)  # give the freed heap back to the system


from onepoch.settings import progress_enabled  # noqa: E402  (the one definition lives in settings)


def fit(config: RunConfig, data, callbacks=(), progress: bool | None = None) -> pd.DataFrame:
    """Train one model on `data` (a CTRData) and return its evaluation curves.

    The frame is tidy: step, epoch (fraction), split (train/test), metric
    (auc, logloss, gauc, plus whatever callbacks record), value.
    """
    torch.manual_seed(config.seed)
    train = data.train
    if config.train_user_fraction < 1.0:  # the size axis: a nested share of the training users, test kept
        keep = torch.from_numpy(training_users_subset(train["user_raw"], config.train_user_fraction, config.data_seed))
        train = {k: v.index_select(0, keep) for k, v in train.items()}
    layout = FieldLayout.of(train, resolve_fields(config.fields, data))  # any set of fields (models/fields.py)
    train_ids = layout.pack(train)
    train_y = train["label"].float()
    n = len(train_y)
    steps_per_epoch = n // config.batch_size
    if steps_per_epoch == 0:
        raise OnepochError(
            f"batch_size {config.batch_size} is larger than the {n} training samples; "
            "use a smaller batch_size or more data (max_users)"
        )
    if config.eval_every > steps_per_epoch * config.epochs:  # checked before any training, not after it
        raise OnepochError(
            f"eval_every={config.eval_every} is more than the {steps_per_epoch * config.epochs} steps of this run "
            f"({config.epochs} epoch(s) of {steps_per_epoch} steps: {n} training samples / batch_size "
            f"{config.batch_size}), so the curves would only have the epoch ends; use eval_every < {steps_per_epoch} "
            "to see inside an epoch, or more epochs or data"
        )
    sample = train_sample_index(n, config.train_eval_size)
    eval_sets = [
        EvalSet("train", train_ids[sample], train["label"][sample], train["user_raw"][sample], layout),
        EvalSet("test", layout.pack(data.test), data.test["label"], data.test["user_raw"], layout),
    ]

    model = build_model(config, data.vocab_size, layout)
    state = TrainState(config, model, build_optimizer(config, model), steps_per_epoch,
                       eval_sets=eval_sets, train_ids=train_ids, train_labels=train["label"],
                       train_users=train["user_raw"])
    shuffle = torch.Generator().manual_seed(config.seed)
    # training schemes and controls the config asks for, then probes
    callbacks = [*schemes_for(config), *controls_for(config), *callbacks]

    scored = eval_sets if config.eval_train else eval_sets[1:]  # probes still see the train sample

    def evaluate():
        sync = getattr(state.optimizer, "sync", None)  # a lazy optimizer brings every row up to date first
        if sync is not None:
            sync()
        for s in scored:
            for metric, value in s.scores(model).items():
                state.record(s.name, metric, value)
        for cb in callbacks:
            cb.on_evaluate(state)

    total = steps_per_epoch * config.epochs
    bar = None
    if progress if progress is not None else progress_enabled():
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"{config.dataset} {config.model}", unit="step", leave=False)

    model.train()
    largest = max(p.numel() * p.element_size() for p in model.parameters())
    with large_blocks_on_heap(largest):
        _train(config, state, callbacks, evaluate, train_ids, train_y, n, steps_per_epoch, shuffle, bar)
    if bar is not None:
        bar.close()
    return curves_frame(state.records)


# pandas' "str" dtype held as Python objects. Where pyarrow is installed pandas stores text with pyarrow,
# and a frame pickled so (a cached run) then cannot be loaded where pyarrow is missing: the cache would
# drop it and train the run again. Held this way, a frame loads -- and compares equal -- everywhere.
PLAIN_TEXT = pd.StringDtype("python", na_value=float("nan"))
CURVE_COLUMNS = ("step", "epoch", "split", "metric", "value")


def curves_frame(records) -> pd.DataFrame:
    """The tidy frame of a run's (step, epoch, split, metric, value) records, text without pyarrow."""
    frame = pd.DataFrame(records, columns=pd.Index(CURVE_COLUMNS, dtype=PLAIN_TEXT))
    return frame.astype({"split": PLAIN_TEXT, "metric": PLAIN_TEXT})


def _train(config, state, callbacks, evaluate, train_ids, train_y, n, steps_per_epoch, shuffle, bar) -> None:
    model = state.model
    for cb in callbacks:
        cb.on_train_begin(state)
    evaluate()
    for epoch in range(config.epochs):
        state.epoch_index = epoch
        for cb in callbacks:
            cb.on_epoch_begin(state)
        perm = torch.randperm(n, generator=shuffle)
        for cb in callbacks:  # a control may reorder the epoch (onepoch.train.controls)
            perm = cb.epoch_order(state, perm)
        state.order, state.batch_index = perm, -1
        for b in range(steps_per_epoch):
            rows = perm[b * config.batch_size : (b + 1) * config.batch_size]
            state.batch_index = b
            state.batch_ids = batch = train_ids.index_select(0, rows)
            logits = model(batch)
            loss = F.binary_cross_entropy_with_logits(logits, train_y.index_select(0, rows))
            opt = state.optimizer
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            state.step += 1
            state.loss = loss.item()
            if not math.isfinite(state.loss):
                raise TrainingDiverged(
                    f"loss is {state.loss} at step {state.step} (epoch {state.epoch:.2f}) with "
                    f"optimizer={config.optimizer}, lr={config.lr}, batch_size={config.batch_size}; "
                    "try a smaller learning rate. Nothing was cached for this run."
                )
            for cb in callbacks:
                cb.on_step_end(state)
            if b == steps_per_epoch - 1 or evaluates_at(state.step, epoch, steps_per_epoch, config.eval_every,
                                                        config.schedule):
                evaluate()
            if bar is not None and state.step % 100 == 0:
                bar.update(100)
    for cb in callbacks:
        cb.on_train_end(state)
