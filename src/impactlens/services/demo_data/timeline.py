"""The demo's calendar: 78 weekly KPI periods and region-specific seasonality."""

from __future__ import annotations

import numpy as np

#: The last KPI period (a Sunday); fixed so that a seed always gives the same bytes.
END = np.datetime64("2026-09-27")
WEEKS = 78
DAY = np.timedelta64(1, "D")

#: Regions (people column ``location``) with the day of year their yearly cycle peaks
#: and how strongly each feels the season (1.0 = the KPI's full amplitude).
REGIONS: dict[str, tuple[int, float]] = {
    "Benelux": (355, 1.0),
    "DACH": (10, 1.2),
    "Nordics": (25, 1.5),
    "Iberia": (200, 0.7),
    "UK & Ireland": (340, 0.9),
}


def weekly_periods(end: np.datetime64 = END, weeks: int = WEEKS) -> np.ndarray:
    """The period end dates (Sundays), oldest first, as ``datetime64[D]``.

    Examples:
        >>> p = weekly_periods()
        >>> len(p), str(p[0]), str(p[-1])
        (78, '2025-04-06', '2026-09-27')
    """
    return end - np.arange(weeks - 1, -1, -1) * 7 * DAY


def day_of_year(dates: np.ndarray) -> np.ndarray:
    """Day of year (1-366) of each ``datetime64[D]``.

    Examples:
        >>> day_of_year(np.array(["2026-01-01", "2026-02-01"], dtype="datetime64[D]")).tolist()
        [1, 32]
    """
    years = dates.astype("datetime64[Y]")
    return (dates - years.astype("datetime64[D]")).astype(int) + 1


def seasonality(regions: np.ndarray, periods: np.ndarray, amplitude: float) -> np.ndarray:
    """A units x periods matrix of the yearly cycle felt in each unit's region.

    A cosine with a region-specific peak day and strength: summer-heavy Iberia and
    winter-heavy Nordics move differently, so region is a real covariate.

    Examples:
        >>> s = seasonality(np.array(["Iberia", "Nordics"]), weekly_periods(), 2.0)
        >>> s.shape
        (2, 78)
    """
    doy = day_of_year(periods).astype(float)
    peaks = np.array([REGIONS[r][0] for r in regions], dtype=float)
    strength = np.array([REGIONS[r][1] for r in regions], dtype=float)
    angle = 2 * np.pi * (doy[None, :] - peaks[:, None]) / 365.25
    return amplitude * strength[:, None] * np.cos(angle)


def first_exposed(periods: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of each start's first exposed period (end date on or after the start).

    ``len(periods)`` means the start falls after the last period (never exposed).

    Examples:
        >>> p = weekly_periods()
        >>> first_exposed(p, np.array(["2025-04-06", "2025-04-07"], dtype="datetime64[D]"))
        array([0, 1])
    """
    return np.searchsorted(periods, starts, side="left")


def iso(dates: np.ndarray) -> np.ndarray:
    """ISO 8601 strings of ``datetime64[D]`` values; NaT becomes an empty string.

    Examples:
        >>> iso(np.array(["2026-01-05", "NaT"], dtype="datetime64[D]")).tolist()
        ['2026-01-05', '']
    """
    out = np.datetime_as_string(dates, unit="D").astype(object)
    out[np.isnat(dates)] = ""
    return out
