"""The server engine: a PostgreSQL database that several ImpactLens processes share.

Readers get Ibis tables over the same psycopg connection, so the analysis runs the
same expressions as on DuckDB. Imports are checked exactly as on DuckDB: the files
are staged, typed and checked in an in-memory DuckDB (same SQL, same messages), and
only the rows to write cross over, as Arrow through ``COPY`` (ibis inserts of 200k rows
took 17 s here, COPY about 1 s), inside one PostgreSQL transaction: nothing is
half-written. Migrations take an advisory lock, so two processes starting together
migrate once.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from impactlens.domain.errors import StoreOutdatedError, WorkspaceError
from impactlens.store.base import Staging, Store, UpsertCount
from impactlens.store.parsing import quote
from impactlens.store.schema import DATA_TABLES, TABLES, migrate
from impactlens.store.staging import staged

_MIGRATION_LOCK = 0x1A9AC7  # pg_advisory_xact_lock key of ImpactLens migrations
# DuckDB type names in the schema and in extra columns, as PostgreSQL spells them
_TYPES = (
    (re.compile(r"\bDOUBLE\b(?! PRECISION)"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bHUGEINT\b"), "NUMERIC"),
)
# The LRS's look-ups (id conflicts, the agent / verb / activity filters, paging by seq);
# the unique ones also hold the LRS's rules when several processes write at once.
_INDEXES = {
    name: f"CREATE {kind}INDEX IF NOT EXISTS {name} ON {table} {how}"
    for kind, name, table, how in (
        ("UNIQUE ", "xapi_statements_id", "xapi_statements", "(statement_id)"),
        ("UNIQUE ", "xapi_statements_seq", "xapi_statements", "(seq)"),
        ("", "xapi_statements_actor", "xapi_statements", "(actor_ifi, verb_id)"),
        ("", "xapi_statements_object", "xapi_statements", "(object_id)"),
        ("", "xapi_statements_verb", "xapi_statements", "(verb_id)"),
        ("", "xapi_statements_registration", "xapi_statements", "(registration)"),
        # the StatementRef closure of GET's filters walks these (few) rows only
        (
            "",
            "xapi_statements_statement_refs",
            "xapi_statements",
            "(object_id) WHERE object_type = 'StatementRef'",
        ),
        ("", "xapi_statement_refs_ref", "xapi_statement_refs", "(ref, kind)"),
        ("", "xapi_statement_refs_seq", "xapi_statement_refs", "(seq)"),
        ("UNIQUE ", "xapi_attachments_sha2", "xapi_attachments", "(sha2)"),
        ("", "xapi_documents_key", "xapi_documents", "(kind, activity_id, agent_ifi)"),
        ("", "lrs_clients_key", "lrs_clients", "(key)"),
    )
}
_SCHEMA_TYPES = {
    "DOUBLE PRECISION": "DOUBLE",
    "CHARACTER VARYING": "VARCHAR",
    "TEXT": "VARCHAR",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "BYTEA": "BLOB",
}
_ARROW_TO_PG = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.float64(): "DOUBLE PRECISION",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
}


def pg_type(sql: str) -> str:
    """A DuckDB column type (or DDL) as PostgreSQL spells it.

    Examples:
        >>> pg_type('CREATE TABLE t ("a" DOUBLE DEFAULT 1.0, "b" BLOB)')
        'CREATE TABLE t ("a" DOUBLE PRECISION DEFAULT 1.0, "b" BYTEA)'
    """
    for pattern, replacement in _TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


def redacted(url: str) -> str:
    """A store URL without its password, for messages.

    Examples:
        >>> redacted("postgresql://il:secret@db.example.com:5432/impact")
        'postgresql://il:***@db.example.com:5432/impact'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(Store):
    """A PostgreSQL database; Ibis for reading, psycopg for writing, DuckDB for staging."""

    engine = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        import psycopg

        self.location = redacted(url)
        try:
            self._pg = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WorkspaceError(
                f"cannot open the store {self.location}: {first}; check that the server is "
                "running and reachable, and the database, user and password in the store URL"
            ) from exc
        self._pg.execute("SET TIME ZONE 'UTC'")
        # JIT compiling paid ~0.9 s on LRS look-ups whose estimated cost crossed its threshold
        self._pg.execute("SET jit = off")
        self._ibis = ibis.postgres.from_connection(self._pg)
        self._stage = duckdb.connect()  # imports are staged and checked here
        self._stage.execute("SET TimeZone = 'UTC'")
        self._migrate(read_only)

    def _migrate(self, read_only: bool) -> None:
        from impactlens.store.schema import SCHEMA_VERSION

        with self.transaction():
            if not read_only:
                self._pg.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            exists = self._one("SELECT to_regclass('schema_version') IS NOT NULL")
            current = self._one("SELECT max(version) FROM schema_version") if exists else None
            if read_only:
                if (current or 0) > SCHEMA_VERSION:
                    migrate(lambda sql: None, current, self.location)  # raises: newer
                if (current or 0) < SCHEMA_VERSION:
                    raise StoreOutdatedError(
                        f"the store {self.location} needs an upgrade; open it for writing "
                        "once (e.g. run an import) to migrate it"
                    )
                return
            self._pg.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP)"
            )
            migrate(lambda sql: self._pg.execute(pg_type(sql)), current, self.location)
            have = {
                r[0]
                for r in self._pg.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                ).fetchall()
            }
            for name, sql in _INDEXES.items():
                if name not in have:  # CREATE INDEX would lock out writers even if it exists
                    self._pg.execute(sql)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._pg.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    # -- reading ---------------------------------------------------------------

    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the store."""
        if name not in TABLES:
            raise WorkspaceError(f"no table {name!r} in the store; known: {', '.join(TABLES)}")
        return self._ibis.table(name)

    def columns(self, name: str) -> dict[str, str]:
        """A table's columns and their SQL types, in order (staged tables too)."""
        if name.startswith("_stage_"):
            rows = self._stage.execute(f"DESCRIBE {quote(name)}").fetchall()
            return {r[0]: r[1] for r in rows}
        rows = self._pg.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = %s AND table_schema = current_schema() ORDER BY ordinal_position",
            [name],
        ).fetchall()
        # in the schema's (DuckDB's) words, so callers see the same types on every engine
        return {r[0]: _SCHEMA_TYPES.get(r[1].upper(), r[1].upper()) for r in rows}

    def fingerprint(self) -> str:
        """A sha256 of every data table's columns, row count and order-free row hash sum."""
        digest = hashlib.sha256()
        for name in DATA_TABLES:
            cols = self.columns(name)
            # md5 of each row's text, summed as numbers: independent of row order
            row = self._pg.execute(
                f"SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)"
                f"::bigint::numeric), 0) FROM {quote(name)} t"
            ).fetchone()
            digest.update(json.dumps([name, list(cols.items()), str(row)]).encode())
        digest.update(json.dumps(["xapi_statements", self.statements_version()]).encode())
        return digest.hexdigest()

    def imports(self) -> pd.DataFrame:
        """The import log, oldest first."""
        return self.table("imports").order_by("import_id").to_pyarrow().to_pandas()

    # -- writing ---------------------------------------------------------------

    def staging(self) -> AbstractContextManager[Staging]:
        """Temporary tables for one import call, in the in-memory DuckDB."""
        return staged(self._stage)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested: a savepoint)."""
        with self._pg.transaction():
            yield

    def add_columns(self, name: str, columns: Mapping[str, str]) -> None:
        """Add columns (name -> SQL type) to a stored table."""
        for column, sql_type in columns.items():
            self._pg.execute(
                f"ALTER TABLE {quote(name)} ADD COLUMN {quote(column)} {pg_type(sql_type)}"
            )

    def _copy_in(self, source: str, columns: Sequence[str]) -> str:
        """Copy a staged DuckDB table's columns into a PostgreSQL temp table; return its name."""
        data = self._stage.execute(
            f"SELECT _row, {', '.join(quote(c) for c in columns)} FROM {source}"
        ).to_arrow_table()
        temp = f"{source}__pg"
        types = ", ".join(
            f"{quote(f.name)} {_ARROW_TO_PG.get(f.type, 'TEXT')}" for f in data.schema
        )
        self._pg.execute(f"DROP TABLE IF EXISTS {temp}")
        self._pg.execute(f"CREATE TEMP TABLE {temp} ({types}) ON COMMIT DROP")
        self.copy_arrow(temp, data)
        return temp

    def copy_arrow(self, table: str, data: pa.Table | pa.RecordBatchReader) -> None:
        """Append Arrow rows to a PostgreSQL table with ``COPY`` (CSV written by Arrow).

        Arrow quotes every string and leaves nulls bare, which is how PostgreSQL's CSV
        format tells an empty string from NULL. A reader is streamed batch by batch.
        """
        batches = data.to_batches(max_chunksize=100_000) if isinstance(data, pa.Table) else data
        names = ", ".join(quote(c) for c in data.schema.names)
        options = pa_csv.WriteOptions(include_header=False)
        with (
            self._pg.cursor() as cur,
            cur.copy(f"COPY {quote(table)} ({names}) FROM STDIN (FORMAT csv)") as copy,
        ):
            for batch in batches:
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())

    def upsert(self, name: str, source: str, key: Sequence[str]) -> UpsertCount:
        """Write a typed staged table into ``name``; unchanged rows are not touched."""
        target_cols = self.columns(name)
        source_cols = [c for c in self.columns(source) if c in target_cols]
        temp = self._copy_in(source, source_cols)
        if len(key) == 2 and name == "surveys":
            on = "coalesce(s.response_id, s.row_hash) = coalesce(t.response_id, t.row_hash)"
        else:
            on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in key)
        same = " AND ".join(f"s.{quote(c)} IS NOT DISTINCT FROM t.{quote(c)}" for c in source_cols)
        others = [c for c in target_cols if c not in source_cols and c != "source"]
        same += "".join(f" AND t.{quote(c)} IS NULL" for c in others)
        cols = ", ".join(quote(c) for c in source_cols)
        matched = f"{temp}_m"
        self._pg.execute(
            f"CREATE TEMP TABLE {matched} ON COMMIT DROP AS SELECT s._row, ({same}) AS same "
            f"FROM {temp} s JOIN {quote(name)} t ON {on}"
        )
        hit = int(self._one(f"SELECT count(*) FROM {matched}"))
        unchanged = int(self._one(f"SELECT count(*) FROM {matched} WHERE same"))
        total = int(self._one(f"SELECT count(*) FROM {temp}"))
        self._pg.execute(
            f"DELETE FROM {quote(name)} t USING (SELECT s.* FROM {temp} s JOIN {matched} m "
            f"ON s._row = m._row WHERE NOT m.same) s WHERE {on}"
        )
        self._pg.execute(
            f"INSERT INTO {quote(name)} ({cols}) SELECT {cols} FROM {temp} "
            f"WHERE _row NOT IN (SELECT _row FROM {matched} WHERE same)"
        )
        return UpsertCount(inserted=total - hit, replaced=hit - unchanged, unchanged=unchanged)

    def remap_stored(self, name: str, column: str, mapping: Mapping[str, str]) -> int:
        """Replace values of a stored column by ``mapping``; return rows changed."""
        changed = 0
        with self._pg.cursor() as cur:
            for old, new in mapping.items():
                cur.execute(
                    f"UPDATE {quote(name)} SET {quote(column)} = %s WHERE {quote(column)} = %s",
                    [new, old],
                )
                changed += cur.rowcount
        return changed

    def delete_where(
        self, name: str, column: str, values: Sequence[str], *, clear: bool = False
    ) -> int:
        """Delete rows whose ``column`` is in ``values`` (``clear``: null the column)."""
        if not values:
            return 0
        col = quote(column)
        if clear:
            sql = f"UPDATE {quote(name)} SET {col} = NULL WHERE {col} = ANY(%s)"
        else:
            sql = f"DELETE FROM {quote(name)} WHERE {col} = ANY(%s)"
        with self._pg.cursor() as cur:
            cur.execute(sql, [list(values)])
            return cur.rowcount

    def log_import(self, entry: Mapping[str, object]) -> int:
        """Append an entry to the import log; return its import_id."""
        with self.transaction():
            self._pg.execute("LOCK TABLE imports IN SHARE ROW EXCLUSIVE MODE")
            import_id = int(self._one("SELECT coalesce(max(import_id), 0) + 1 FROM imports"))
            values = {"import_id": import_id, **entry}
            cols = ", ".join(quote(c) for c in values)
            marks = ", ".join("%s" for _ in values)
            self._pg.execute(
                f"INSERT INTO imports ({cols}) VALUES ({marks})", list(values.values())
            )
        return import_id

    def close(self) -> None:
        """Release the connections."""
        self._stage.close()
        self._pg.close()
