"""Randomisation inference for the ANCOVA effect of a pilot randomised by few clusters.

With fewer than ~40 clusters a cluster-robust t interval over-covers or
under-covers depending on the design (Cameron & Miller 2015, J. Human Resources
50:317). The pilot's randomisation is known, so the reference distribution can be
built from the design itself: re-draw the arm labels the way they were drawn (whole
clusters, within strata), recompute the ANCOVA coefficient each time, and compare
(Fisher 1935; Imbens & Rubin 2015, ch. 5; Young 2019, QJE 134:557). The p-value is
exact under the sharp null whatever the number of clusters; wild cluster bootstrap
intervals are not, and with G clusters Rademacher weights give only 2^G distinct
draws.

Under the sharp hypothesis of a constant additive effect tau0, each unit's control
outcome is ``y - tau0 T``; the statistic for a re-drawn assignment T* is the ANCOVA
coefficient of T* on those outcomes. The coefficient is linear in the outcome, so
with ``a* = coef(T*, y)`` and ``b* = coef(T*, T)`` it equals ``a* - tau0 b*``, and
the observed one is ``tau_hat - tau0``. Test inversion (Imbens & Rubin 2015,
section 5.7) keeps every tau0 whose p-value exceeds alpha; each draw crosses the
observed statistic at most twice, at ``(a* - tau_hat)/(b* - 1)`` and
``(a* + tau_hat)/(b* + 1)``, so the p-value is a step function checked exactly at
those points.

All draws are computed at the level of assignment groups by Frisch-Waugh-Lovell:
with the other regressors Z (weights W), ``coef(T*, v) = T*' W M v / T*' W M T*``
with ``M = I - Z (Z'WZ)^-1 Z'W``; each term is a group sum, so 2,000 draws cost
a few ``(draws x groups)`` products, whatever the number of units.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

DRAWS = 2_000
EXACT_LIMIT = 5_000
_CHUNK = 128


@dataclass(frozen=True)
class RandomisationTest:
    """The randomisation p-value and test-inversion interval of the ANCOVA effect.

    ``ci_low`` / ``ci_high`` are None when the interval is unbounded (too few
    possible assignments to reject any effect at this level).
    """

    effect: float
    p_value: float
    ci_low: float | None
    ci_high: float | None
    level: float
    exact: bool
    n_assignments: int
    n_draws: int
    assignment: str
    n_groups: int
    n_strata: int

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields for ``Estimate.diagnostics``."""
        return {
            "p_value": self.p_value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "exact": self.exact,
            "n_assignments": self.n_assignments,
            "n_draws": self.n_draws,
            "assignment": self.assignment,
            "n_groups": self.n_groups,
            "n_strata": self.n_strata,
        }


def randomisation_test(
    y: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    treated: np.ndarray,
    cluster: np.ndarray,
    strata: np.ndarray | None = None,
    seed: int = 0,
    level: float = 0.95,
    draws: int = DRAWS,
) -> RandomisationTest:
    """Re-randomise the arms and invert the test of a constant additive effect.

    Args:
        y: ``(n,)`` unit outcomes (post-period means).
        z: ``(n, p)`` the other regressors, a constant among them.
        w: ``(n,)`` regression weights.
        treated: ``(n,)`` bool arm of each unit.
        cluster: ``(n,)`` cluster labels. Clusters whose units share an arm are
            re-drawn whole; if any cluster mixes arms, units were randomised one by
            one and are re-drawn one by one.
        strata: ``(n,)`` stratum labels (the cluster's first one counts), or None
            for complete randomisation with the observed number of treated groups.
        seed: seed of the random draws (used only when enumeration is too large).
        level: confidence level of the interval.
        draws: number of random assignments when they are not enumerated.

    Examples:
        >>> y = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0])
        >>> t = np.arange(8) >= 4
        >>> r = randomisation_test(y, np.ones((8, 1)), np.ones(8), t, np.arange(8))
        >>> r.effect, r.exact, r.n_assignments, round(r.p_value, 4)
        (5.0, True, 70, 0.0286)
    """
    treated = np.asarray(treated, dtype=bool)
    codes = np.unique(cluster, return_inverse=True)[1].ravel()
    mixed = np.bincount(codes, weights=treated.astype(float)) % np.bincount(codes) != 0
    if mixed.any():
        codes = np.arange(len(y))
    n_groups = int(codes.max()) + 1
    # one entry per group: its arm and stratum (the first unit's)
    first = np.unique(codes, return_index=True)[1]
    g_treated = treated[first]
    g_stratum = (
        np.zeros(n_groups, dtype=np.int64)
        if strata is None
        else np.unique(np.asarray(strata).astype(str), return_inverse=True)[1].ravel()[first]
    )
    n_strata = int(g_stratum.max()) + 1
    n_assign = math.prod(
        math.comb(int((g_stratum == s).sum()), int(g_treated[g_stratum == s].sum()))
        for s in range(n_strata)
    )
    exact = n_assign <= EXACT_LIMIT
    assignments = (
        _enumerate(g_stratum, g_treated) if exact else _sample(g_stratum, g_treated, seed, draws)
    )
    a, b = _coefficients(y, z, w, treated, codes, n_groups, assignments)
    tau = _coefficients(y, z, w, treated, codes, n_groups, g_treated[None, :].astype(float))[0][0]
    p_value = _p_values(a, b, tau, np.array([0.0]), exact)[0]
    ci_low, ci_high = _invert(a, b, tau, exact, 1 - level)
    return RandomisationTest(
        effect=float(tau),
        p_value=float(p_value),
        ci_low=ci_low,
        ci_high=ci_high,
        level=level,
        exact=exact,
        n_assignments=int(n_assign),
        n_draws=len(a),
        assignment="unit" if mixed.any() else "cluster",
        n_groups=n_groups,
        n_strata=n_strata,
    )


def _enumerate(stratum: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Every assignment with the observed number treated in each stratum, ``(K, G)``."""
    per_stratum = []
    for s in range(int(stratum.max()) + 1):
        members = np.flatnonzero(stratum == s)
        k = int(treated[members].sum())
        per_stratum.append(list(itertools.combinations(members.tolist(), k)))
    rows = []
    for combo in itertools.product(*per_stratum):
        row = np.zeros(len(stratum))
        row[[i for chosen in combo for i in chosen]] = 1.0
        rows.append(row)
    return np.array(rows)


def _sample(stratum: np.ndarray, treated: np.ndarray, seed: int, draws: int) -> np.ndarray:
    """``draws`` random assignments, permuting the arms within each stratum, ``(K, G)``."""
    rng = np.random.default_rng(seed)
    out = np.zeros((draws, len(stratum)))
    for s in range(int(stratum.max()) + 1):
        members = np.flatnonzero(stratum == s)
        labels = treated[members].astype(float)
        # argsort of uniform keys is a uniform random permutation per row
        perm = np.argsort(rng.random((draws, len(members))), axis=1)
        out[:, members] = labels[perm]
    return out


def _coefficients(
    y: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    treated: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    assign: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """ANCOVA coefficients of each assignment row on ``y`` (a*) and on the arm (b*)."""

    def group_sum(v: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=v, minlength=n_groups)

    t = treated.astype(float)
    zw = z * w[:, None]
    s_inv = np.linalg.pinv(z.T @ zw)
    a_groups = np.column_stack([group_sum(zw[:, j]) for j in range(z.shape[1])])
    q = assign @ a_groups  # Z' W T*, one row per draw
    r = q @ s_inv
    den = assign @ group_sum(w) - (r * q).sum(axis=1)
    num_y = assign @ group_sum(w * y) - r @ (zw.T @ y)
    num_t = assign @ group_sum(w * t) - r @ (zw.T @ t)
    # A draw whose arm is collinear with Z (den ~ 0) has no coefficient; drop it.
    ok = den > 1e-12 * max(float(np.abs(den).max()), 1e-300)
    return num_y[ok] / den[ok], num_t[ok] / den[ok]


def _p_values(
    a: np.ndarray, b: np.ndarray, tau: float, tau0: np.ndarray, exact: bool
) -> np.ndarray:
    """Two-sided randomisation p-value of each hypothesis in ``tau0``."""
    counts = np.zeros(len(tau0))
    for start in range(0, len(tau0), _CHUNK):
        t0 = tau0[start : start + _CHUNK, None]
        draw = np.abs(a[None, :] - t0 * b[None, :])
        seen = np.abs(tau - t0)
        # relative tolerance: at a crossing point the two sides are equal in exact arithmetic
        counts[start : start + _CHUNK] = (draw >= seen - 1e-9 * np.maximum(draw, seen)).sum(axis=1)
    if exact:
        # the enumeration holds the observed assignment itself
        return counts / len(a)
    # Phipson & Smyth (2010): count the observed assignment among random draws
    return (counts + 1) / (len(a) + 1)


def _invert(
    a: np.ndarray, b: np.ndarray, tau: float, exact: bool, alpha: float
) -> tuple[float | None, float | None]:
    """Hull of the effects not rejected at ``alpha``; None for an unbounded side."""
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.concatenate([(a - tau) / (b - 1), (a + tau) / (b + 1)])
    roots = np.unique(np.append(roots[np.isfinite(roots)], tau))
    span = max(float(roots.max() - roots.min()), abs(tau), 1.0)
    far = np.array([roots.min() - 1e3 * span, roots.max() + 1e3 * span])
    p_far = _p_values(a, b, tau, far, exact)
    low = None if p_far[0] > alpha else _first_kept(a, b, tau, roots, exact, alpha)
    high = None if p_far[1] > alpha else _first_kept(a, b, tau, roots[::-1], exact, alpha)
    return low, high


def _first_kept(
    a: np.ndarray, b: np.ndarray, tau: float, points: np.ndarray, exact: bool, alpha: float
) -> float:
    """The first of ``points`` not rejected, scanning in chunks from the outside.

    Only a few percent of the crossing points lie outside the interval, so the scan
    usually stops in its first chunk instead of testing all 2K points.
    """
    for start in range(0, len(points), _CHUNK):
        chunk = points[start : start + _CHUNK]
        kept = np.flatnonzero(_p_values(a, b, tau, chunk, exact) > alpha)
        if len(kept):
            return float(chunk[kept[0]])
    # unreachable: the observed effect itself is among the points and never rejected
    return tau
