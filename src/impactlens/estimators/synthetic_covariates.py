"""Covariate adjustment for synthetic DiD: take out the trends the covariates predict.

Synthetic DiD matches the trained units' pre-period path with a regularised blend of
comparison units. When the trained units were chosen on a covariate that also drives
their trend, the ridge penalty pulls the blend towards uniform weights, the blend's
trend is flatter than theirs and the effect is biased (the few-sites scenario of the
validation study, docs/validation.md). The adjustment follows the "projected"
covariates of Kranz (2022, "Synthetic difference-in-differences with time-varying
covariates") and Clarke, Pailañir, Athey & Imbens (2023, Stata Journal, "Synthetic
difference-in-differences estimation", Section 2.3): estimate on the comparison units
only

    Y_it = a_i + d_t + (X_i - mean X) g_t + e_it

(unit and period effects, one coefficient vector per period, so a time-invariant
covariate may carry any trend), then run synthetic DiD on Y_it - (X_i - mean X) g_t
for every unit. With g_t estimated on untrained units only, the program's effect on
the trained does not leak into the adjustment.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from impactlens.estimators.synthetic_cohorts import Cohort

# residual degrees of freedom the per-period regressions keep at least; below this
# the adjustment would fit the comparison units' noise and is skipped with a note
MIN_RESIDUAL_DF = 10


def covariate_matrix(values: np.ndarray) -> np.ndarray:
    """Covariates with missing values set to the column mean and constant columns dropped.

    Examples:
        >>> covariate_matrix(np.array([[1.0, 5.0], [np.nan, 5.0], [3.0, 5.0]])).tolist()
        [[1.0], [2.0], [3.0]]
    """
    x = np.asarray(values, dtype=float).reshape(len(values), -1)
    with np.errstate(invalid="ignore"):
        means = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)
    x = np.where(np.isfinite(x), x, np.nan_to_num(means)[None, :])
    return x[:, np.ptp(x, axis=0) > 0] if x.size else x


def period_coefficients(y_c: np.ndarray, x_c: np.ndarray) -> np.ndarray:
    """``(k, T)`` coefficients g_t of the comparison units' two-way demeaned KPI on X.

    Two-way demeaning a balanced block removes a_i and d_t; each period's column is
    then regressed on the centred covariates (least squares, minimum norm when the
    covariates are collinear).
    """
    yd = y_c - y_c.mean(axis=1, keepdims=True) - y_c.mean(axis=0, keepdims=True) + y_c.mean()
    xd = x_c - x_c.mean(axis=0)
    coef, *_ = np.linalg.lstsq(xd, yd, rcond=None)
    return np.asarray(coef)


def adjust_cohorts(
    cohorts: list[Cohort],
    x_all: np.ndarray,
    control_rows: np.ndarray,
    treated_rows_by_cohort: list[np.ndarray],
) -> tuple[list[Cohort], str | None]:
    """Cohorts with the covariate-predicted trends taken out, and a note if skipped.

    Args:
        cohorts: the balanced blocks from ``build_cohorts``.
        x_all: ``(N, k)`` covariates of every unit in grid order (from
            ``covariate_matrix``).
        control_rows: grid rows of the comparison units in each block's ``y_c``.
        treated_rows_by_cohort: grid rows of each block's treated units, in ``y_tr``
            order.
    """
    if x_all.shape[1] == 0:
        return cohorts, None
    x_c = x_all[control_rows]
    k = x_c.shape[1]
    if len(control_rows) - k - 1 < MIN_RESIDUAL_DF:
        return cohorts, (
            f"covariates not adjusted for: {len(control_rows)} untrained units are too "
            f"few to estimate a trend for each of {k} covariates"
        )
    centre = x_c.mean(axis=0)
    out = []
    for cohort, rows in zip(cohorts, treated_rows_by_cohort, strict=True):
        g = period_coefficients(cohort.y_c, x_c)
        y_c = cohort.y_c - (x_c - centre) @ g
        # unobserved treated cells keep their zero value and zero weight
        y_tr = np.where(cohort.w_tr > 0, cohort.y_tr - (x_all[rows] - centre) @ g, 0.0)
        out.append(replace(cohort, y_c=y_c, y_tr=y_tr))
    return out, None
