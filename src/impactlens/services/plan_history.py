"""Plan history: every version of a plan the tool has read, with who, when and what changed.

Each time a plan is read for an analysis (``analyze``, ``report``, ``export``, the
dashboard) its hash is compared with the last one recorded; a new hash adds a row
with the key-level changes and a unified diff. Changes after launch (the earliest
participation start of the program) are flagged, so a KPI or target quietly swapped
after the fact shows beside the result. ``recorded_by`` is the account that ran the
read that noticed the change, ``modified_at`` the plan file's modification time.
"""

from __future__ import annotations

import difflib
import getpass
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import yaml

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import plan_sha256
from impactlens.store.base import Store

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a YAML document (lists of KPIs keyed by their id).

    Examples:
        >>> _flat({"kpis": [{"id": "csat", "target": 80}], "title": "x"})
        {'kpis[csat].target': 80, 'title': 'x'}
    """
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value):
        for v in value:
            rest = {k: x for k, x in v.items() if k != "id"}
            out.update(_flat(rest, f"{prefix}[{v['id']}]"))
            if not rest:
                out[f"{prefix}[{v['id']}]"] = v["id"]
    else:
        out[prefix] = value
    return out


def key_changes(before: str, after: str) -> list[dict[str, Any]]:
    """Key-level changes between two plan texts: ``{"key", "before", "after"}``, sorted.

    Examples:
        >>> key_changes("kpis: [{id: a, target: 3}]", "kpis: [{id: a, target: 2}]")
        [{'key': 'kpis[a].target', 'before': 3, 'after': 2}]
    """

    def load(text: str) -> dict[str, Any]:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return {}
        return _flat(data) if isinstance(data, dict) else {}

    old, new = load(before), load(after)
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append({"key": key, "before": _plain(old.get(key)), "after": _plain(new.get(key))})
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _launch(store: Store, program: str) -> date | None:
    t = store.table("participation")
    value = t.filter(t.program == program).start_date.min().to_pyarrow().as_py()
    return value if isinstance(value, date) else None


def record_plan(
    store: Store,
    program: str,
    text: str,
    *,
    by: str,
    modified_at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Record ``text`` when its hash differs from the last recorded version; True if it did."""
    t = store.table("plan_history")
    last = (
        t.filter(t.program == program).order_by(t.recorded_at.desc()).limit(1).to_pyarrow()
    ).to_pylist()
    sha = plan_sha256(text)
    if last and last[0]["plan_sha256"] == sha:
        return False
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    launch = _launch(store, program)
    previous = last[0] if last else None
    changes = key_changes(previous["plan_text"], text) if previous else []
    diff = (
        "".join(
            difflib.unified_diff(
                previous["plan_text"].splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{program}.yaml ({previous['plan_sha256'][:12]})",
                f"{program}.yaml ({sha[:12]})",
            )
        )
        if previous
        else ""
    )
    row = {
        "program": program,
        "recorded_at": now,
        "recorded_by": by,
        "plan_sha256": sha,
        "previous_sha256": previous["plan_sha256"] if previous else None,
        "after_launch": bool(previous) and launch is not None and now.date() >= launch,
        "modified_at": modified_at,
        "changes": json.dumps(changes, default=str),
        "diff": diff,
        "plan_text": text,
    }
    schema = store.table("plan_history").schema().to_pyarrow()
    store.table("plan_history").get_backend().insert(
        "plan_history", pa.Table.from_pylist([row], schema=schema)
    )
    return True


def plan_history(store: Store, program: str) -> list[dict[str, Any]]:
    """The recorded changes of ``program``'s plan (the first version is not a change)."""
    t = store.table("plan_history")
    rows = (
        t.filter((t.program == program) & t.previous_sha256.notnull())
        .order_by(t.recorded_at)
        .drop("plan_text")
        .to_pyarrow()
        .to_pylist()
    )
    out = []
    for r in rows:
        out.append(
            {
                "recorded_at": r["recorded_at"].isoformat(timespec="seconds"),
                "recorded_by": r["recorded_by"],
                "modified_at": (
                    r["modified_at"].isoformat(timespec="seconds") if r["modified_at"] else None
                ),
                "after_launch": bool(r["after_launch"]),
                "plan_sha256": r["plan_sha256"],
                "changes": json.loads(r["changes"] or "[]"),
                "diff": r["diff"],
            }
        )
    return out


def observe_plan(ws: Workspace, program: str, text: str, by: str | None = None) -> None:
    """Record the plan as read now; a store held by another process only skips the record."""
    path = ws.plan_files().get(program)
    modified = (
        datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
        if path
        else None
    )
    try:
        with ws.store() as store:
            if not store.read_only:  # an export read by Spark keeps the history it was given
                record_plan(store, program, text, by=by or _user(), modified_at=modified)
    except ImpactLensError:
        return  # read-only or locked elsewhere: the next writable read records it


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def history_caveat(history: list[dict[str, Any]]) -> str | None:
    """The report's one-line caveat when the plan changed after launch.

    Examples:
        >>> history_caveat([{"after_launch": True, "recorded_at": "2026-05-01T10:00:00",
        ...   "recorded_by": "ann", "changes": [{"key": "kpis[c].target"}]}])
        'plan changed after launch: 1 change (latest 2026-05-01, noticed by ann): kpis[c].target'
    """
    late = [h for h in history if h.get("after_launch")]
    if not late:
        return None
    keys = sorted({c["key"] for h in late for c in h.get("changes", [])})
    shown = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
    last = late[-1]
    n = len(late)
    return (
        f"plan changed after launch: {n} change{'s' if n > 1 else ''} "
        f"(latest {str(last['recorded_at'])[:10]}, noticed by {last['recorded_by']})"
        + (f": {shown}" if shown else "")
    )
