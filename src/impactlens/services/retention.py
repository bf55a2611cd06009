"""Retention: person-level learning records expire after ``[privacy] retention_months``.

What expires is the detailed trace of what each person did: activity rows,
assessment results, survey answers that name a person, and xAPI statements (with
their references). What stays is what a program's effect is estimated from:
people, identities, participation and KPI rows (the effect compares the KPI of
participants with a comparison group, per person or team, over time; without those
rows no effect can be computed again). They leave the store with ``people forget``.

Before rows go, the same transaction writes their per-program, per-month totals
to the ``aggregates`` table, so the history of reach, completions, scores and
survey answers survives as counts and sums that name nobody. One transaction: an
expiry lands whole or not at all, and the audit log records it.
"""

from __future__ import annotations

import calendar
import getpass
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from impactlens.metrics.expired import ASSET, CUTOFF_MEASURE, CUTOFF_SOURCE, LEVEL
from impactlens.metrics.learner import NO, YES
from impactlens.services.audit import AuditLog
from impactlens.store.base import Store

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from impactlens.domain.settings import WorkspaceSettings
    from impactlens.services.workspace import Workspace

# table -> the column that dates a row
DATED = {
    "activity": "timestamp",
    "assessments": "taken_at",
    "surveys": "submitted_at",
    "xapi_statements": "timestamp",
}


@dataclass(frozen=True)
class Expiry:
    """One expiry run: the cutoff, rows removed per table, aggregate rows written."""

    months: int
    cutoff: date
    removed: dict[str, int]
    aggregated: int = 0
    dry_run: bool = False
    kept: tuple[str, ...] = field(default=("people", "identities", "participation", "kpis"))

    @property
    def total(self) -> int:
        """Rows removed (or, in a dry run, that would be) in all tables."""
        return sum(self.removed.values())

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "retention_months": self.months,
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "removed": self.removed,
            "aggregated": self.aggregated,
            "kept": list(self.kept),
        }


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's end).

    Examples:
        >>> months_before(date(2026, 3, 31), 1), months_before(date(2026, 1, 15), 13)
        (datetime.date(2026, 2, 28), datetime.date(2024, 12, 15))
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def expire_person_data(
    ws: Workspace,
    *,
    today: date | None = None,
    dry_run: bool = False,
    by: str | None = None,
    role: str = "cli",
) -> Expiry | None:
    """Expire the workspace's person-level records older than its retention setting.

    Returns None when ``retention_months`` is not set (nothing ever expires).
    ``by`` and ``role`` name who ran it in the audit log (default: the operating-system
    user, from the command line).
    """
    months = ws.settings.privacy.retention_months
    if months is None:
        return None
    today = today or datetime.now(UTC).date()
    cutoff = months_before(today, months)
    with ws.store() as store:
        if dry_run:
            return Expiry(months, cutoff, _counts(store, cutoff), dry_run=True)
        with store.transaction():
            expiry = expire_in(store, months, cutoff, key=ws.key(), settings=ws.settings)
            if expiry.total:
                _audit(store, expiry, by, role)
    return expiry


def expire_in(
    store: Store,
    months: int,
    cutoff: date,
    *,
    key: bytes | None = None,
    settings: WorkspaceSettings | None = None,
) -> Expiry:
    """Aggregate, then delete, every dated person-level row before ``cutoff``.

    With the workspace's ``key`` and ``settings``, the xAPI statements that count as
    activity are also totalled as that activity (source ``xapi_activity``), so the
    operational tier can add them back. The caller holds the transaction.
    """
    removed = _counts(store, cutoff)
    if not any(removed.values()):
        return Expiry(months, cutoff, {})
    frames = [f for f in _aggregates(store, cutoff, key, settings) if f.num_rows]
    written = 0
    for frame in frames:
        store.table("aggregates").get_backend().insert("aggregates", frame)
        written += frame.num_rows
    backend = store.table("activity").get_backend()
    stamp = f"TIMESTAMP '{cutoff.isoformat()} 00:00:00'"  # our own date, never user text
    old = f'"timestamp" < {stamp}'
    removed["xapi_statement_refs"] = _count(
        store.table("xapi_statement_refs").filter(
            store.table("xapi_statement_refs").seq.isin(_old(store, "xapi_statements", cutoff).seq)
        )
    )
    store.table("aggregates").get_backend().insert("aggregates", _marker(cutoff, removed))
    backend.raw_sql(
        f'DELETE FROM "xapi_statement_refs" WHERE "seq" IN '
        f'(SELECT "seq" FROM "xapi_statements" WHERE {old})'
    )
    for table, column in DATED.items():
        person = ' AND "person_id" IS NOT NULL' if table == "surveys" else ""
        backend.raw_sql(f'DELETE FROM "{table}" WHERE "{column}" < {stamp}{person}')
    return Expiry(months, cutoff, {k: n for k, n in removed.items() if n}, aggregated=written)


def _old(store: Store, table: str, cutoff: date) -> ir.Table:
    """The rows of ``table`` dated before ``cutoff`` (surveys: only answers that name someone)."""
    t = store.table(table)
    when = ibis.timestamp(cutoff.isoformat() + " 00:00:00")
    rows = t.filter(t[DATED[table]] < when)
    return rows.filter(rows.person_id.notnull()) if table == "surveys" else rows


def _count(expr: ir.Table) -> int:
    return int(expr.count().to_pyarrow().as_py())


def _counts(store: Store, cutoff: date) -> dict[str, int]:
    return {table: _count(_old(store, table, cutoff)) for table in DATED}


def _month(column: ir.TimestampValue) -> ir.DateValue:
    return column.truncate("M").date()


def _activity_frame(act: ir.Table, source: str, now: datetime) -> pa.Table:
    """Activity totals per program, month, verb and asset (the tier counts by asset too)."""
    measure = act.verb.fill_null("") + ASSET + act.asset_id.cast("string").fill_null("")
    return _frame(
        act.group_by(program=act.program, period=_month(act.timestamp), measure=measure),
        source,
        "verb:",
        act.person_id,
        act.duration_minutes,
        now,
    )


def _statement_activity(
    store: Store, cutoff: date, key: bytes | None, settings: WorkspaceSettings | None
) -> ir.Table | None:
    """The expiring statements as the activity rows the analysis makes of them."""
    from impactlens.ingest.xapi_activity import statement_activity

    if key is None or settings is None:
        return None
    act, _ = statement_activity(store, key, settings, store.table("activity").limit(0))
    return act.filter(act.timestamp < ibis.timestamp(cutoff.isoformat() + " 00:00:00"))


def _marker(cutoff: date, removed: dict[str, int]) -> pa.Table:
    """One row naming the run's cutoff, so a tier can say since when it counts people."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return pa.table(
        {
            "program": pa.array([None], pa.string()),
            "source": [CUTOFF_SOURCE],
            "period": pa.array([cutoff], pa.date32()),
            "measure": [CUTOFF_MEASURE],
            "value": pa.array([float(sum(removed.values()))], pa.float64()),
            "rows": pa.array([sum(removed.values())], pa.int64()),
            "people": pa.array([0], pa.int64()),
            "materialised_at": pa.array([now], pa.timestamp("us")),
        }
    )


def _aggregates(
    store: Store, cutoff: date, key: bytes | None, settings: WorkspaceSettings | None
) -> list[pa.Table]:
    """Per-program, per-month totals of the rows about to expire (sums, so runs add up).

    ``value`` is a sum (minutes, scores, numeric answers): divide by ``rows`` for a mean
    (for surveys ``rows`` counts the numeric answers). ``people`` counts distinct people
    in that run only. The measure formats are :mod:`impactlens.metrics.expired`'s.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    out: list[pa.Table] = [_activity_frame(_old(store, "activity", cutoff), "activity", now)]
    xapi = _statement_activity(store, cutoff, key, settings)
    if xapi is not None:
        out.append(_activity_frame(xapi, "xapi_activity", now))
    ass = _old(store, "assessments", cutoff)
    measure = ass.skill.fill_null("") + ":" + ass.phase.fill_null("")
    out.append(
        _frame(
            ass.group_by(program=ass.program, period=_month(ass.taken_at), measure=measure),
            "assessments",
            "score:",
            ass.person_id,
            ass.score,
            now,
        )
    )
    sur = _old(store, "surveys", cutoff)
    level = sur.level.strip().lower().fill_null("")
    # the learner tier reads a yes/no to `applied` as 1/0; every other figure needs a number
    word = sur.response.strip().lower()
    parsed = ibis.cases((word.isin(YES), 1.0), (word.isin(NO), 0.0), else_=ibis.null("float64"))
    applied = (level == "application") & (sur.question_id.strip().lower() == "applied")
    answer = ibis.ifelse(applied, ibis.coalesce(sur.response_num, parsed), sur.response_num)
    out.append(
        _frame(
            sur.group_by(
                program=sur.program,
                period=_month(sur.submitted_at),
                measure=sur.question_id.fill_null("") + LEVEL + level,
            ),
            "surveys",
            "answer:",
            answer,  # rows: the numeric answers, so value / rows is their mean
            answer,
            now,
            people=sur.person_id,
        )
    )
    st = _old(store, "xapi_statements", cutoff)
    out.append(
        _frame(
            st.group_by(
                program=ibis.null().cast("string"), period=_month(st.timestamp), measure=st.verb_id
            ),
            "xapi_statements",
            "verb:",
            st.actor_ifi,
            st.result_score_raw,
            now,
        )
    )
    return out


def _frame(
    grouped: Any,
    source: str,
    prefix: str,
    who: ir.Column,
    value: ir.Column,
    now: datetime,
    people: ir.Column | None = None,
) -> pa.Table:
    """Totals per group: ``value`` summed, non-null ``who`` counted, distinct people."""
    people = who if people is None else people
    rows = grouped.aggregate(
        value=value.sum(), rows=who.count(), people=people.nunique()
    ).to_pyarrow()
    n = rows.num_rows
    measures = [prefix + (m or "") for m in rows.column("measure").to_pylist()]
    return pa.table(
        {
            "program": rows.column("program").cast(pa.string()),
            "source": pa.array([source] * n, pa.string()),
            "period": rows.column("period").cast(pa.date32()),
            "measure": pa.array(measures, pa.string()),
            "value": rows.column("value").cast(pa.float64()),
            "rows": rows.column("rows").cast(pa.int64()),
            "people": rows.column("people").cast(pa.int64()),
            "materialised_at": pa.array([now] * n, pa.timestamp("us")),
        }
    )


def aggregates(store: Store, program: str | None = None) -> list[dict[str, Any]]:
    """The kept totals of expired rows (of one program, when given), summed over runs."""
    t = store.table("aggregates")
    if program is not None:
        t = t.filter(t.program == program)
    summed = t.group_by("program", "source", "period", "measure").aggregate(
        value=t.value.sum(), rows=t.rows.sum(), people=t.people.sum()
    )
    return summed.order_by(["program", "source", "period", "measure"]).to_pyarrow().to_pylist()


def _audit(store: Store, expiry: Expiry, by: str | None, role: str) -> None:
    """Record the run: how many rows went and the cutoff; nothing about anyone."""
    if by is None:
        try:
            by = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry in some containers
            by = "unknown"
    log = AuditLog()
    route = f"people expire: {expiry.total} rows before {expiry.cutoff.isoformat()} removed"
    log.record(by, role, "CLI" if role == "cli" else "POST", route, None, "expire", 200)
    log.flush(store)
