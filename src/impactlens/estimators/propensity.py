"""Propensity scores, ATT weights, overlap trimming and covariate balance."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import SplineTransformer, StandardScaler

from impactlens.estimators.grid import PanelGrid

PRE_MEAN = "pre-period KPI mean"
BALANCE_COLUMNS = [
    "covariate",
    "mean_treated",
    "mean_comparison",
    "mean_comparison_weighted",
    "smd_before",
    "smd_after",
]
# Trim treated units above this score even when a comparison unit is higher still:
# their weights p/(1-p) would dominate the comparison mean.
MAX_SCORE = 0.99
C_PENALTY = 1.0


@dataclass(frozen=True)
class PropensityWeights:
    """Scores, ATT weights and the overlap and balance checks.

    ``weight`` is 1/n for kept treated units, p/(1-p) normalised to sum to one for
    kept comparison units, and 0 for trimmed units. ``design``, ``hess_inv`` and
    ``score_resid`` (rows ``kept_rows``) carry the fitted model's linearisation for
    :meth:`correction`.
    """

    score: np.ndarray
    weight: np.ndarray
    keep: np.ndarray
    trimmed_share: float
    balance: pd.DataFrame
    max_smd_before: float | None
    max_smd_after: float | None
    notes: tuple[str, ...]
    kept_rows: np.ndarray
    design: np.ndarray
    hess_inv: np.ndarray
    score_resid: np.ndarray

    def correction(self, psi_comparison: np.ndarray) -> np.ndarray:
        """Influence of estimating the propensity model on statistics of the weighted path.

        ``psi_comparison`` is ``(N, K)``: each statistic's influence through the
        comparison units only (zero elsewhere). A comparison weight is
        a_j = exp(x_j'g), so d stat / d g = sum_j psi_j x_j; the logistic fit
        linearises as g_hat - g ~ H^-1 sum_i x_i (T_i - p_i) with H the penalised
        information. The product is added to every kept unit's influence
        (Sant'Anna & Zhao 2020, J. Econometrics 219:101, the estimated-score term
        of their IPW DiD influence function).
        """
        grad = self.design.T @ psi_comparison[self.kept_rows]
        out = np.zeros_like(psi_comparison)
        out[self.kept_rows] = self.score_resid[:, None] * (self.design @ (self.hess_inv @ grad))
        return out


def unit_features(grid: PanelGrid, units: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Covariates plus each unit's mean KPI before the treated's earliest start.

    Examples:
        >>> from impactlens.estimators.base import KpiPanel
        >>> units = pd.DataFrame({"unit_id": ["a", "b"], "group": ["treated", "comparison"],
        ...     "first_period": pd.to_datetime(["2024-01-14", None]), "cluster": ["a", "b"],
        ...     "age": [30.0, 40.0]})
        >>> cells = pd.DataFrame({"unit_id": ["a", "a", "b"],
        ...     "period": pd.to_datetime(["2024-01-07", "2024-01-14", "2024-01-14"]),
        ...     "value": [1.0, 2.0, 3.0]})
        >>> grid = PanelGrid.from_panel(KpiPanel("k", "person", cells, units))
        >>> unit_features(grid, units, ["age"])[PRE_MEAN].tolist()
        [1.0, nan]
    """
    rows = np.arange(len(grid.unit_ids))
    start = grid.earliest_start()
    mask = grid.observed & (np.arange(grid.n_periods)[None, :] < start)
    pre_mean, _ = grid.unit_means(rows, mask)
    out = pd.DataFrame({c: pd.to_numeric(units[c], errors="coerce") for c in covariates})
    out = out.reset_index(drop=True).astype(float)
    out[PRE_MEAN] = pre_mean
    return out


def design_matrix(features: pd.DataFrame) -> np.ndarray:
    """Expand features for a flexible propensity model.

    Missing values are imputed with the column mean plus a missing indicator;
    continuous columns (more than 5 distinct values) get a cubic B-spline basis with
    knots at the quartiles, since confounding is rarely linear in the covariates.
    """
    blocks: list[np.ndarray] = []
    for name in features.columns:
        x = features[name].to_numpy(dtype=float)
        missing = np.isnan(x)
        if missing.all():
            continue
        if missing.any():
            x = np.where(missing, np.nanmean(x), x)
            blocks.append(missing[:, None].astype(float))
        knots = np.unique(np.quantile(x, np.linspace(0, 1, 5)))
        if len(np.unique(x)) > 5 and len(knots) >= 3:
            spline = SplineTransformer(knots=knots[:, None], degree=3, extrapolation="linear")
            blocks.append(spline.fit_transform(x[:, None]))
        else:
            blocks.append(x[:, None])
    if not blocks:
        return np.zeros((len(features), 1))
    return np.hstack(blocks)


def att_weights(features: pd.DataFrame, treated: np.ndarray) -> PropensityWeights:
    """Fit the propensity model, trim for overlap and weight comparison units to the treated.

    ``treated`` is ``(N,)`` booleans; every other row is a comparison unit. Both
    groups must be non-empty. The model is refitted on the units kept after
    trimming, so the weights target the trained units that remain.
    """
    notes: list[str] = []
    x = StandardScaler().fit_transform(design_matrix(features))
    score, _ = _fit(x, treated, notes)
    comp = ~treated
    keep_t = treated & (score <= score[comp].max()) & (score <= MAX_SCORE)
    keep_c = comp & (score >= score[treated].min())
    keep = keep_t | keep_c
    trimmed_share = float(1.0 - keep.mean())
    weight = np.zeros(len(score))
    kept_rows = np.flatnonzero(keep)
    design = np.ones((len(kept_rows), 1))
    hess_inv = np.zeros((1, 1))
    resid = np.zeros(len(kept_rows))
    if keep_t.any() and keep_c.any():
        p_kept, coef_design = _fit(x[kept_rows], treated[kept_rows], notes)
        score = score.copy()
        score[kept_rows] = p_kept
        design = coef_design
        resid = treated[kept_rows] - p_kept
        # Penalised information: sum p(1-p) x x' + I/C on the slopes (sklearn's
        # objective is |b|^2/2 + C * sum loss); the intercept is not penalised.
        info = design.T @ (design * (p_kept * (1 - p_kept))[:, None])
        info[1:, 1:] += np.eye(design.shape[1] - 1) / C_PENALTY
        hess_inv = np.linalg.pinv(info)
        odds = score[keep_c] / (1.0 - score[keep_c])
        weight[keep_c] = odds / odds.sum()
        weight[keep_t] = 1.0 / keep_t.sum()
    balance = balance_table(features, treated, weight)
    return PropensityWeights(
        score=score,
        weight=weight,
        keep=keep,
        trimmed_share=trimmed_share,
        balance=balance,
        max_smd_before=_max_abs(balance["smd_before"]),
        max_smd_after=_max_abs(balance["smd_after"]) if weight.any() else None,
        notes=tuple(dict.fromkeys(notes)),
        kept_rows=kept_rows,
        design=design,
        hess_inv=hess_inv,
        score_resid=resid,
    )


def _fit(x: np.ndarray, treated: np.ndarray, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Scores and the design with intercept; a single-class sample gets its share."""
    if treated.all() or not treated.any():
        return np.full(len(x), float(treated.mean())), np.ones((len(x), 1))
    # Moderate L2 on standardised features keeps scores finite under separation;
    # lbfgs is deterministic.
    model = LogisticRegression(C=C_PENALTY, max_iter=2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, treated.astype(int))
    if any(issubclass(c.category, ConvergenceWarning) for c in caught):
        notes.append("the propensity model did not fully converge")
    return model.predict_proba(x)[:, 1], np.hstack([np.ones((len(x), 1)), x])


def balance_table(features: pd.DataFrame, treated: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    """Standardised mean differences before and after weighting, one row per feature.

    SMD = (mean treated - mean comparison) / sqrt((var treated + var comparison) / 2),
    with the unweighted groups' variances as denominator both before and after
    weighting (Austin 2009, Statistics in Medicine 28:3083), so the two are comparable.

    Examples:
        >>> f = pd.DataFrame({"x": [1.0, 2.0, 0.0, 1.0]})
        >>> t = np.array([True, True, False, False])
        >>> round(float(balance_table(f, t, np.array([0.5, 0.5, 0.0, 1.0]))["smd_after"][0]), 3)
        0.707
    """
    records = []
    comp = ~treated
    for name in features.columns:
        x = features[name].to_numpy(dtype=float)
        xt, xc = x[treated & ~np.isnan(x)], x[comp & ~np.isnan(x)]
        mt = float(xt.mean()) if len(xt) else None
        mc = float(xc.mean()) if len(xc) else None
        mtw = _weighted_mean(x, weight * treated)
        mcw = _weighted_mean(x, weight * comp)
        var_t = float(xt.var(ddof=1)) if len(xt) > 1 else 0.0
        var_c = float(xc.var(ddof=1)) if len(xc) > 1 else 0.0
        sd = float(np.sqrt((var_t + var_c) / 2))
        records.append(
            {
                "covariate": name,
                "mean_treated": mt,
                "mean_comparison": mc,
                "mean_comparison_weighted": mcw,
                "smd_before": _smd(mt, mc, sd),
                "smd_after": _smd(mtw, mcw, sd),
            }
        )
    return pd.DataFrame.from_records(records, columns=BALANCE_COLUMNS)


def _weighted_mean(x: np.ndarray, weight: np.ndarray) -> float | None:
    ok = ~np.isnan(x) & (weight > 0)
    total = weight[ok].sum()
    return float((x[ok] * weight[ok]).sum() / total) if total > 0 else None


def _smd(a: float | None, b: float | None, sd: float) -> float | None:
    if a is None or b is None:
        return None
    if sd > 0:
        return (a - b) / sd
    # Both groups constant: equal means are balanced; different ones cannot be scaled.
    return 0.0 if np.isclose(a, b) else None


def _max_abs(values: pd.Series) -> float | None:
    """Largest |SMD|; None when any feature's SMD could not be computed."""
    if len(values) == 0 or values.isna().any():
        return None
    return float(values.abs().max())
