"""A run is one configuration: data, model and training settings, plus a seed.

`RunConfig` is frozen and validated on creation, so a bad value fails where it
is written (a notebook's parameters cell, `onepoch run -p ...`), not deep
inside a training loop. Its `key()` hashes every field, which is what the
result cache is keyed by.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import numbers
from dataclasses import dataclass

from onepoch.data import registry as _registry
from onepoch.errors import OnepochError


class ConfigError(OnepochError, ValueError):
    """A setting that cannot be run; the message names the setting and the fix."""


# the data set names live in onepoch.data.registry (light: no numpy / torch), with those a user added
DATASETS = _registry.BUILTIN
CONSTRUCTIONS = ("positions", "last")
MODELS = ("dnn", "lr", "fm", "deepfm", "dcnv2", "din")  # onepoch.models.ARCHITECTURES
ACTIVATIONS = ("dice", "prelu", "relu", "sigmoid")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
EMB_INITS = ("glorot", "normal")
SPARSITY = ("none", "filter", "hash")
FINETUNE = ("none", "all", "embedding", "mlp")
EMB_OPTIMIZERS = ("dense", "lazy", "catchup")
EVAL_SCHEDULES = ("paper", "boundaries")  # see onepoch.train.schedule
SECOND_PASS = ("none", "repeat", "fresh")
FIELDS = _registry.PAPER_FIELDS
# History slots when a run leaves max_history unset: the data set's own definition (the paper's data
# sets keep DIEN's last 100, as onepoch.data.sources says; tests check the two agree), else 50.
HISTORY_DEFAULT = 50
DATASET_HISTORY = {"amazon-book": 100, "taobao": 100}

# Bump when a change to the code changes the numbers a run produces, so that
# cached results from before the change are not reused.
RESULT_VERSION = 2
# Like RESULT_VERSION, for a change that alters only the DNN's numbers with some activations: the
# revision joins the key of those runs only, so the runs it leaves unchanged stay cached.
# relu/prelu 1: hidden biases start at 0 (onepoch.models.embedding_mlp, "Why hidden biases ...").
ACTIVATION_REVISION = {"dice": 0, "prelu": 1, "relu": 1, "sigmoid": 0}
# Bounds on sizes (checked in RunConfig): far above any setting of the paper or the book, far
# below what ends in an allocation error on a workstation.
SIZE_LIMITS = {"emb_dim": 4096, "batch_size": 1 << 20, "epochs": 1000, "max_history": 10_000,
               "train_eval_size": 10_000_000, "hidden": 1 << 16}
MIN_TRAIN_EVAL = 100  # a training-AUC sample smaller than this is often one-class: NaN AUC

# Options added after results were first cached, with the value that behaves
# as before they existed. At that value they are left out of the cache key,
# so adding an option does not invalidate every finished run.
NEUTRAL = {"sparsity": "none", "sparsity_m": 1.0, "finetune": "none", "finetune_lr": 0.0,
           # multi-epoch remedies (onepoch.train.remedies)
           "meda": False, "lr_decay": 1.0, "emb_optimizer": "dense", "emb_l2": 0.0,
           "emb_decay": 0.0, "emb_decay_alpha": 0.01,
           # knobs of the synthetic data set (onepoch.data.synthetic); used only with dataset="synthetic"
           "syn_samples": 200_000, "syn_users": 20_000, "syn_items": 20_000, "syn_categories": 200,
           "syn_zipf": 1.0, "syn_noise": 1.0,
           # evaluation schedule (onepoch.train.schedule); "paper" = every eval_every steps throughout
           "eval_schedule": "paper", "eval_train": True,
           # causal controls and the size axis (onepoch.train.controls)
           "freeze_norm_stats": False, "reset_optimizer": False, "second_pass": "none", "reshuffle": True,
           "train_user_fraction": 1.0}
SYNTHETIC_KNOBS = ("syn_samples", "syn_users", "syn_items", "syn_categories", "syn_zipf", "syn_noise")


# Libraries besides torch (always in the key) whose version changes the numbers:
# numpy (samples, metrics) and scikit-learn (the A-distance probe). At the versions
# the cached results were computed with they are left out of the key, like NEUTRAL
# options; any other installed version is part of it, so results never mix versions.
KEYED_LIBRARIES = {"numpy": "2.4.6", "scikit-learn": "1.9.1"}


@functools.lru_cache(maxsize=None)
def installed_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def changed_libraries(packages=tuple(KEYED_LIBRARIES)) -> dict[str, str]:
    """Installed versions of `packages` that differ from KEYED_LIBRARIES (what cache keys include)."""
    return {p: v for p in packages if (v := installed_version(p)) != KEYED_LIBRARIES[p]}


def versioned_key(payload: dict, packages=tuple(KEYED_LIBRARIES)) -> str:
    """sha256 of `payload` as sorted JSON, plus the versions of `packages` that differ from
    KEYED_LIBRARIES: at the pinned versions nothing is added, so the keys made there stay valid."""
    changed = changed_libraries(packages)
    if changed:
        payload = {**payload, "libraries": changed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _dataset_fields(dataset: str) -> tuple[str, ...]:
    """The feature fields a run on `dataset` may name: a tabular data set's columns, else FIELDS.
    (The default, FIELDS, on a tabular data set means all of its fields.)"""
    entry = _registry.user_entries().get(dataset, {})
    if entry.get("format") == "tabular":
        return tuple(entry.get("categorical", ())) + tuple(entry.get("numeric", ()))
    return FIELDS


def _choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(map(str, choices))}")


def _check_type(name: str, value, annotation: str):
    """`value` checked against a field's annotation (a string); returns it normalised
    (numpy scalars to Python ones). Wrong types fail here with a ConfigError, never as a
    TypeError from a comparison or deep inside torch."""
    kind = annotation.replace(" ", "")
    if kind.endswith("|None"):
        if value is None:
            return None
        kind = kind[: -len("|None")]
    if kind.startswith("tuple["):
        inner = kind[len("tuple["):].split(",")[0]
        try:
            if not isinstance(value, tuple):
                raise ConfigError(value)
            return tuple(_check_type(name, v, inner) for v in value)
        except ConfigError:
            raise ConfigError(f"{name} must be a list or tuple of {inner} values, got {value!r}") from None
    wrong = isinstance(value, bool) != (kind == "bool")
    if kind == "int":
        if wrong or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
        return value if type(value) is int else int(value)
    if kind == "float":
        if wrong or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r} ({type(value).__name__})")
        return value if type(value) in (int, float) else float(value)
    if kind == "bool" and wrong:
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    if kind == "str" and not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {value!r} ({type(value).__name__})")
    return value


def _positive(name: str, value, allow_zero: bool = False) -> None:
    bad = value < 0 if allow_zero else value <= 0
    if bad:
        need = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be {need}, got {value!r}")


@dataclass(frozen=True)
class RunConfig:
    # --- data (paper Sec. 6.1; see onepoch.data) ---
    dataset: str = "sports"
    construction: str = "last"  # the paper's (DIEN): each user's last interaction; or "positions"
    max_history: int | None = None  # history slots; None: the data set's own (see DATASET_HISTORY)
    min_history: int = 1
    test_users: float = 0.1  # share of users in test, "last" construction only
    max_users: int | None = None  # a random subset of users (quick mode)
    data_seed: int = 0  # negative sampling and user split
    fields: tuple[str, ...] = FIELDS  # feature fields fed to the model
    sparsity: str = "none"  # "filter" or "hash" the IDs (paper Sec. 4.2), see onepoch.data.sparsity
    sparsity_m: float = 1.0  # share of IDs kept (filter) or buckets per ID (hash), in (0, 1]
    # --- model (paper Sec. 6.2) ---
    model: str = "dnn"
    emb_dim: int = 8
    hidden: tuple[int, ...] = (200, 80)
    activation: str = "dice"
    dropout: float = 0.0  # before each fully connected layer
    emb_init: str = "glorot"  # TF1's default for the original code's embedding table
    emb_init_std: float = 0.01  # only for emb_init="normal"
    # --- training ---
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 4
    weight_decay: float = 0.0
    eval_every: int = 50  # iterations between evaluations (paper: 50)
    train_eval_size: int = 30_000  # fixed training sample evaluated alongside test
    finetune: str = "none"  # from epoch 2 train only "embedding", only "mlp", or "all" (fresh optimizer)
    finetune_lr: float = 0.0  # learning rate from epoch 2 when finetune is set; 0 = lr
    eval_schedule: str = "paper"  # "boundaries": paper cadence in epochs 1-2 and after boundaries, coarser between
    eval_train: bool = True  # also evaluate the fixed training sample (curves of split "train")
    # --- multi-epoch remedies (see onepoch.train.remedies; each off at its default) ---
    meda: bool = False  # MEDA: fresh embedding table + its optimizer state at every epoch start, MLP kept
    lr_decay: float = 1.0  # every learning rate times this at each epoch boundary (1 = no decay)
    emb_optimizer: str = "dense"  # "lazy": Adam moves only the embedding rows in the batch (SparseAdam);
    # "catchup": dense Adam's trajectory, each row's skipped steps replayed when next looked up (catchup_adam.py)
    emb_l2: float = 0.0  # L2 penalty on the embedding table (coupled, through Adam), on top of weight_decay
    emb_decay: float = 0.0  # frequency-aware decoupled decay of embedding rows (rare IDs harder)
    emb_decay_alpha: float = 0.01  # full decay for IDs unseen for >= 1 / alpha steps
    # --- synthetic data (dataset="synthetic", see onepoch.data.synthetic); max_history = history length ---
    syn_samples: int = 200_000  # impressions (samples), train and test together
    syn_users: int = 20_000
    syn_items: int = 20_000
    syn_categories: int = 200
    syn_zipf: float = 1.0  # Zipf exponent of user activity and item popularity: smaller = sparser
    syn_noise: float = 1.0  # temperature of the click model: higher = noisier labels
    # --- causal controls and the data-size axis (see onepoch.train.controls; each off at its default) ---
    freeze_norm_stats: bool = False  # Dice's running statistics frozen from the end of epoch 1
    reset_optimizer: bool = False  # the optimizer's state (Adam's moments) dropped at every epoch boundary
    second_pass: str = "none"  # epoch 1 as half A then "repeat" (A again) or "fresh" (the other half B)
    reshuffle: bool = True  # False: every epoch in the first epoch's order
    train_user_fraction: float = 1.0  # train on this share of the training users (nested, by data_seed)
    seed: int = 0

    def __post_init__(self):
        # papermill / CLI hand lists; store tuples so the config stays hashable
        for name in ("fields", "hidden"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        for f in dataclasses.fields(self):  # types first: the checks below compare values
            object.__setattr__(self, f.name, _check_type(f.name, getattr(self, f.name), str(f.type)))
        for name in ("seed", "data_seed"):
            if not 0 <= getattr(self, name) < 2**63:
                raise ConfigError(f"{name} must be an integer in [0, 2**63), got {getattr(self, name)!r}")
        _choice("dataset", self.dataset, _registry.names())
        _choice("construction", self.construction, CONSTRUCTIONS)
        _choice("model", self.model, MODELS)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("emb_init", self.emb_init, EMB_INITS)
        _choice("sparsity", self.sparsity, SPARSITY)
        _choice("finetune", self.finetune, FINETUNE)
        _choice("eval_schedule", self.eval_schedule, EVAL_SCHEDULES)
        _positive("finetune_lr", self.finetune_lr, allow_zero=True)
        if not 0.0 < self.sparsity_m <= 1.0:
            raise ConfigError(f"sparsity_m must be in (0, 1], got {self.sparsity_m!r}")
        for f in self.fields:
            _choice("field", f, FIELDS if self.fields == FIELDS else _dataset_fields(self.dataset))
        if not self.fields:
            raise ConfigError("fields is empty; keep at least one of: " + ", ".join(FIELDS))
        for name in ("max_history", "emb_dim", "batch_size", "epochs", "eval_every", "train_eval_size"):
            value = self.history_length if name == "max_history" else getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{name} must be an integer, got {value!r}")
            _positive(name, value)
        _positive("min_history", self.min_history)
        _positive("lr", self.lr)
        _positive("emb_init_std", self.emb_init_std)
        _positive("weight_decay", self.weight_decay, allow_zero=True)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not 0.0 < self.test_users < 1.0:
            raise ConfigError(f"test_users must be in (0, 1), got {self.test_users!r}")
        if self.max_users is not None:
            _positive("max_users", self.max_users)
        self._check_remedies()
        self._check_controls()
        self._check_synthetic()
        if any((not isinstance(h, int)) or h <= 0 for h in self.hidden):
            raise ConfigError(f"hidden must be positive layer widths, e.g. (200, 80); got {self.hidden!r}")
        self._check_bounds()

    def _check_bounds(self) -> None:
        """Values that would end in a raw allocation error, a silent NaN curve or a doubled input."""
        repeated = sorted({f for f in self.fields if self.fields.count(f) > 1})
        if repeated:
            raise ConfigError(f"fields lists {', '.join(repeated)} more than once: give each field once, "
                              f"e.g. fields={tuple(dict.fromkeys(self.fields))!r}")
        sizes = {"emb_dim": self.emb_dim, "batch_size": self.batch_size, "epochs": self.epochs,
                 "max_history": self.history_length, "train_eval_size": self.train_eval_size,
                 "hidden": max(self.hidden, default=0)}
        for name, value in sizes.items():
            if value > SIZE_LIMITS[name]:
                raise ConfigError(f"{name}={value} is beyond the bound {SIZE_LIMITS[name]:_} this package "
                                  f"allows (memory and time grow with it): use at most {SIZE_LIMITS[name]:_}")
        if self.train_eval_size < MIN_TRAIN_EVAL:
            raise ConfigError(f"train_eval_size={self.train_eval_size} is too small to measure a training AUC "
                              f"(it needs both labels; a tiny sample gives NaN): use at least {MIN_TRAIN_EVAL}")

    def _check_remedies(self) -> None:
        if not isinstance(self.meda, bool):
            raise ConfigError(f"meda must be True or False, got {self.meda!r}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"lr_decay must be in (0, 1] (1 = no decay), got {self.lr_decay!r}")
        _choice("emb_optimizer", self.emb_optimizer, EMB_OPTIMIZERS)
        _positive("emb_l2", self.emb_l2, allow_zero=True)
        _positive("emb_decay", self.emb_decay, allow_zero=True)
        _positive("emb_decay_alpha", self.emb_decay_alpha)
        if self.emb_optimizer == "lazy" and self.optimizer != "adam":
            raise ConfigError(f"emb_optimizer='lazy' is lazy Adam; it needs optimizer='adam', got {self.optimizer!r}")
        if self.emb_optimizer == "catchup" and self.reset_optimizer:
            raise ConfigError("emb_optimizer='catchup' does not support reset_optimizer=True (a reset would drop the "
                              "rows' pending, not yet replayed steps); use emb_optimizer='dense'")
        if self.emb_optimizer == "catchup" and (self.optimizer != "adam" or self.weight_decay or self.emb_l2):
            raise ConfigError(
                "emb_optimizer='catchup' replays Adam's steps with gradient zero; it needs optimizer='adam', "
                f"weight_decay=0 and emb_l2=0, got optimizer={self.optimizer!r}, weight_decay={self.weight_decay}, "
                f"emb_l2={self.emb_l2}; use emb_optimizer='dense' for those")

    def _check_controls(self) -> None:
        _choice("second_pass", self.second_pass, SECOND_PASS)
        if not 0.0 < self.train_user_fraction <= 1.0:
            raise ConfigError(f"train_user_fraction must be in (0, 1], got {self.train_user_fraction!r}")
        if self.freeze_norm_stats and (self.model != "dnn" or self.activation != "dice"):
            raise ConfigError("freeze_norm_stats freezes Dice's batch-norm statistics; it needs model='dnn' and "
                              f"activation='dice' (got model={self.model!r}, activation={self.activation!r})")

    def _check_synthetic(self) -> None:
        changed = [k for k in SYNTHETIC_KNOBS if getattr(self, k) != NEUTRAL[k]]
        if self.dataset != "synthetic":
            if changed:
                raise ConfigError(f"{', '.join(changed)} only apply to dataset='synthetic' (got dataset={self.dataset!r})")
            return
        for name in ("syn_samples", "syn_users", "syn_items", "syn_categories"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.syn_samples < 100:
            raise ConfigError(f"syn_samples must be >= 100, got {self.syn_samples!r}")
        _positive("syn_zipf", self.syn_zipf, allow_zero=True)
        _positive("syn_noise", self.syn_noise)
        if self.max_users is not None:
            raise ConfigError("max_users does not apply to dataset='synthetic'; set syn_users instead")

    # -- helpers ---------------------------------------------------------
    def replace(self, **changes) -> "RunConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)}; valid: {', '.join(config_names())}")
        return dataclasses.replace(self, **changes)

    @property
    def history_length(self) -> int:
        """`max_history`, or when it is None the data set's own number of history slots."""
        if self.max_history is not None:
            return self.max_history
        return DATASET_HISTORY.get(self.dataset, HISTORY_DEFAULT)

    def as_dict(self) -> dict:
        """Every setting, `max_history` as the length the run uses (so the cache key of a run that
        leaves it unset is that of one that writes it out)."""
        return dataclasses.asdict(self) | {"max_history": self.history_length, "eval_schedule": self.schedule}

    @property
    def schedule(self) -> str:
        """`eval_schedule` as the run uses it: "boundaries" is "paper" for runs of at most two
        epochs (both evaluate at the same steps), so such runs keep one cache key."""
        return "paper" if self.epochs <= 2 else self.eval_schedule

    def data_args(self) -> dict:
        """The arguments of `onepoch.data.load` this run needs."""
        return dict(
            construction=self.construction,
            max_history=self.history_length,
            min_history=self.min_history,
            test_users=self.test_users,
            max_users=self.max_users,
            seed=self.data_seed,
        )

    def synthetic_args(self) -> dict:
        """The arguments of `onepoch.data.synthetic.load` a run on dataset="synthetic" needs."""
        return dict(samples=self.syn_samples, users=self.syn_users, items=self.syn_items,
                    categories=self.syn_categories, zipf=self.syn_zipf, history=self.history_length,
                    noise=self.syn_noise, seed=self.data_seed)

    def key(self, data_checksum: str = "") -> str:
        """Hash of every setting, the data's checksum and the result version."""
        import torch  # numbers depend on the torch version

        settings = {k: v for k, v in self.as_dict().items() if k not in NEUTRAL or v != NEUTRAL[k]}
        if self.model == "dnn" and ACTIVATION_REVISION.get(self.activation, 0):
            settings["activation_revision"] = ACTIVATION_REVISION[self.activation]
        # numpy / scikit-learn at other versions than the cached results' join the key
        return versioned_key({"config": settings, "data": data_checksum, "version": RESULT_VERSION,
                              "torch": torch.__version__})


def config_names() -> list[str]:
    return [f.name for f in dataclasses.fields(RunConfig)]


def make_config(**settings) -> RunConfig:
    """`RunConfig(**settings)`, with an error listing valid names for a typo."""
    unknown = set(settings) - set(config_names())
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)}; valid: {', '.join(config_names())}")
    return RunConfig(**settings)
