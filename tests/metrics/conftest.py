"""Small hand-made store tables for the metrics tests, with the store's column types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

SCHEMAS: dict[str, dict[str, str]] = {
    "people": {
        "person_id": "string", "team_id": "string", "manager_id": "string", "role": "string",
        "location": "string", "persona": "string", "hire_date": "date",
        "termination_date": "date", "region": "string",
    },
    "participation": {
        "person_id": "string", "program": "string", "start_date": "date", "end_date": "date",
        "cohort": "string", "status": "string", "arm": "string", "trained_from": "date",
    },
    "activity": {
        "person_id": "string", "asset_id": "string", "verb": "string",
        "timestamp": "timestamp", "program": "string", "duration_minutes": "float64",
        "score": "float64", "max_score": "float64", "success": "boolean",
        "progress_pct": "float64", "attempt_id": "string", "source": "string",
        "statement_id": "string",
    },
    "assessments": {
        "person_id": "string", "skill": "string", "taken_at": "timestamp", "score": "float64",
        "min_score": "float64", "max_score": "float64", "phase": "string",
        "confidence": "float64", "program": "string",
    },
    "surveys": {
        "response_id": "string", "program": "string", "question_id": "string",
        "response": "string", "response_num": "float64", "submitted_at": "timestamp",
        "person_id": "string", "level": "string", "comment": "string", "row_hash": "string",
    },
}  # fmt: skip

TableFactory = Callable[..., dict[str, ir.Table]]


def _connect(engine: str, request: pytest.FixtureRequest) -> Any:
    """An Ibis connection of ``engine`` (PostgreSQL: a fresh database on the test server)."""
    if engine == "postgresql":
        import psycopg
        from tests.postgres_server import database

        url = database(request.getfixturevalue("postgres_server"))
        pg = psycopg.connect(url, autocommit=True)
        request.addfinalizer(pg.close)
        return ibis.postgres.from_connection(pg)
    if engine == "spark":
        from impactlens.store.spark import spark_session

        return ibis.pyspark.connect(spark_session(driver_memory="2g"))
    return ibis.duckdb.connect()


# every metric is an Ibis expression: the same tests run on each engine the store offers
@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgresql", marks=[pytest.mark.engine, pytest.mark.xdist_group("postgres")]),
        pytest.param("spark", marks=[pytest.mark.engine, pytest.mark.xdist_group("spark")]),
    ]
)
def make_tables(request: pytest.FixtureRequest) -> TableFactory:
    """Build the store tables from lists of row dicts; unnamed columns are null."""
    con = _connect(request.param, request)

    def build(**rows: list[dict[str, Any]]) -> dict[str, ir.Table]:
        out = {}
        for name, schema in SCHEMAS.items():
            frame = pd.DataFrame(rows.get(name, []), columns=list(schema))
            for col, kind in schema.items():
                if kind in ("date", "timestamp"):
                    stamps = pd.to_datetime(frame[col])
                    frame[col] = stamps.dt.date if kind == "date" else stamps
            frame = frame.astype(object).where(frame.notna(), None)
            table = ibis.memtable(frame, schema=ibis.schema(schema))
            if request.param == "spark":  # ibis' pyspark backend has no temporary tables
                out[name] = con.create_view(name, table, overwrite=True)
            else:
                out[name] = con.create_table(name, table, temp=True, overwrite=True)
        return out

    return build


class Rows:
    """Row builders for the store tables (plain dicts, unnamed columns null)."""

    @staticmethod
    def people(*rows: tuple[str, str | None, str | None]) -> list[dict[str, Any]]:
        """People rows from (person_id, persona, region)."""
        return [{"person_id": p, "persona": s, "region": r} for p, s, r in rows]

    @staticmethod
    def participation(program: str, *rows: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Participation rows from (person_id, status[, arm])."""
        return [
            {"person_id": r[0], "program": program, "start_date": "2024-01-01", "status": r[1],
             "arm": r[2] if len(r) > 2 else None}
            for r in rows
        ]  # fmt: skip

    @staticmethod
    def surveys(*rows: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Survey rows from (person_id, level, question, response, response_num[, at, program])."""
        out = []
        for i, r in enumerate(rows):
            at = r[5] if len(r) > 5 else "2024-02-01"
            program = r[6] if len(r) > 6 else "prog"
            out.append(
                {"response_id": f"r{i}", "program": program, "question_id": r[2],
                 "response": r[3], "response_num": r[4], "submitted_at": at,
                 "person_id": r[0], "level": r[1]}
            )  # fmt: skip
        return out


@pytest.fixture
def rows() -> type[Rows]:
    """The row builders."""
    return Rows
