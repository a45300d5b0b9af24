"""Effects with 95% intervals, and the verdicts decided from them.

Every claim of the ledger rests on an `Effect`: a number per seed (a drop, a
gain, a difference to a baseline), its mean, and a 95% interval.

Where test-set sampling error comes from. A seed draws the training order,
the initialisation *and* (through `data_seed`, see `onepoch.runs.sweep`) the
user split and the negatives. Each seed is then evaluated on its own test
users, so the spread of a per-seed effect over seeds already contains the
test-set sampling error, and `seed_effect`'s Student-t interval over seeds
is a complete 95% interval (a percentile bootstrap over 3-5 seeds would
under-cover: ~75-85%). Where per-user numbers exist (e.g. the per-user
contributions to an AUC from `auc_user_contributions`), `user_bootstrap_effect`
resamples seeds *and* test users -- nested when each seed has its own test
users, crossed when they share one test set (a fixed data seed, where the
seed spread alone would leave the test-set error out). A run stores only its
curves, so the chapters use `seed_effect` with the data seed varied; where a
chapter keeps the data seed fixed it says so and its rows state "seeds only".

Verdicts: `directional` (an effect above a bound), `at_most` (below a margin:
"does not drop"), `equivalence` (inside +-margin: "no effect"), combined by
`all_of`; `precondition` says when a claim is not testable. The bounds are in
`onepoch.analysis.rules`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from scipy import stats as _st

from onepoch.analysis.rules import AUC_FLOOR, BOOTSTRAP_SAMPLES, CONFIDENCE, PLACEBO_SKIP


class Verdict(str, Enum):
    AGREES = "agrees"
    DISAGREES = "disagrees"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not testable"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Effect:
    """A mean effect over seeds with its interval; `values` are the per-seed effects."""

    estimate: float
    low: float
    high: float
    n_seeds: int
    method: str
    se: float = float("nan")
    df: float = float("nan")
    values: tuple = field(default=(), repr=False)

    @property
    def ci(self) -> tuple[float, float]:
        return (self.low, self.high)

    def text(self, digits: int = 4) -> str:
        """'0.0123 [0.0101, 0.0145]' (95% interval); the interval is 'n/a' with fewer than 2 seeds."""
        if not math.isfinite(self.estimate):
            return "n/a"
        def num(x: float) -> str:  # never "-0.0000"
            text = f"{x:.{digits}f}"
            return f"{0:.{digits}f}" if float(text) == 0 else text

        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return f"{num(self.estimate)} [n/a]"
        return f"{num(self.estimate)} [{num(self.low)}, {num(self.high)}]"


def _t(df: float, confidence: float) -> float:
    return float(_st.t.ppf(0.5 + confidence / 2, df)) if df >= 1 else float("nan")


def seed_effect(values, confidence: float = CONFIDENCE) -> Effect:
    """Mean of per-seed values with a Student-t interval over seeds (NaN values dropped).

    Fewer than two seeds give the mean with an interval of NaN (any verdict on it is inconclusive)."""
    v = np.asarray([x for x in np.asarray(values, dtype=float).ravel() if np.isfinite(x)])
    n = len(v)
    if n == 0:
        return Effect(float("nan"), float("nan"), float("nan"), 0, "seeds (t)")
    mean = float(v.mean())
    if n < 2:
        return Effect(mean, float("nan"), float("nan"), 1, "seeds (t)", values=tuple(v))
    se = float(v.std(ddof=1) / math.sqrt(n))
    half = _t(n - 1, confidence) * se
    return Effect(mean, mean - half, mean + half, n, "seeds (t)", se, n - 1, tuple(v))


def paired_effect(a, b, confidence: float = CONFIDENCE) -> Effect:
    """`seed_effect` of a - b, seed by seed (aligned sequences, or pandas Series indexed by seed)."""
    if hasattr(a, "align") and hasattr(b, "align"):
        a, b = a.align(b, join="inner")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_effect needs one value per seed on both sides, got {a.shape} and {b.shape}")
    return seed_effect(a - b, confidence)


def user_bootstrap_effect(per_user, shared_users: bool = False, n_boot: int = BOOTSTRAP_SAMPLES,
                          confidence: float = CONFIDENCE, seed: int = 0) -> Effect:
    """Mean effect from per-seed, per-test-user values, bootstrapped over seeds and over users.

    `per_user`: one array per seed of per-user contributions whose mean is that seed's effect (e.g. the
    difference of two `auc_user_contributions`). `shared_users=False`: each seed has its own test users
    (nested design: seeds are resampled, which carries each seed's test-set error with it; with one seed,
    its users are); True: every seed's array is over the same users in the same order (crossed design:
    seeds and users resampled independently -- the seed spread alone would miss the shared test set's error).
    The interval is the estimate +- t(seeds - 1) x the bootstrap standard error (a percentile interval
    under-covers with few seeds)."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(x, dtype=float) for x in per_user]
    s = len(arrays)
    if s == 0 or any(len(x) == 0 for x in arrays):
        raise ValueError("user_bootstrap_effect needs at least one seed, each with at least one user")
    estimate = float(np.mean([x.mean() for x in arrays]))
    if shared_users:
        grid = np.vstack(arrays)  # seeds x users
        u = grid.shape[1]
        ws = rng.multinomial(s, np.full(s, 1 / s), size=n_boot).astype(float)
        wu = rng.multinomial(u, np.full(u, 1 / u), size=n_boot).astype(float)
        reps = np.einsum("bs,su,bu->b", ws, grid, wu) / (s * u)
        method = "bootstrap: seeds x shared test users"
    elif s >= 2:
        # Nested: each seed's mean already carries its own users' sampling error, so resampling seeds carries
        # it too; resampling users within seeds as well would count it twice (an over-wide interval).
        means = np.array([x.mean() for x in arrays])
        reps = means[rng.integers(0, s, size=(n_boot, s))].mean(axis=1)
        method = "bootstrap: seeds (each with its own test users)"
    else:  # one seed: its test users are the only sampling error we can see
        x = arrays[0]
        reps = rng.multinomial(len(x), np.full(len(x), 1 / len(x)), size=n_boot) @ x / len(x)
        method = "bootstrap: test users of one seed"
    se = float(reps.std(ddof=1))
    df = s - 1 if s >= 2 else len(arrays[0]) - 1
    half = _t(df, confidence) * se
    return Effect(estimate, estimate - half, estimate + half, s, method, se, df,
                  tuple(float(x.mean()) for x in arrays))


def auc_user_contributions(labels, scores, users) -> tuple[np.ndarray, np.ndarray]:
    """Per-user contributions to the AUC whose mean over users is the AUC (DeLong placements, summed by user).

    A positive i contributes (its placement V10_i - AUC) / n_pos, a negative j (V01_j - AUC) / n_neg; a
    user's contribution is AUC + n_users x the sum over its rows. Resampling users then carries the AUC's
    (first-order) sampling error with the within-user correlation kept. Returns (users, contributions)."""
    y = np.asarray(labels).astype(bool)
    p = np.asarray(scores, dtype=float)
    u = np.asarray(users)
    pos, neg = p[y], p[~y]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("auc_user_contributions needs positive and negative rows")
    neg_sorted, pos_sorted = np.sort(neg), np.sort(pos)
    v10 = (np.searchsorted(neg_sorted, pos, "left") + np.searchsorted(neg_sorted, pos, "right")) / (2 * len(neg))
    v01 = (len(pos) - (np.searchsorted(pos_sorted, neg, "left") + np.searchsorted(pos_sorted, neg, "right")) / 2) / len(pos)
    auc = float(v10.mean())
    row = np.empty(len(p))
    row[y] = (v10 - auc) / len(pos)
    row[~y] = (v01 - auc) / len(neg)
    keys, inverse = np.unique(u, return_inverse=True)
    per_user = np.bincount(inverse, weights=row, minlength=len(keys))
    return keys, auc + len(keys) * per_user


def pooled(effects, confidence: float = CONFIDENCE) -> Effect:
    """Inverse-variance (fixed-effect) pooled estimate of independent effects (data sets, settings).

    Effects without a finite standard error (one seed) are left out; degrees of freedom are the sum of
    theirs. NaN when none is left."""
    usable = [e for e in effects if math.isfinite(e.se) and e.se > 0 and math.isfinite(e.estimate)]
    if not usable:
        return Effect(float("nan"), float("nan"), float("nan"), sum(e.n_seeds for e in effects), "pooled")
    w = np.array([1 / e.se ** 2 for e in usable])
    est = float(np.sum(w * [e.estimate for e in usable]) / w.sum())
    se = float(1 / math.sqrt(w.sum()))
    df = float(sum(e.df for e in usable if math.isfinite(e.df))) or 1.0
    half = _t(df, confidence) * se
    return Effect(est, est - half, est + half, sum(e.n_seeds for e in usable), "pooled (inverse variance)", se, df)


# -- decisions ---------------------------------------------------------------------------

def _finite(ci) -> bool:
    return all(x is not None and math.isfinite(x) for x in ci)


def directional(ci, bound: float) -> Verdict:
    """A claim that the effect exceeds `bound`: agrees when the interval lies above it, disagrees when below,
    inconclusive when it straddles it (or is undefined)."""
    low, high = ci
    if not _finite(ci):
        return Verdict.INCONCLUSIVE
    if low > bound:
        return Verdict.AGREES
    return Verdict.DISAGREES if high < bound else Verdict.INCONCLUSIVE


def at_most(ci, margin: float) -> Verdict:
    """A claim that the effect stays below `margin` (non-inferiority: "does not drop", "does not beat")."""
    return {Verdict.AGREES: Verdict.DISAGREES, Verdict.DISAGREES: Verdict.AGREES}.get(
        directional(ci, margin), Verdict.INCONCLUSIVE)


def equivalence(ci, margin: float) -> Verdict:
    """A claim of no effect (TOST with the 95% interval): agrees when the interval lies inside +-margin,
    disagrees when it lies wholly outside it, else inconclusive."""
    low, high = ci
    if not _finite(ci):
        return Verdict.INCONCLUSIVE
    if -margin < low and high < margin:
        return Verdict.AGREES
    return Verdict.DISAGREES if (low > margin or high < -margin) else Verdict.INCONCLUSIVE


def precondition(epoch1_auc: float | None = None, baseline_drop: Verdict | str | None = None,
                 auc_floor: float = AUC_FLOOR) -> str | None:
    """Why a claim is not testable here, or None when it is: the model does not learn (seed-mean test AUC at
    the end of epoch 1 below `auc_floor`), or -- for a claim about what removes or keeps the drop -- the
    baseline shows no drop (its 'drop' verdict is not 'agrees')."""
    if epoch1_auc is not None and not (epoch1_auc >= auc_floor):
        return f"the model does not learn (test AUC {epoch1_auc:.3f} at the end of epoch 1 < {auc_floor})"
    if baseline_drop is not None and str(baseline_drop) != Verdict.AGREES.value:
        return f"the baseline shows no drop to remove or keep (its drop verdict: {baseline_drop})"
    return None


def all_of(verdicts) -> Verdict:
    """Every part must hold: disagrees if any testable part disagrees, agrees if all agree, not testable if
    none is testable, else inconclusive."""
    vs = [Verdict(str(v)) for v in verdicts]
    testable = [v for v in vs if v != Verdict.NOT_TESTABLE]
    if not testable:
        return Verdict.NOT_TESTABLE
    if Verdict.DISAGREES in testable:
        return Verdict.DISAGREES
    return Verdict.AGREES if all(v == Verdict.AGREES for v in testable) else Verdict.INCONCLUSIVE


# -- sharpness against the run's own dynamics -----------------------------------------------

def placebo_z(epochs, values, boundary: int = 1, skip: float = PLACEBO_SKIP) -> tuple[float, float]:
    """(z, percentile) of one run's drop at `boundary` among its drops between consecutive evaluations inside
    epochs (placebo boundaries; the first `skip` of epoch 1 left out: steep initial learning).

    The boundary drop is the value at the last evaluation of epoch `boundary` minus the first after it.
    z = (boundary drop - mean placebo drop) / their standard deviation; percentile = share of placebo drops
    below it. NaN when there are fewer than 3 placebo intervals."""
    e, v = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    order = np.argsort(e, kind="stable")
    e, v = e[order], v[order]
    eps = 1e-9
    inside = np.nonzero(e <= boundary + eps)[0]
    after = np.nonzero(e > boundary + eps)[0]
    if len(inside) == 0 or len(after) == 0:
        return float("nan"), float("nan")
    drop = v[inside[-1]] - v[after[0]]
    epoch_of = np.ceil(e - eps)  # an evaluation at exactly k.0 belongs to epoch k
    same = (epoch_of[1:] == epoch_of[:-1]) & ~((epoch_of[:-1] == 1) & (e[:-1] < skip - eps))
    placebo = (v[:-1] - v[1:])[same]
    if len(placebo) < 3 or not np.isfinite(placebo).all():
        return float("nan"), float("nan")
    sd = placebo.std(ddof=1)
    z = float((drop - placebo.mean()) / sd) if sd > 0 else float("inf") * np.sign(drop - placebo.mean())
    return z, float(np.mean(placebo < drop))


__all__ = ["Effect", "Verdict", "all_of", "at_most", "auc_user_contributions", "directional", "equivalence",
           "paired_effect", "placebo_z", "pooled", "precondition", "seed_effect", "user_bootstrap_effect"]
