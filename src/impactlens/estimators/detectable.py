"""The minimum detectable effect an analysis had, from its standard error.

After the fact the design is fixed, so the smallest effect the data could have
detected follows from the estimate's own standard error: a two-sided test at level
alpha rejects an effect of ``MDE = (z(1 - alpha/2) + z(power)) x SE`` with
probability ``power`` (Bloom 1995, Evaluation Review 19:547, eq. 1). It is the
retrospective twin of ``power.mde_people`` / ``power.mde_teams``, which predict the
SE from a design before the data exist.
"""

from __future__ import annotations

import math
from typing import Any

from scipy import special


def minimum_detectable_effect(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true effect, in KPI units, that a test with this ``se`` detects with ``power``.

    Examples:
        >>> round(minimum_detectable_effect(1.0), 4)
        2.8016
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha} and {power}")
    if not math.isfinite(se) or se < 0:
        raise ValueError(f"se must be a finite non-negative number, got {se}")
    return float(special.ndtri(1 - alpha / 2) + special.ndtri(power)) * se


def detectable_effects(
    se: float | None, pre_mean: float | None, alpha: float = 0.05, power: float = 0.8
) -> dict[str, Any]:
    """``mde`` and ``mde_relative`` (to the trained units' pre-period mean) for diagnostics.

    Either is None when it cannot be computed (no standard error, or a zero or
    missing pre-period mean); ``mde_relative`` is a positive fraction.

    Examples:
        >>> d = detectable_effects(0.1, 4.0)
        >>> round(d["mde"], 4), round(d["mde_relative"], 4)
        (0.2802, 0.07)
    """
    if se is None or not math.isfinite(se) or se < 0:
        return {"mde": None, "mde_relative": None}
    mde = minimum_detectable_effect(se, alpha, power)
    relative = None
    if pre_mean is not None and math.isfinite(pre_mean) and pre_mean != 0:
        relative = mde / abs(pre_mean)
    return {"mde": mde, "mde_relative": relative}
