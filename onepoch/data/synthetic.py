"""A synthetic CTR data set with a known click model, so the best possible AUC is known.

The generative model (all draws from one seeded generator; latent dimension
`DIM`):

1. **Items.** `items` items get popularity weights from a Zipf law,
   w(rank) = rank ** -zipf, in a random order of their ids. Each item belongs
   to one of `categories` categories (uniformly at random). A category k has
   a centre c_k ~ N(0, I / DIM); an item's latent factor is its category's
   centre plus its own part, v_i = c_k + S_ITEM * e_i with e_i ~ N(0, I / DIM),
   and it has a quality bias b_i ~ N(0, S_QUALITY^2).
2. **Users.** `users` users, each with a preference vector u ~ N(0, I) and a
   click propensity b_u ~ N(0, S_USER^2). Their activity follows the same
   Zipf law: an impression belongs to the user of rank r with probability
   proportional to r ** -zipf.
3. **Histories.** A user's history has a length drawn uniformly from
   1 .. `history`; each entry is a draw from the user's preferences: a
   category with probability proportional to its popularity mass times
   exp(GAMMA <u, c_k>), then an item of that category by popularity.
4. **Impressions.** `samples` impressions: a user drawn by activity, then an
   item drawn from that user's preferences (probability RHO) or by overall
   popularity (1 - RHO).
5. **Clicks.** An impression of item i to user u is clicked with probability

       p(u, i) = sigmoid((<u, v_i> + b_i + b_u) / noise),

   independently. `noise` is a temperature: higher, noisier labels.

A sample is (user ID, item ID, its category, the user's history of item IDs
and their categories, click). The model never sees u, v_i, b_i or b_u: it
must learn them from the IDs, and the rare IDs give it little to learn
from. The Zipf exponent is the sparsity dial: at 0 every user and item is
equally frequent (with many users and items, all IDs are rare: very
sparse); the larger it is, the more of the samples fall on a few frequent
users and items (dense).

Split: a random TEST_SHARE of the impressions (at most TEST_CAP) is the test
set, the rest the training set; test samples come from the same
distribution as training samples, and most of their users and items are
known from training.

Because the true click probability of every test sample is known, so is
the best AUC any model can reach on these test labels: the AUC of the true
probabilities (`bayes_auc`, in `CTRData.params`).

`load(...)` returns the same `CTRData` as `onepoch.data.load` (same tensors,
one global vocabulary by descending frequency), deterministic for a seed
and cached on disk and in memory the same way.
"""
from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np

from onepoch.errors import DataError

SYNTHETIC_VERSION = 2
NAME = "synthetic"
DIM = 8  # latent dimension of users, categories and items
S_ITEM = 0.7  # item's own part of its latent factor, relative to its category's centre
S_QUALITY = 0.7  # std of the item quality bias
S_USER = 0.5  # std of the user click propensity
GAMMA = 1.5  # how strongly preferences steer histories and personalised impressions
RHO = 0.5  # share of impressions drawn from the user's preferences (the rest: by popularity)
TEST_SHARE = 0.1  # share of impressions in the test set ...
TEST_CAP = 10_000  # ... but at most this many
CHUNK = 8192  # rows per block when drawing from preferences
RARE = 10  # an ID seen fewer times than this in its field of the training samples is "rare" (params *_rare_share)

DEFAULTS = dict(samples=200_000, users=20_000, items=20_000, categories=200, zipf=1.0, history=20, noise=1.0,
                seed=0)
_MEMORY: OrderedDict = OrderedDict()  # in-process LRU, see onepoch.data.dataset.cached


def _params(samples, users, items, categories, zipf, history, noise, seed) -> dict:
    params = dict(samples=int(samples), users=int(users), items=int(items), categories=int(categories),
                  zipf=float(zipf), history=int(history), noise=float(noise), seed=int(seed))
    for name in ("users", "items", "categories", "history"):
        if params[name] < 1:
            raise DataError(f"synthetic data: {name} must be >= 1, got {params[name]}")
    if params["samples"] < 100:
        raise DataError(f"synthetic data: samples must be >= 100, got {samples}")
    if params["zipf"] < 0 or params["noise"] <= 0 or params["seed"] < 0:
        raise DataError(f"synthetic data: need zipf >= 0, noise > 0, seed >= 0; got {zipf}, {noise}, {seed}")
    return params


def checksum(samples=DEFAULTS["samples"], users=DEFAULTS["users"], items=DEFAULTS["items"],
             categories=DEFAULTS["categories"], zipf=DEFAULTS["zipf"], history=DEFAULTS["history"],
             noise=DEFAULTS["noise"], seed=DEFAULTS["seed"]) -> str:
    """The data checksum `load` gives these arguments, without generating anything."""
    from onepoch.config import versioned_key

    params = _params(samples, users, items, categories, zipf, history, noise, seed)
    # numpy's samplers draw the whole data set: another numpy version, other data, another key
    return versioned_key({"name": NAME, "params": params, "version": SYNTHETIC_VERSION,
                          "constants": [DIM, S_ITEM, S_QUALITY, S_USER, GAMMA, RHO, TEST_SHARE, TEST_CAP]},
                         ("numpy",))


# -- the generative model -------------------------------------------------------

def zipf_weights(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Shares rank ** -exponent (summing to 1), assigned to the n ids in a random order."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    out = np.empty(n)
    out[rng.permutation(n)] = weights / weights.sum()
    return out


def draw(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """n ids drawn with probabilities `shares`."""
    cum = np.cumsum(shares)
    return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)


class World:
    """The latent truth: activity, popularity, categories, factors and biases (see the module docstring)."""

    def __init__(self, rng: np.random.Generator, users: int, items: int, categories: int, zipf: float):
        self.activity = zipf_weights(rng, users, zipf)
        self.popularity = zipf_weights(rng, items, zipf)
        self.item_category = rng.integers(0, categories, items)
        self.centres = rng.normal(0.0, 1.0 / np.sqrt(DIM), (categories, DIM))
        own = rng.normal(0.0, 1.0 / np.sqrt(DIM), (items, DIM))
        self.item_factor = self.centres[self.item_category] + S_ITEM * own
        self.item_bias = rng.normal(0.0, S_QUALITY, items)
        self.user_factor = rng.normal(0.0, 1.0, (users, DIM))
        self.user_bias = rng.normal(0.0, S_USER, users)
        # items grouped by category, with cumulative popularity, to draw "an item of category k by popularity"
        self.by_category = np.argsort(self.item_category, kind="stable")
        self.cum = np.cumsum(self.popularity[self.by_category])
        mass = np.bincount(self.item_category, weights=self.popularity, minlength=categories)
        self.category_mass = mass
        self.category_start = np.cumsum(mass) - mass
        counts = np.bincount(self.item_category, minlength=categories)
        self.first = np.cumsum(counts) - counts  # position of each category's first item in by_category
        self.last = self.first + np.maximum(counts - 1, 0)
        self.log_mass = np.log(np.maximum(mass, 1e-300))

    def click_probability(self, users: np.ndarray, items: np.ndarray, noise: float) -> np.ndarray:
        z = np.einsum("nd,nd->n", self.user_factor[users], self.item_factor[items])
        z += self.item_bias[items] + self.user_bias[users]
        return 1.0 / (1.0 + np.exp(-z / noise))

    def preferred_items(self, rng, users: np.ndarray, draws: int) -> np.ndarray:
        """(len(users), draws) items drawn from each user's preferences: a category, then an item in it."""
        out = np.empty((len(users), draws), dtype=np.int64)
        for start in range(0, len(users), CHUNK):
            block = users[start:start + CHUNK]
            logits = self.log_mass[None, :] + GAMMA * (self.user_factor[block] @ self.centres.T)
            logits -= logits.max(axis=1, keepdims=True)
            cdf = np.cumsum(np.exp(logits), axis=1)
            cdf /= cdf[:, -1:]
            # one searchsorted over all rows: row r's cdf shifted by r is increasing overall
            rows = np.arange(len(block))
            flat = (cdf + rows[:, None]).ravel()
            u = rng.random((len(block), draws)) + rows[:, None]
            k = np.searchsorted(flat, u.ravel(), side="right") - np.repeat(rows * cdf.shape[1], draws)
            k = np.clip(k, 0, cdf.shape[1] - 1).reshape(len(block), draws)
            out[start:start + len(block)] = self._item_in(rng, k)
        return out

    def _item_in(self, rng, k: np.ndarray) -> np.ndarray:
        """An item of category k (array), drawn by popularity within the category."""
        t = self.category_start[k] + rng.random(k.shape) * self.category_mass[k]
        pos = np.searchsorted(self.cum, t, side="right")
        pos = np.clip(pos, self.first[k], self.last[k])  # float round-off at the category's edges
        return self.by_category[pos]


def generate(samples=DEFAULTS["samples"], users=DEFAULTS["users"], items=DEFAULTS["items"],
             categories=DEFAULTS["categories"], zipf=DEFAULTS["zipf"], history=DEFAULTS["history"],
             noise=DEFAULTS["noise"], seed=DEFAULTS["seed"]):
    """Raw (train, test) sample dicts as `onepoch.data.samples.build_samples` gives them, plus
    the true click probability of every sample (key `p_true`), and the `World`."""
    params = _params(samples, users, items, categories, zipf, history, noise, seed)
    rng = np.random.default_rng([params["seed"], 20221017])
    world = World(rng, params["users"], params["items"], params["categories"], params["zipf"])
    n, max_len = params["samples"], params["history"]

    owner = draw(rng, world.activity, n)
    active = np.unique(owner)
    lengths = rng.integers(1, max_len + 1, len(active))
    hist = world.preferred_items(rng, active, max_len)
    hist[np.arange(max_len)[None, :] >= lengths[:, None]] = -1  # right padding
    hist_row = np.searchsorted(active, owner)  # each impression's user -> row of `hist`

    personal = rng.random(n) < RHO
    item = draw(rng, world.popularity, n)
    item[personal] = world.preferred_items(rng, owner[personal], 1)[:, 0]
    p = world.click_probability(owner, item, params["noise"])
    label = (rng.random(n) < p).astype(np.float32)

    in_test = np.zeros(n, dtype=bool)
    in_test[rng.choice(n, sizes(n)[1], replace=False)] = True

    def split(mask):
        h = hist[hist_row[mask]]
        hist_items = np.where(h >= 0, h + 1, 0)  # raw item ids 1.., 0 = padding
        hist_cats = np.where(h >= 0, world.item_category[np.maximum(h, 0)] + 1, 0)
        return dict(user_raw=owner[mask], item=item[mask] + 1, category=world.item_category[item[mask]] + 1,
                    hist_items=hist_items, hist_cats=hist_cats, label=label[mask], p_true=p[mask])

    return split(~in_test), split(in_test), world


def load(samples=DEFAULTS["samples"], users=DEFAULTS["users"], items=DEFAULTS["items"],
         categories=DEFAULTS["categories"], zipf=DEFAULTS["zipf"], history=DEFAULTS["history"],
         noise=DEFAULTS["noise"], seed=DEFAULTS["seed"]):
    """The synthetic data as a `CTRData` (encoded tensors, global vocabulary), cached.

    `params` holds the knobs and the truth: `bayes_auc` (AUC of the true click
    probabilities on the test labels: the ceiling for any model),
    `bayes_logloss`, and the click rates of train and test.
    """
    from onepoch.data.dataset import cache_dir, cached

    key = checksum(samples, users, items, categories, zipf, history, noise, seed)
    path = cache_dir() / f"{NAME}-{key}.pt"
    data = cached(key, path, lambda: _build(key, _params(samples, users, items, categories, zipf, history, noise,
                                                              seed)), _MEMORY)
    _write_info(path.with_suffix(".json"), data.params)
    return data


def _write_info(path, params: dict) -> None:
    """The parameters and truth of a cached data set, readable without loading its tensors."""
    from onepoch import atomic

    if not path.is_file():
        atomic.write_text(path, json.dumps(params, sort_keys=True))


def info(samples=DEFAULTS["samples"], users=DEFAULTS["users"], items=DEFAULTS["items"],
         categories=DEFAULTS["categories"], zipf=DEFAULTS["zipf"], history=DEFAULTS["history"],
         noise=DEFAULTS["noise"], seed=DEFAULTS["seed"]) -> dict:
    """`load(...).params` (knobs, Bayes-optimal AUC, sparsity statistics) without keeping the data in
    memory: generated and cached on first use, then read from a small file beside the cache."""
    from onepoch.data.dataset import cache_dir

    key = checksum(samples, users, items, categories, zipf, history, noise, seed)
    path = cache_dir() / f"{NAME}-{key}.json"
    if key in _MEMORY:
        return dict(_MEMORY[key].params)
    if not path.is_file():
        load(samples, users, items, categories, zipf, history, noise, seed)
        _MEMORY.pop(key, None)  # keep no copy: the caller wanted the numbers only
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # unreadable: rebuild it from the data
        path.unlink(missing_ok=True)
        return dict(load(samples, users, items, categories, zipf, history, noise, seed).params)


def _build(key: str, params: dict):
    from onepoch.data.dataset import FIELDS, CTRData
    from onepoch.data.vocab import Vocabulary
    from onepoch.metrics import auc, logloss

    train_raw, test_raw, _ = generate(**params)
    vocab = Vocabulary.fit(train_raw)
    truth = dict(
        bayes_auc=float(auc(test_raw["label"].astype(bool), test_raw["p_true"])),
        bayes_logloss=float(logloss(test_raw["label"].astype(bool), test_raw["p_true"])),
        expected_bayes_auc=float(expected_auc(test_raw["p_true"])),
        train_ctr=float(train_raw["label"].mean()), test_ctr=float(test_raw["label"].mean()),
    )
    data = CTRData(vocab.encode(train_raw), vocab.encode(test_raw), vocab.size, FIELDS, key, NAME, NAME, vocab, {})
    stats = data.field_stats()
    described = dict(
        train_samples=len(train_raw["label"]), test_samples=len(test_raw["label"]), vocab_size=int(vocab.size),
        user_mean_occurrences=float(stats.loc["user_id", "mean_occurrences"]),
        item_mean_occurrences=float(stats.loc["item_id", "mean_occurrences"]),
        item_rare_share=sparsity(data, "item_id", RARE), user_rare_share=sparsity(data, "user_id", RARE),
        bottom_half_share=float(data.bottom_share()),
    )
    data.params = dict(params, construction=NAME, **truth, **described)
    return data


def sizes(samples: int) -> tuple[int, int]:
    """(training samples, test samples) of a synthetic data set with `samples` impressions."""
    test = min(TEST_CAP, max(1, round(TEST_SHARE * samples)))
    return samples - test, test


def expected_auc(p: np.ndarray) -> float:
    """AUC of scores p on labels drawn as Bernoulli(p), in expectation over the labels:
    sum over pairs p_i (1 - p_j) [p_i > p_j] (+ 1/2 for ties) / sum p_i (1 - p_j), i != j."""
    p = np.sort(np.asarray(p, dtype=np.float64))
    q = 1.0 - p
    # for each i, the negatives' weight of all j with p_j < p_i (ties counted half)
    _, first, counts = np.unique(p, return_index=True, return_counts=True)
    below = np.concatenate([[0.0], np.cumsum(q)])
    idx = np.repeat(first, counts)
    cnt = np.repeat(counts, counts)
    tie_q = below[idx + cnt] - below[idx]
    num = np.sum(p * (below[idx] + 0.5 * (tie_q - q)))
    den = p.sum() * q.sum() - np.sum(p * q)
    return float(num / den) if den > 0 else float("nan")


def bayes_auc(data) -> float:
    """The ceiling on test AUC of a synthetic `CTRData`: the AUC of the true click probabilities."""
    try:
        return float(data.params["bayes_auc"])
    except KeyError:
        raise DataError(f"{data!r} is not synthetic data: no known click model") from None


def sparsity(data, field: str = "item_id", rare: int = 10) -> float:
    """Share of the occurrences of `field` whose ID occurs fewer than `rare` times in that field
    of the training samples (padding excluded): how much of the data rests on rarely seen IDs."""
    ids = data.train[field].numpy().ravel()
    ids = ids[ids != 0]
    counts = np.bincount(ids)
    return float(np.mean(counts[ids] < rare))
