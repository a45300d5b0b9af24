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
from dataclasses import dataclass, field

from onepoch.errors import OnepochError


class ConfigError(OnepochError, ValueError):
    """A setting that cannot be run; the message names the setting and the fix."""


DATASETS = ("beauty", "sports", "toys", "yelp", "ml-100k", "amazon-book", "taobao")
CONSTRUCTIONS = ("positions", "last")
MODELS = ("dnn", "lr")
ACTIVATIONS = ("dice", "prelu", "relu", "sigmoid")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
EMB_INITS = ("glorot", "normal")
SPARSITY = ("none", "filter", "hash")
FINETUNE = ("none", "all", "embedding", "mlp")
FIELDS = ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")

# Bump when a change to the code changes the numbers a run produces, so that
# cached results from before the change are not reused.
RESULT_VERSION = 2

# Options added after results were first cached, with the value that behaves
# as before they existed. At that value they are left out of the cache key,
# so adding an option does not invalidate every finished run.
NEUTRAL = {"sparsity": "none", "sparsity_m": 1.0, "finetune": "none", "finetune_lr": 0.0}


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
    max_history: int = 50
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
        _choice("dataset", self.dataset, DATASETS)
        _choice("construction", self.construction, CONSTRUCTIONS)
        _choice("model", self.model, MODELS)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("emb_init", self.emb_init, EMB_INITS)
        _choice("sparsity", self.sparsity, SPARSITY)
        _choice("finetune", self.finetune, FINETUNE)
        _positive("finetune_lr", self.finetune_lr, allow_zero=True)
        if not 0.0 < self.sparsity_m <= 1.0:
            raise ConfigError(f"sparsity_m must be in (0, 1], got {self.sparsity_m!r}")
        for f in self.fields:
            _choice("field", f, FIELDS)
        if not self.fields:
            raise ConfigError("fields is empty; keep at least one of: " + ", ".join(FIELDS))
        for name in ("max_history", "emb_dim", "batch_size", "epochs", "eval_every", "train_eval_size"):
            value = getattr(self, name)
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
        if any((not isinstance(h, int)) or h <= 0 for h in self.hidden):
            raise ConfigError(f"hidden must be positive layer widths, e.g. (200, 80); got {self.hidden!r}")

    # -- helpers ---------------------------------------------------------
    def replace(self, **changes) -> "RunConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)}; valid: {', '.join(config_names())}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def data_args(self) -> dict:
        """The arguments of `onepoch.data.load` this run needs."""
        return dict(
            construction=self.construction,
            max_history=self.max_history,
            min_history=self.min_history,
            test_users=self.test_users,
            max_users=self.max_users,
            seed=self.data_seed,
        )

    def key(self, data_checksum: str = "") -> str:
        """Hash of every setting, the data's checksum and the result version."""
        import torch  # numbers depend on the torch version

        settings = {k: v for k, v in self.as_dict().items() if k not in NEUTRAL or v != NEUTRAL[k]}
        payload = {"config": settings, "data": data_checksum, "version": RESULT_VERSION, "torch": torch.__version__}
        if changed_libraries():  # numpy / scikit-learn at other versions than the cached results'
            payload["libraries"] = changed_libraries()
        payload = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


def config_names() -> list[str]:
    return [f.name for f in dataclasses.fields(RunConfig)]


def make_config(**settings) -> RunConfig:
    """`RunConfig(**settings)`, with an error listing valid names for a typo."""
    unknown = set(settings) - set(config_names())
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)}; valid: {', '.join(config_names())}")
    return RunConfig(**settings)
