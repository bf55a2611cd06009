"""Data health: what the imports left unresolved, how well identities match, KPI coverage."""

from __future__ import annotations

from typing import Any

import ibis

from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest.identity import PERSON_TABLES, UNKNOWN
from impactlens.ingest.xapi_activity import lrs_health
from impactlens.store.base import Store

SAMPLES = 5


def _scalar(expr: ibis.Expr) -> Any:
    # to_pyarrow, not execute(): ibis 12's pandas conversion warns under pandas 3
    return expr.to_pyarrow().as_py()


def _unknown_people(store: Store) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in PERSON_TABLES:
        table = store.table(name)
        unknown = table.filter(table.person_id.startswith(UNKNOWN))
        rows = int(_scalar(unknown.count()))
        refs = unknown.select("person_id").distinct().order_by("person_id").limit(SAMPLES)
        out[name] = {
            "rows": int(_scalar(table.count())),
            "unknown_rows": rows,
            "unknown_people": int(_scalar(unknown.person_id.nunique())),
            "samples": refs.to_pyarrow().column("person_id").to_pylist(),
        }
    return out


def _identity_match(store: Store) -> dict[str, Any]:
    """Per identity column: how many people carry a value for it (and the share)."""
    people = int(_scalar(store.table("people").count()))
    ids = store.table("identities")
    # mbox_sha1sum rows are derived from email (for xAPI actors), not a column of people
    ids = ids.filter(ids.id_column != "mbox_sha1sum")
    counts = (
        ids.group_by("id_column")
        .aggregate(people=ids.person_id.nunique())
        .order_by("id_column")
        .to_pyarrow()
        .to_pylist()
    )
    return {
        row["id_column"]: {
            "people": row["people"],
            "match_rate": round(row["people"] / people, 4) if people else None,
        }
        for row in counts
    }


def _kpi_coverage(store: Store) -> dict[str, Any]:
    kpis = store.table("kpis")
    cover = (
        kpis.group_by("kpi")
        .aggregate(
            units=kpis.unit_id.nunique(),
            first_period=kpis.period.min(),
            last_period=kpis.period.max(),
            periods=kpis.period.nunique(),
            rows=kpis.count(),
        )
        .order_by("kpi")
        .to_pyarrow()
        .to_pylist()
    )
    return {
        row.pop("kpi"): {
            **row,
            "first_period": row["first_period"].isoformat(),
            "last_period": row["last_period"].isoformat(),
        }
        for row in cover
    }


def data_health(
    store: Store, *, key: bytes | None = None, settings: WorkspaceSettings | None = None
) -> dict[str, Any]:
    """A JSON-ready health report of the store.

    Keys: ``unknown_people`` (per table: rows, unknown rows and people, sample
    pseudonymised refs), ``identity_match`` (per identity column: people with a
    value and the share of all people), ``kpi_coverage`` (per KPI: units, first and
    last period, number of periods) and ``imports`` (the import log). With the
    workspace ``key`` and ``settings`` it adds ``xapi``: LRS statements, how many count
    as activity, and the actors matching no person (count and pseudonymised samples).

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from impactlens.store.duckdb import DuckDBStore
        >>> with DuckDBStore(Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     data_health(store)["unknown_people"]["activity"]["unknown_rows"]
        0
    """
    log = store.imports()
    for column in ("started_at", "finished_at"):
        log[column] = log[column].astype(str)
    health = {
        "unknown_people": _unknown_people(store),
        "identity_match": _identity_match(store),
        "kpi_coverage": _kpi_coverage(store),
        "imports": log.to_dict(orient="records"),
    }
    if key is not None:
        health["xapi"] = lrs_health(store, key, settings or WorkspaceSettings())
    return health
