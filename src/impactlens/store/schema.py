"""The store's tables and their versioned migrations.

A store records its version in ``schema_version``. Migration ``N`` is the function
that takes a store from version ``N - 1`` to ``N``; opening an older store runs the
missing ones in order, opening a store written by a newer ImpactLens fails.
The SQL here is plain ANSI DDL so every engine behind the seam can run it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from impactlens.domain.errors import WorkspaceError


@dataclass(frozen=True)
class TableDef:
    """One in-store table: its fixed columns (name -> SQL type) and its key."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    person_columns: tuple[str, ...] = ()

    def ddl(self) -> str:
        """The ``CREATE TABLE`` statement.

        Examples:
            >>> TableDef("t", {"a": "VARCHAR"}, ("a",)).ddl()
            'CREATE TABLE IF NOT EXISTS "t" ("a" VARCHAR)'
        """
        cols = ", ".join(f'"{name}" {sql_type}' for name, sql_type in self.columns.items())
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({cols})'


# Keys are enforced by the import pipeline (delete-then-insert), not by constraints:
# tables grow EXTRA columns with ALTER TABLE, which engines restrict on indexed tables.
TABLES: dict[str, TableDef] = {
    t.name: t
    for t in (
        TableDef(
            "people",
            {
                "person_id": "VARCHAR",
                "team_id": "VARCHAR",
                "manager_id": "VARCHAR",
                "role": "VARCHAR",
                "location": "VARCHAR",
                "persona": "VARCHAR",
                "hire_date": "DATE",
                "termination_date": "DATE",
            },
            ("person_id",),
            ("person_id", "manager_id"),
        ),
        TableDef(
            "identities",
            {"id_column": "VARCHAR", "value_hash": "VARCHAR", "person_id": "VARCHAR"},
            ("id_column", "value_hash"),
            ("person_id",),
        ),
        TableDef(
            "participation",
            {
                "person_id": "VARCHAR",
                "program": "VARCHAR",
                "start_date": "DATE",
                "end_date": "DATE",
                "cohort": "VARCHAR",
                "status": "VARCHAR",
                "arm": "VARCHAR",
                "trained_from": "DATE",
            },
            ("person_id", "program"),
            ("person_id",),
        ),
        TableDef(
            "activity",
            {
                "person_id": "VARCHAR",
                "asset_id": "VARCHAR",
                "verb": "VARCHAR",
                "timestamp": "TIMESTAMP",
                "program": "VARCHAR",
                "duration_minutes": "DOUBLE",
                "score": "DOUBLE",
                "max_score": "DOUBLE",
                "success": "BOOLEAN",
                "progress_pct": "DOUBLE",
                "attempt_id": "VARCHAR",
                # 'import' for file rows; 'xapi' and statement_id for LRS statements later
                "source": "VARCHAR DEFAULT 'import'",
                "statement_id": "VARCHAR",
            },
            ("person_id", "asset_id", "verb", "timestamp"),
            ("person_id",),
        ),
        TableDef(
            "assessments",
            {
                "person_id": "VARCHAR",
                "skill": "VARCHAR",
                "taken_at": "TIMESTAMP",
                "score": "DOUBLE",
                "min_score": "DOUBLE",
                "max_score": "DOUBLE",
                "phase": "VARCHAR",
                "confidence": "DOUBLE",
                "program": "VARCHAR",
            },
            ("person_id", "skill", "taken_at"),
            ("person_id",),
        ),
        TableDef(
            "surveys",
            {
                "response_id": "VARCHAR",
                "program": "VARCHAR",
                "question_id": "VARCHAR",
                "response": "VARCHAR",
                "response_num": "DOUBLE",
                "submitted_at": "TIMESTAMP",
                "person_id": "VARCHAR",
                "level": "VARCHAR",
                "comment": "VARCHAR",
                "row_hash": "VARCHAR",
            },
            # response_id when given, else row_hash: the pipeline keys on the first non-null
            ("response_id", "row_hash"),
            ("person_id",),
        ),
        TableDef(
            "kpis",
            {
                "kpi": "VARCHAR",
                "unit_id": "VARCHAR",
                "period": "DATE",
                "value": "DOUBLE",
                "weight": "DOUBLE",
            },
            ("kpi", "unit_id", "period"),
        ),
        TableDef(
            "costs",
            {
                "program": "VARCHAR",
                "item": "VARCHAR",
                "amount": "DOUBLE",
                "category": "VARCHAR",
                "prorate_share": "DOUBLE DEFAULT 1.0",
                "currency": "VARCHAR",
            },
            ("program", "item"),
        ),
        TableDef(
            "imports",
            {
                "import_id": "INTEGER",
                "kind": "VARCHAR",
                "files": "VARCHAR",
                "rows": "BIGINT",
                "inserted": "BIGINT",
                "replaced": "BIGINT",
                "warnings": "VARCHAR",
                "started_at": "TIMESTAMP",
                "finished_at": "TIMESTAMP",
                "user": "VARCHAR",
                "content_sha256": "VARCHAR",
            },
            ("import_id",),
        ),
        # The dashboard's accounts and audit trail (version 3). Append-only: a later
        # row for the same name/token/session supersedes an earlier one, so every
        # engine can record changes with plain inserts and the history stays readable.
        TableDef(
            "users",
            {
                "name": "VARCHAR",
                "role": "VARCHAR",
                "password_hash": "VARCHAR",
                "active": "BOOLEAN",
                "changed_at": "TIMESTAMP",
                "changed_by": "VARCHAR",
            },
            ("name", "changed_at"),
        ),
        TableDef(
            "api_tokens",
            {
                "token_hash": "VARCHAR",
                "name": "VARCHAR",
                "created_at": "TIMESTAMP",
                "revoked_at": "TIMESTAMP",
            },
            ("token_hash", "created_at"),
        ),
        TableDef(
            "sessions",
            {
                "session_hash": "VARCHAR",
                "name": "VARCHAR",
                "created_at": "TIMESTAMP",
                "expires_at": "TIMESTAMP",
                "ended_at": "TIMESTAMP",
            },
            ("session_hash", "created_at"),
        ),
        TableDef(
            "audit_log",
            {
                "at": "TIMESTAMP",
                "user": "VARCHAR",
                "role": "VARCHAR",
                "method": "VARCHAR",
                "route": "VARCHAR",
                "program": "VARCHAR",
                "action": "VARCHAR",
                "status": "INTEGER",
            },
            ("at", "user"),
        ),
        # The Learning Record Store (version 4). One row per statement with the columns
        # the analysis and the xAPI queries read, beside the statement exactly as stored.
        TableDef(
            "xapi_statements",
            {
                "seq": "BIGINT",  # arrival order: the paging cursor and the `stored` tie-break
                "statement_id": "VARCHAR",  # lower-case UUID
                "stored": "TIMESTAMP",  # UTC, set by the LRS
                "timestamp": "TIMESTAMP",  # UTC, the statement's own (or stored)
                # canonical inverse functional identifier; resolved to a person at analysis
                "actor_ifi": "VARCHAR",
                "verb_id": "VARCHAR",
                "object_type": "VARCHAR",
                "object_id": "VARCHAR",  # activity IRI, agent IFI or statement id
                "registration": "VARCHAR",
                "voided": "BOOLEAN",
                "voids": "VARCHAR",  # the statement id a voiding statement voids
                "result_score_scaled": "DOUBLE",
                "result_score_raw": "DOUBLE",
                "result_score_min": "DOUBLE",
                "result_score_max": "DOUBLE",
                "result_success": "BOOLEAN",
                "result_completion": "BOOLEAN",
                "result_duration_s": "DOUBLE",
                "context_activities": "VARCHAR",  # JSON array of the context activity ids
                "version": "VARCHAR",
                "statement": "VARCHAR",  # the full statement JSON as the LRS returns it
            },
            ("statement_id",),
        ),
        # Every agent and activity a statement mentions, for the `agent` / `activity`
        # filters: `related` is false for the actor / object positions and true for the
        # rest (context, authority, instructor, team, sub-statement), per xAPI 1.0.3 7.2.3.
        TableDef(
            "xapi_statement_refs",
            {"seq": "BIGINT", "kind": "VARCHAR", "ref": "VARCHAR", "related": "BOOLEAN"},
            ("seq", "kind", "ref"),
        ),
        TableDef(
            "xapi_attachments",
            {"sha2": "VARCHAR", "content_type": "VARCHAR", "content": "BLOB"},
            ("sha2",),
        ),
        # State, activity profile and agent profile documents (kind), with their ETag.
        TableDef(
            "xapi_documents",
            {
                "kind": "VARCHAR",
                "activity_id": "VARCHAR",
                "agent_ifi": "VARCHAR",
                "registration": "VARCHAR",
                "document_id": "VARCHAR",
                "content_type": "VARCHAR",
                "content": "BLOB",
                "etag": "VARCHAR",
                "updated": "TIMESTAMP",
            },
            ("kind", "activity_id", "agent_ifi", "registration", "document_id"),
        ),
        # xAPI client credentials (HTTP Basic); append-only like users.
        TableDef(
            "lrs_clients",
            {
                "key": "VARCHAR",
                "name": "VARCHAR",
                "scope": "VARCHAR",  # read | write | all
                "secret_hash": "VARCHAR",
                "created_at": "TIMESTAMP",
                "revoked_at": "TIMESTAMP",
            },
            ("key", "created_at"),
        ),
        # Where `pull xapi` left off per endpoint (version 5): append-only, the latest
        # row of an endpoint is its cursor (the last `stored` copied, as the source wrote it).
        TableDef(
            "xapi_pull_state",
            {
                "endpoint": "VARCHAR",
                "last_stored": "VARCHAR",
                "statements": "BIGINT",  # copied by that run
                "pulled_at": "TIMESTAMP",
            },
            ("endpoint", "pulled_at"),
        ),
        # Totals of person-level rows expired by the retention setting (version 7), one
        # row per expiry run: value is a sum (divide by rows for a mean), people the
        # distinct people of that run. Names nobody (services/retention.py).
        TableDef(
            "aggregates",
            {
                "program": "VARCHAR",
                "source": "VARCHAR",  # the expired table: activity, assessments, surveys, ...
                "period": "DATE",  # first day of the month
                # verb:<verb>|asset:<asset>, score:<skill>:<phase>, answer:<question>|level:<level>
                "measure": "VARCHAR",
                "value": "DOUBLE",
                "rows": "BIGINT",
                "people": "BIGINT",
                "materialised_at": "TIMESTAMP",
            },
            ("program", "source", "period", "measure", "materialised_at"),
        ),
        # Pilots (version 6), all append-only. An assignment drawn by `pilot assign`
        # (seed, draws, balance and the units' arms as JSON); a frozen registration
        # (`record` is canonical JSON, `sha256` its hash); every plan version seen after
        # the first, with who/when/what (services/plan_history.py).
        TableDef(
            "pilot_assignments",
            {
                "program": "VARCHAR",
                "created_at": "TIMESTAMP",
                "created_by": "VARCHAR",
                "seed": "BIGINT",
                "record": "VARCHAR",
            },
            ("program", "created_at"),
        ),
        TableDef(
            "pilot_registrations",
            {
                "program": "VARCHAR",
                "registered_at": "TIMESTAMP",
                "registered_by": "VARCHAR",
                "sha256": "VARCHAR",
                "record": "VARCHAR",
            },
            ("program", "registered_at"),
        ),
        TableDef(
            "plan_history",
            {
                "program": "VARCHAR",
                "recorded_at": "TIMESTAMP",
                "recorded_by": "VARCHAR",
                "plan_sha256": "VARCHAR",
                "previous_sha256": "VARCHAR",
                "after_launch": "BOOLEAN",
                "modified_at": "TIMESTAMP",  # the plan file's modification time
                "changes": "VARCHAR",  # JSON list of {"key", "before", "after"}
                "diff": "VARCHAR",  # unified diff against the previous version
                "plan_text": "VARCHAR",
            },
            ("program", "recorded_at"),
        ),
    )
}

PILOT_TABLES: tuple[str, ...] = ("pilot_assignments", "pilot_registrations", "plan_history")

LRS_TABLES: tuple[str, ...] = (
    "xapi_statements",
    "xapi_statement_refs",
    "xapi_attachments",
    "xapi_documents",
    "lrs_clients",
)

ACCOUNT_TABLES: tuple[str, ...] = ("users", "api_tokens", "sessions", "audit_log")

DATA_TABLES: tuple[str, ...] = (
    "people",
    "identities",
    "participation",
    "activity",
    "assessments",
    "surveys",
    "kpis",
    "costs",
)


def _v1(execute: Callable[[str], Any]) -> None:
    """Version 1: the import log only (the first released layout)."""
    execute(TABLES["imports"].ddl())


def _v2(execute: Callable[[str], Any]) -> None:
    """Version 2: the data tables of every import kind."""
    for name in DATA_TABLES:
        execute(TABLES[name].ddl())


def _v3(execute: Callable[[str], Any]) -> None:
    """Version 3: dashboard users, API tokens, sessions and the audit log."""
    for name in ACCOUNT_TABLES:
        execute(TABLES[name].ddl())


def _v4(execute: Callable[[str], Any]) -> None:
    """Version 4: the Learning Record Store (statements, references, documents, clients)."""
    for name in LRS_TABLES:
        execute(TABLES[name].ddl())


def _v5(execute: Callable[[str], Any]) -> None:
    """Version 5: where each `pull xapi` endpoint left off."""
    execute(TABLES["xapi_pull_state"].ddl())


def _v6(execute: Callable[[str], Any]) -> None:
    """Version 6: pilot assignments and registrations, and every program's plan history."""
    for name in PILOT_TABLES:
        execute(TABLES[name].ddl())


def _v7(execute: Callable[[str], Any]) -> None:
    """Version 7: totals of person-level rows expired by the retention setting."""
    execute(TABLES["aggregates"].ddl())


# index i holds migration i + 1
MIGRATIONS: list[Callable[[Callable[[str], Any]], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(execute: Callable[[str], Any], current: int | None, where: str) -> int:
    """Bring a store from ``current`` (None: a new store) up to :data:`SCHEMA_VERSION`.

    Examples:
        >>> ran = []
        >>> migrate(ran.append, SCHEMA_VERSION, "x")
        7
        >>> ran
        []
    """
    current = current or 0
    if current > SCHEMA_VERSION:
        raise WorkspaceError(
            f"the store {where} has schema version {current}, newer than this ImpactLens "
            f"understands ({SCHEMA_VERSION}); upgrade ImpactLens to open it"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version - 1](execute)
        execute(f"INSERT INTO schema_version VALUES ({version}, current_timestamp)")
    return SCHEMA_VERSION
