"""Closed-form minimum detectable effects for pilot design (contract: pilot design).

MDE = (z(1 - alpha/2) + z(power)) x sd x sqrt(variance factor), with the factor
(1 - r2) / (share (1 - share) people) for people randomised one by one, and
icc (1 - r2) / (share (1 - share) teams) + (1 - icc)(1 - r2) / (share (1 - share)
teams x team_size) for whole teams (Bloom 2005, "Learning More from Social
Experiments", ch. 4; Raudenbush 1997, Psychological Methods 2:173).
"""

from __future__ import annotations

import math

from scipy import special


def _multiplier(alpha: float, power: float) -> float:
    return float(special.ndtri(1 - alpha / 2) + special.ndtri(power))


def _check(share: float, r2: float) -> None:
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1 (exclusive), got {share}")
    if not 0 <= r2 < 1:
        raise ValueError(f"r2 must be in [0, 1), got {r2}")


def mde_people(
    sd: float, r2: float, share: float, people: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Minimum detectable effect, in KPI units, when people are randomised.

    Examples:
        >>> round(mde_people(sd=1.0, r2=0.0, share=0.5, people=400), 4)
        0.2802
    """
    _check(share, r2)
    return _multiplier(alpha, power) * sd * math.sqrt((1 - r2) / (share * (1 - share) * people))


def mde_teams(
    sd: float,
    icc: float,
    r2: float,
    share: float,
    teams: float,
    team_size: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Minimum detectable effect, in KPI units, when whole teams are randomised.

    For a KPI measured per team pass ``icc=1`` and the between-team ``sd``.

    Examples:
        >>> round(mde_teams(sd=0.9, icc=0.12, r2=0.48, share=0.5, teams=40, team_size=9.6), 3)
        0.265
    """
    _check(share, r2)
    if not 0 <= icc <= 1:
        raise ValueError(f"icc must be in [0, 1], got {icc}")
    pq = share * (1 - share)
    factor = icc * (1 - r2) / (pq * teams) + (1 - icc) * (1 - r2) / (pq * teams * team_size)
    return _multiplier(alpha, power) * sd * math.sqrt(factor)


def needed_units(
    target_effect: float,
    sd: float,
    r2: float,
    share: float,
    alpha: float = 0.05,
    power: float = 0.8,
    icc: float | None = None,
    team_size: float | None = None,
) -> int | None:
    """Smallest number of units (people, or teams when ``icc`` is given) whose MDE reaches it.

    None when the target is zero or not finite (no sample detects no change).

    Examples:
        >>> needed_units(0.2802, sd=1.0, r2=0.0, share=0.5)
        400
    """
    if not math.isfinite(target_effect) or target_effect == 0:
        return None
    target = abs(target_effect)

    def mde(n: int) -> float:
        if icc is None:
            return mde_people(sd, r2, share, n, alpha, power)
        return mde_teams(sd, icc, r2, share, n, team_size or 1.0, alpha, power)

    # MDE falls as 1/sqrt(n): solve mde(1)/sqrt(n) = target, then fix rounding.
    n = max(1, math.ceil((mde(1) / target) ** 2))
    while n > 1 and mde(n - 1) <= target:
        n -= 1
    while mde(n) > target:
        n += 1
    return n


def check_design(alpha: float, power: float, share: float = 0.5) -> None:
    """Refuse design targets no pilot can meet, with a message a user can act on.

    Examples:
        >>> try:
        ...     check_design(0.05, 0.04)
        ... except ValueError as exc:
        ...     print(str(exc)[:44])
        power (0.04) must be above alpha (0.05): a t
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1 (exclusive), got {power}")
    if power <= alpha:
        raise ValueError(
            f"power ({power:g}) must be above alpha ({alpha:g}): a test must find a real "
            "effect more often than it cries wolf"
        )
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1 (exclusive), got {share}")


def power_at(effect: float, se: float, alpha: float = 0.05) -> float:
    """Power of a two-sided z test with standard error ``se`` when the true effect is ``effect``.

    Both tails count: P(Z > z(1 - alpha/2) - d) + P(Z < -z(1 - alpha/2) - d), d = |effect|/se.

    Examples:
        >>> round(power_at(2.8016, 1.0), 3)
        0.8
    """
    if se <= 0 or not math.isfinite(se):
        raise ValueError(f"se must be a positive number, got {se}")
    z = float(special.ndtri(1 - alpha / 2))
    d = abs(effect) / se
    return float(special.ndtr(d - z) + special.ndtr(-d - z))
