"""How wrong the identifying assumption may be before the conclusion changes.

Two summaries, both plain dicts for ``Estimate.diagnostics``:

* :func:`trend_violation_bounds` for difference-in-differences: robust intervals
  when parallel trends may fail after the start by up to M-bar times the largest
  violation seen before it, in the spirit of Rambachan & Roth (2023, Review of
  Economic Studies 90:2555) "relative magnitudes", and the breakdown M-bar.
* :func:`e_value` for any estimate: how strongly an unmeasured confounder would
  have to be tied to both training and the KPI to explain the effect away
  (VanderWeele & Ding 2017, Annals of Internal Medicine 167:268).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

M_BARS = (0.5, 1.0, 1.5, 2.0)

# VanderWeele (2017, Epidemiology 28:e22 / the E-value paper's Table): a standardised
# mean difference d is roughly a risk ratio of exp(0.91 d) for a dichotomised outcome.
_D_TO_LOG_RR = 0.91


def trend_violation_bounds(
    effect: float | None,
    se: float | None,
    event_study: pd.DataFrame | None,
    m_bars: tuple[float, ...] = M_BARS,
    level: float = 0.95,
) -> dict[str, Any]:
    """Robust intervals for the average post effect under limited trend violations.

    The placebo event-study effects before the start (event times e <= -2, each a
    difference-in-differences against the base period e = -1) measure how far the
    groups drifted apart without the program; ``max_pre_violation`` is the largest of
    them in absolute value, ``Mpre``. The restriction: after the start the bias of
    the average post effect is at most ``M-bar x Mpre`` in absolute value. For each
    M-bar the robust interval is the union, over every admissible bias b, of the
    usual interval for ``effect - b``::

        [effect - M-bar Mpre - z se, effect + M-bar Mpre + z se]

    and the breakdown M-bar is the smallest M-bar whose interval includes zero,
    ``max(0, (|effect| - z se) / Mpre)`` (None when Mpre is zero and the interval
    never reaches zero).

    This is a deliberate simplification of Rambachan & Roth's relative magnitudes,
    stated so a reader can weigh it:

    * the paper bounds period-to-period changes of the violation path (so the bound
      grows with each post period); this bounds the level of the violation of the
      average post effect directly by the largest pre-period level;
    * the paper's intervals (FLCI, conditional or hybrid) are shorter; the union of
      intervals here is conservative for a known Mpre;
    * Mpre is treated as known: its sampling noise is not carried into the interval
      (noise tends to inflate Mpre, which partly offsets this, but not reliably).

    Examples:
        >>> table = pd.DataFrame({"event_time": [-3, -2, -1, 0, 1],
        ...                       "effect": [0.1, -0.2, 0.0, 1.0, 1.2]})
        >>> b = trend_violation_bounds(1.1, 0.25, table)
        >>> b["max_pre_violation"], round(b["breakdown_m_bar"], 3)
        (0.2, 3.05)
    """
    result: dict[str, Any] = {
        "restriction": "post-period bias of the average effect at most M-bar times the "
        "largest pre-period placebo effect (relative magnitudes, simplified)",
        "max_pre_violation": None,
        "max_pre_violation_event_time": None,
        "bounds": [],
        "breakdown_m_bar": None,
    }
    if effect is None or se is None or not math.isfinite(effect) or not math.isfinite(se):
        return result | {"note": "no effect or standard error to bound"}
    pre = _placebo_effects(event_study)
    if pre.empty:
        return result | {"note": "no pre-period placebo effects: the violation cannot be scaled"}
    worst = pre.abs().idxmax()
    m_pre = float(abs(pre[worst]))
    z = float(special.ndtri(0.5 + level / 2))
    half = z * se
    bounds = [
        {
            "m_bar": float(m),
            "ci_low": effect - m * m_pre - half,
            "ci_high": effect + m * m_pre + half,
        }
        for m in m_bars
    ]
    if abs(effect) <= half:
        breakdown: float | None = 0.0
    elif m_pre > 0:
        breakdown = (abs(effect) - half) / m_pre
    else:
        breakdown = None
    return result | {
        "max_pre_violation": m_pre,
        "max_pre_violation_event_time": int(worst),
        "bounds": bounds,
        "breakdown_m_bar": breakdown,
    }


def _placebo_effects(table: pd.DataFrame | None) -> pd.Series:
    """Finite pre-period event-study effects (e <= -2), indexed by event time."""
    if table is None or table.empty:
        return pd.Series(dtype=float)
    rows = table[table["event_time"] <= -2]
    effects = pd.Series(
        pd.to_numeric(rows["effect"], errors="coerce").to_numpy(dtype=float),
        index=rows["event_time"].astype(int).to_numpy(),
    )
    return effects[np.isfinite(effects.to_numpy())]


def e_value_for_ratio(rr: float) -> float:
    """E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))``, using 1/RR for RR < 1.

    VanderWeele & Ding (2017), eq. in the section "The E-value". A protective ratio is
    inverted first so the E-value is always >= 1.

    Examples:
        >>> round(e_value_for_ratio(3.9), 2), round(e_value_for_ratio(1 / 3.9), 2)
        (7.26, 7.26)
    """
    if not math.isfinite(rr) or rr <= 0:
        raise ValueError(f"a risk ratio must be positive and finite, got {rr}")
    r = rr if rr >= 1 else 1 / rr
    return r + math.sqrt(r * (r - 1))


def e_value(
    effect: float | None,
    ci_low: float | None,
    ci_high: float | None,
    sd: float | None,
) -> dict[str, Any]:
    """E-values of an effect in KPI units, through its standardised difference.

    ``d = effect / sd`` becomes a risk ratio ``exp(0.91 d)`` (VanderWeele 2017); the
    E-value of the point estimate and of the interval's limit closest to zero follow
    (1 when the interval includes zero: no confounding is needed to reach the null).
    ``sd`` is the outcome's standard deviation between units.

    Examples:
        >>> e = e_value(0.5, 0.3, 0.7, 1.0)
        >>> round(e["risk_ratio"], 3), round(e["e_value"], 2), round(e["e_value_ci"], 2)
        (1.576, 2.53, 1.96)
    """
    empty = {"d": None, "risk_ratio": None, "e_value": None, "e_value_ci": None}
    if effect is None or sd is None or not math.isfinite(effect) or not sd > 0:
        return empty
    d = effect / sd
    rr = math.exp(_D_TO_LOG_RR * d)
    ci_value: float | None = None
    if ci_low is not None and ci_high is not None:
        if ci_low <= 0 <= ci_high:
            ci_value = 1.0
        else:
            nearest = ci_low if ci_low > 0 else ci_high
            ci_value = e_value_for_ratio(math.exp(_D_TO_LOG_RR * nearest / sd))
    return {"d": d, "risk_ratio": rr, "e_value": e_value_for_ratio(rr), "e_value_ci": ci_value}


def pooled_sd(values: np.ndarray, treated: np.ndarray) -> float | None:
    """Pooled within-group standard deviation of unit-level ``values`` (NaN ignored).

    Pooling within the arms keeps the effect itself out of the spread.

    Examples:
        >>> pooled_sd(np.array([1.0, 3.0, 11.0, 13.0]), np.array([False, False, True, True]))
        1.4142135623730951
    """
    ok = np.isfinite(values)
    ss, dof = 0.0, 0
    for arm in (True, False):
        v = values[ok & (treated == arm)]
        if len(v) > 1:
            ss += float(((v - v.mean()) ** 2).sum())
            dof += len(v) - 1
    return math.sqrt(ss / dof) if dof > 0 and ss > 0 else None
