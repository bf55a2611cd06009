"""Unit and time weights of synthetic control and synthetic difference-in-differences.

Everything here works on one balanced block: ``y_c`` holds the comparison units'
KPI, shape ``(N0, T)``, ``y_t`` the treated units' mean path, shape ``(T,)``, and the
first ``t0`` periods are before the start. Sources:

* synthetic DiD: Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), "Synthetic
  Difference-in-Differences", AER 111(12), Algorithm 1 and Section 3 (regularisation
  zeta = (N_tr T_post)^(1/4) sigma, sigma = sd of first differences of the comparison
  units' pre-period outcomes; time weights with zeta = 1e-6 sigma), solved by the
  Frank-Wolfe method with one sparsification step as in the authors' reference
  implementation (R package synthdid 0.0.9: 100 iterations, weights below a quarter
  of the largest set to zero, then up to 10,000 iterations until the objective falls
  by less than (1e-5 sigma)^2);
* synthetic control: Abadie, Diamond & Hainmueller (2010), JASA 105(490): unit
  weights without intercept and (numerically) without ridge, as the synthdid package's
  ``sc_estimate`` computes them for the paper's Table 1;
* difference-in-differences: uniform unit and time weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Design = Literal["sdid", "sc", "did"]
PRE_SPARSIFY_ITER = 100
MAX_ITER = 10_000
BATCH_CELLS = 4_000_000  # Gram entries solved at once (32 MB of float64)


@dataclass(frozen=True)
class Penalties:
    """Regularisation of one fit; placebo refits keep the original fit's values."""

    zeta_omega: float
    zeta_lambda: float
    min_decrease: float


@dataclass(frozen=True)
class SyntheticFit:
    """Weights and effect of one balanced block.

    Attributes:
        tau: the effect: post-period mean of actual minus synthetic treated path.
        omega: ``(N0,)`` unit weights (non-negative, summing to one).
        lam: ``(t0,)`` pre-period time weights (zeros for synthetic control).
        synthetic: ``(T,)`` synthetic treated path, omega' y_c plus the offset that
            matches the time-weighted pre-period means (zero offset for SC).
        penalties: the regularisation used, reused by placebo refits.
    """

    tau: float
    omega: np.ndarray
    lam: np.ndarray
    synthetic: np.ndarray
    penalties: Penalties


def noise_level(y_c_pre: np.ndarray) -> float:
    """Standard deviation of the comparison units' first differences before the start.

    Examples:
        >>> round(noise_level(np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 1.0]])), 4)
        0.8165
    """
    diffs = np.diff(y_c_pre, axis=1).ravel()
    return float(np.std(diffs, ddof=1)) if diffs.size > 1 else 0.0


def penalties(y_c: np.ndarray, t0: int, n_treated: int, design: Design) -> Penalties:
    """The paper's regularisation for a block with ``n_treated`` treated units."""
    sigma = noise_level(y_c[:, :t0])
    t_post = y_c.shape[1] - t0
    eta_omega = (n_treated * t_post) ** 0.25 if design == "sdid" else 1e-6
    return Penalties(
        zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma, min_decrease=1e-5 * sigma
    )


def simplex_weights(
    a: np.ndarray,
    b: np.ndarray,
    zeta: float,
    *,
    intercept: bool,
    init: np.ndarray | None,
    min_decrease: float,
) -> np.ndarray:
    """Weights x >= 0, sum 1, minimising |A x + c - b|^2 / rows + zeta^2 |x|^2.

    Batched: ``a`` is ``(B, rows, n)``, ``b`` ``(B, rows)``, the result ``(B, n)``,
    so the placebo replications run in one vectorised loop. ``c`` is a free
    intercept when ``intercept`` (columns are centred first), else 0. Frank-Wolfe
    with exact line search, sparsified after ``PRE_SPARSIFY_ITER`` steps, then up to
    ``MAX_ITER`` steps (synthdid's ``sc.weight.fw`` and ``sparsify_function``).
    """
    if intercept:
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    n_b, _, n = a.shape
    x = np.full((n_b, n), 1.0 / n) if init is None else init.astype(float)
    x = _frank_wolfe(a, b, zeta, x, min_decrease, PRE_SPARSIFY_ITER)
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return _frank_wolfe(a, b, zeta, x / x.sum(axis=1, keepdims=True), min_decrease, MAX_ITER)


def _frank_wolfe(
    a: np.ndarray, b: np.ndarray, zeta: float, x: np.ndarray, min_decrease: float, max_iter: int
) -> np.ndarray:
    """Frank-Wolfe steps on each of B problems until its objective stops falling.

    Works on the Gram matrix G = A'A so a step costs O(n), not O(rows x n): with
    d = e_i - x, |A d|^2 = G_ii - 2 (Gx)_i + x'Gx and
    (A d)'(A x - b) = (Gx)_i - x'Gx - (A'b)_i + (A'b)'x; the scalars are updated
    along the step instead of recomputed.
    """
    n_b, rows, _ = a.shape
    eta = rows * zeta**2
    if n_b == 1:
        return _frank_wolfe_one(a[0], b[0], zeta, x[0], min_decrease, max_iter)[None]
    gram = np.einsum("bri,brj->bij", a, a)
    diag = np.einsum("bii->bi", gram)
    atb = np.einsum("bri,br->bi", a, b)
    bb = np.einsum("br,br->b", b, b)
    x = x.copy()
    gx = np.einsum("bij,bj->bi", gram, x)
    xgx = np.einsum("bi,bi->b", x, gx)
    bx = np.einsum("bi,bi->b", atb, x)
    xx = np.einsum("bi,bi->b", x, x)
    idx = np.arange(n_b)
    prev = np.full(n_b, np.inf)
    active = np.ones(n_b, dtype=bool)
    tol = min_decrease**2
    for t in range(max_iter):
        i = np.argmin(gx - atb + eta * x, axis=1)  # the half-gradient's smallest entry
        gi, xi, ai, gii = gx[idx, i], x[idx, i], atb[idx, i], diag[idx, i]
        denom = gii - 2 * gi + xgx + eta * (1 - 2 * xi + xx)
        num = gi - xgx - ai + bx + eta * (xi - xx)
        ok = active & (denom > 0)
        # exact line search on the segment towards vertex i; converged problems stay
        s = np.minimum(np.maximum(-num / np.where(ok, denom, 1.0), 0.0), 1.0) * ok
        r = 1.0 - s
        x *= r[:, None]
        x[idx, i] += s
        gx *= r[:, None]
        gx += s[:, None] * gram[idx, i, :]  # G is symmetric: row i is column i
        xgx = r**2 * xgx + 2 * s * r * gi + s**2 * gii
        bx = r * bx + s * ai
        xx = r**2 * xx + 2 * s * r * xi + s**2
        val = zeta**2 * xx + (xgx - 2 * bx + bb) / rows
        if t >= 1:
            active &= prev - val > tol
            if not active.any():
                break
        prev = val
    return x


def _frank_wolfe_one(
    a: np.ndarray, b: np.ndarray, zeta: float, x: np.ndarray, min_decrease: float, max_iter: int
) -> np.ndarray:
    """The same steps for a single problem, with Python scalars (4x faster than B=1)."""
    rows = a.shape[0]
    eta = rows * zeta**2
    gram = a.T @ a
    atb = a.T @ b
    bb = float(b @ b)
    x = x.copy()
    gx = gram @ x
    xgx, bx, xx = float(x @ gx), float(atb @ x), float(x @ x)
    prev = np.inf
    tol = min_decrease**2
    for t in range(max_iter):
        i = int(np.argmin(gx - atb + eta * x))
        gi, xi, ai, gii = float(gx[i]), float(x[i]), float(atb[i]), float(gram[i, i])
        denom = gii - 2 * gi + xgx + eta * (1 - 2 * xi + xx)
        if denom <= 0:
            break
        s = min(1.0, max(0.0, -(gi - xgx - ai + bx + eta * (xi - xx)) / denom))
        r = 1.0 - s
        x *= r
        x[i] += s
        gx *= r
        gx += s * gram[i]
        xgx = r * r * xgx + 2 * s * r * gi + s * s * gii
        bx = r * bx + s * ai
        xx = r * r * xx + 2 * s * r * xi + s * s
        val = zeta**2 * xx + (xgx - 2 * bx + bb) / rows
        if t >= 1 and prev - val <= tol:
            break
        prev = val
    return x


def fit_batch(
    y_c: np.ndarray,
    y_t: np.ndarray,
    t0: int,
    design: Design,
    pen: Penalties,
    init: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Effects, unit weights, time weights and synthetic paths of B blocks at once.

    ``y_c`` is ``(B, N0, T)``, ``y_t`` ``(B, T)``; returns ``tau (B,)``,
    ``omega (B, N0)``, ``lam (B, t0)``, ``synthetic (B, T)``. ``init`` warm-starts
    the solver at ``(omega, lam)`` (the placebo refits of Algorithm 4 start from the
    original fit's weights, as synthdid's ``placebo_se`` does).
    """
    n_b, n0, _ = y_c.shape
    chunk = max(1, BATCH_CELLS // max(n0, t0) ** 2)
    if n_b > chunk:
        # the solver holds one Gram matrix per problem: bound the memory by batching
        parts = [
            fit_batch(
                y_c[i : i + chunk],
                y_t[i : i + chunk],
                t0,
                design,
                pen,
                None if init is None else (init[0][i : i + chunk], init[1][i : i + chunk]),
            )
            for i in range(0, n_b, chunk)
        ]
        tau, omega, lam, synthetic = (np.concatenate(x) for x in zip(*parts, strict=True))
        return tau, omega, lam, synthetic
    pre, post = y_c[:, :, :t0], y_c[:, :, t0:]
    if design == "did":
        omega, lam = np.full((n_b, n0), 1.0 / n0), np.full((n_b, t0), 1.0 / t0)
    else:
        omega = simplex_weights(
            pre.transpose(0, 2, 1),
            y_t[:, :t0],
            pen.zeta_omega,
            intercept=design == "sdid",
            init=None if init is None else init[0],
            min_decrease=pen.min_decrease,
        )
        if design == "sdid":
            lam = simplex_weights(
                pre,
                post.mean(axis=2),
                pen.zeta_lambda,
                intercept=True,
                init=None if init is None else init[1],
                min_decrease=pen.min_decrease,
            )
        else:
            lam = np.zeros((n_b, t0))
    tau, synthetic = assemble(y_c, y_t, t0, omega, lam)
    return tau, omega, lam, synthetic


def assemble(
    y_c: np.ndarray, y_t: np.ndarray, t0: int, omega: np.ndarray, lam: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Effects ``(B,)`` and synthetic paths ``(B, T)`` from given weights.

    tau = (post mean - lam-weighted pre mean) of the treated minus the same of the
    omega-weighted comparison (the paper's eq. (1) solution, its Algorithm 1 step 4);
    the offset folds that into one synthetic path, zero when lam is zero (SC).
    """
    path = np.einsum("bi,bit->bt", omega, y_c)
    offset = np.einsum("bt,bt->b", lam, y_t[:, :t0] - path[:, :t0])
    synthetic = path + offset[:, None]
    return (y_t[:, t0:] - synthetic[:, t0:]).mean(axis=1), synthetic


def fit_block(
    y_c: np.ndarray, y_t: np.ndarray, t0: int, n_treated: int, design: Design
) -> SyntheticFit:
    """Weights, synthetic path and effect of one balanced block.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> y_c = rng.normal(size=(20, 10)) + np.arange(10)
        >>> y_t = y_c[:5].mean(axis=0) + 3 + 2 * (np.arange(10) >= 7)
        >>> round(fit_block(y_c, y_t, 7, 1, "sdid").tau)
        2
    """
    pen = penalties(y_c, t0, n_treated, design)
    tau, omega, lam, synthetic = fit_batch(y_c[None], y_t[None], t0, design, pen)
    return SyntheticFit(
        tau=float(tau[0]), omega=omega[0], lam=lam[0], synthetic=synthetic[0], penalties=pen
    )
