"""Small-group suppression for breakdowns (by persona, segment, team).

A figure about fewer than ``min_group_size`` people can point at individuals, so such
groups keep their label and lose every figure. Hiding one group is not enough when a
total is shown beside the groups: total minus the shown groups gives the hidden one
back. This is why statistical offices apply *complementary* (secondary) suppression:
hide a second group as well, the smallest shown one, which costs the least information
(Hundepool et al., *Statistical Disclosure Control*, 2012, ch. 4 on tabular data).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def _size(row: dict[str, Any], count_key: str) -> float:
    value = row.get(count_key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0  # an unknown size is treated as too small to show
    return float(value)


def _hidden(row: dict[str, Any], labels: Collection[str] | None, reason: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        keep = key in labels if labels is not None else isinstance(value, str)
        out[key] = value if keep else None
    out["suppressed"] = True
    out["suppressed_reason"] = reason
    return out


def suppress_groups(
    rows: list[dict[str, Any]],
    count_key: str,
    min_group_size: int,
    *,
    total: int | None,
    labels: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Hide groups smaller than ``min_group_size``, plus a complement when a total is shown.

    Primary suppression: a row whose ``rows[i][count_key]`` is below the threshold
    (or missing) keeps its labels, has every other value replaced by None and gets
    ``suppressed: True`` with ``suppressed_reason: "small group"``.

    Complementary suppression: when exactly one row is hidden and ``total`` is shown
    elsewhere, the hidden figure could be recovered by differencing (total minus the
    shown groups). The smallest shown row (first in order on ties) is then hidden too,
    with ``suppressed_reason: "complementary"``. Pass ``total=None`` when no total is
    published next to these rows.

    Args:
        rows: One dict per group, in display order; not modified.
        count_key: The key holding the number of people in the group.
        min_group_size: The privacy threshold (groups below it are hidden).
        total: The published total the groups add up to, or None.
        labels: Keys to keep on hidden rows; by default every string value is kept.

    Returns:
        New dicts in the same order, each with a ``suppressed`` flag.

    Examples:
        >>> rows = [{"team": "a", "n": 3}, {"team": "b", "n": 8}, {"team": "c", "n": 6}]
        >>> [(r["team"], r["n"]) for r in suppress_groups(rows, "n", 5, total=17)]
        [('a', None), ('b', 8), ('c', None)]
    """
    small = [i for i, r in enumerate(rows) if _size(r, count_key) < min_group_size]
    reasons = dict.fromkeys(small, "small group")
    shown = [i for i in range(len(rows)) if i not in reasons]
    if len(small) == 1 and total is not None and shown:
        complement = min(shown, key=lambda i: (_size(rows[i], count_key), i))
        reasons[complement] = "complementary"
    return [
        _hidden(r, labels, reasons[i])
        if i in reasons
        else {**r, "suppressed": False, "suppressed_reason": None}
        for i, r in enumerate(rows)
    ]
