"""Free-form records (segments, personas, cost items, data health) as report tables.

The metrics and data-health dicts are open-ended, so tables are built from whatever
keys the rows carry. Groups suppressed for privacy keep their label and show
"fewer than N, hidden" instead of figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from impactlens.reports.format import fmt_number, fmt_pct, kpi_label

_PCT_HINTS = ("rate", "share", "pct_of", "relative", "scrap", "match")
MAX_ROWS = 50  # a report is read, not searched; the export has every row


@dataclass(frozen=True)
class Row:
    """One table row: its label (a row header), its cells, or why it is hidden."""

    label: str
    cells: list[str]
    hidden: str | None = None


@dataclass(frozen=True)
class Table:
    """A table ready for the template; ``columns[0]`` heads the row labels."""

    caption: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    more: int = 0  # rows left out beyond MAX_ROWS


def header(key: str) -> str:
    """A column key in plain words.

    Examples:
        >>> header("n_treated"), header("ci_low")
        ('Trained (n)', 'Interval low')
    """
    special = {
        "n_treated": "Trained (n)",
        "n_comparison": "Comparison (n)",
        "n": "n",
        "ci_low": "Interval low",
        "ci_high": "Interval high",
        "kpi": "KPI",
        "smd_before": "SMD before",
        "smd_after": "SMD after",
        "d_z": "d_z",
    }
    text = special.get(key, kpi_label(key))
    return "KPI" + text[3:] if text.startswith("Kpi") and text[3:4] in {"", " "} else text


def cell(key: str, value: Any) -> str:
    """One value for display: percentages for rates and shares, rounded numbers, ``n/a``.

    Examples:
        >>> cell("completion_rate", 0.9155), cell("amount", 40000.0), cell("x", None)
        ('92%', '40,000', 'n/a')
    """
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return fmt_number(value, 0)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        if any(h in key for h in _PCT_HINTS) and abs(value) <= 1.5:
            return fmt_pct(value, 0 if abs(value) >= 0.1 else 1)
        return fmt_number(value, 0 if abs(value) >= 100 else 2 if abs(value) < 10 else 1)
    if isinstance(value, list | tuple):
        return ", ".join(cell(key, v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{header(k)}: {cell(k, v)}" for k, v in value.items())
    return str(value)


def records_table(rows: list[dict[str, Any]], caption: str, *, min_group_size: int = 5) -> Table:
    """A table from a list of dicts; suppressed rows show "fewer than N, hidden".

    Examples:
        >>> t = records_table([{"persona": "a", "n": 9, "suppressed": False},
        ...                    {"persona": "b", "n": None, "suppressed": True}], "By persona")
        >>> t.columns, t.rows[0].cells, t.rows[1].label, t.rows[1].hidden
        (['Persona', 'n'], ['9'], 'b', 'fewer than 5, hidden')
    """
    rows = [_merge_group_label(r) for r in rows if isinstance(r, dict)]
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys and k != "suppressed"]
    if not keys:
        return Table(caption, [])
    out = []
    for r in rows[:MAX_ROWS]:
        label = cell(keys[0], r.get(keys[0]))
        if r.get("suppressed"):
            # The label stays: readers see the group exists, never its figures.
            out.append(Row(label, [], f"fewer than {min_group_size}, hidden"))
        else:
            out.append(Row(label, [cell(k, r.get(k)) for k in keys[1:]]))
    return Table(caption, [header(k) for k in keys], out, max(0, len(rows) - MAX_ROWS))


def _merge_group_label(row: dict[str, Any]) -> dict[str, Any]:
    """``{"segment": "region", "value": "North", ...}`` -> ``{"group": "region: North", ...}``."""
    if "segment" in row and "value" in row:
        rest = {k: v for k, v in row.items() if k not in {"segment", "value"}}
        return {"group": f"{row['segment']}: {row['value']}", **rest}
    return row


def mapping_table(data: dict[str, Any], caption: str, *, kind: str = "") -> Table:
    """A two-column table (what, value) from a flat mapping.

    Examples:
        >>> [(r.label, r.cells) for r in mapping_table({"email": 0.98}, "Identity").rows]
        [('Email', ['0.98'])]
    """
    # ``kind`` (the mapping's own key, e.g. "identity_match") decides how values read.
    rows = [Row(header(k), [cell(f"{kind}_{k}" if kind else k, v)]) for k, v in data.items()]
    return Table(caption, ["What", "Value"], rows)
