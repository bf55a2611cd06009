"""The embedded engine: one DuckDB file in the workspace, written by one process."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import psutil
import pyarrow as pa

from impactlens.domain.errors import StoreLockedError, StoreOutdatedError, WorkspaceError
from impactlens.store.base import Staging, Store, UpsertCount
from impactlens.store.parsing import quote
from impactlens.store.schema import DATA_TABLES, TABLES, migrate
from impactlens.store.staging import staged
from impactlens.store.statement_ids import StatementIds

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


def locked_error(path: Path, message: str) -> StoreLockedError:
    """A :class:`StoreLockedError` naming the process in DuckDB's lock message.

    Examples:
        >>> str(locked_error(Path("/x/s.duckdb"), "Conflicting lock is held in /bin/py (PID 0)"))
        'the store /x/s.duckdb is locked by PID 0 (/bin/py); let it finish or stop it, then retry'
    """
    found = _LOCK_HOLDER.search(message)
    if found is None:
        holder = "another process"
    else:
        pid = int(found["pid"])
        command = found["exe"]
        # the holder may have exited or be another user's: then keep DuckDB's name
        with contextlib.suppress(psutil.Error, OSError):
            command = " ".join(psutil.Process(pid).cmdline()) or command
        holder = f"PID {pid} ({command})"
    return StoreLockedError(
        f"the store {path} is locked by {holder}; let it finish or stop it, then retry"
    )


# How much write-ahead log DuckDB lets grow before it checkpoints (its default: 16 MB).
# Each checkpoint compresses the table's last, still-filling row group again, so small
# transactions (the LRS's moves of ~2,000 statements, documents, sessions) paid for the
# same rows many times: storing statements 2,000 per transaction cost 52-56 us each with
# the default and 28-30 with this, the closing checkpoint included, and the file came out
# 0.72x the size (bench/duckdb_checkpoints.py). The cost: a crash leaves up to this much
# log to replay at the next open (3.4 s for 216 MB there). Durability is the same: every
# commit is in the log, synced, before it returns.
CHECKPOINT_THRESHOLD = "256MB"


class DuckDBStore(Store):
    """A DuckDB file; Ibis for reading, the raw connection for bulk SQL.

    Examples:
        >>> import tempfile
        >>> with DuckDBStore(Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     store.table("people").count().to_pyarrow().as_py()
        0
    """

    engine = "duckdb"

    def __init__(self, path: Path, *, read_only: bool = False, memory_limit: str = "1GB") -> None:
        self.path = path
        self.location = str(path)
        self.read_only = read_only
        self.statement_ids = StatementIds()  # the LRS's filter of stored ids (statement_ids.py)
        if read_only and (not path.exists() or _journaled(path)):
            # create and migrate it (or store its journaled statements) once, then reopen
            DuckDBStore(path).close()
        spill = path.parent / ".impactlens" / "tmp"
        spill.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "temp_directory": str(spill),
            "checkpoint_threshold": CHECKPOINT_THRESHOLD,
        }
        try:
            self._con = duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise locked_error(path, str(exc)) from exc
            raise WorkspaceError(f"cannot open the store {path}: {exc}") from exc
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")  # stdout/stderr belong to the CLI
        self._migrate(read_only)
        self._ibis = ibis.duckdb.from_connection(self._con)
        if not read_only and _journaled(path):
            from impactlens.store.duckdb_lrs import move_in_journal

            move_in_journal(self)

    def _migrate(self, read_only: bool) -> None:
        exists = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()
        current = None
        if exists and exists[0]:
            row = self._con.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] if row else None
        from impactlens.store.schema import SCHEMA_VERSION

        if read_only:
            if (current or 0) > SCHEMA_VERSION:
                migrate(lambda sql: None, current, str(self.path))  # raises: a newer store
            if (current or 0) < SCHEMA_VERSION:
                raise StoreOutdatedError(
                    f"the store {self.path} needs an upgrade; open it for writing once "
                    "(e.g. run an import) to migrate it"
                )
            return
        with self.transaction():
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP)"
            )
            migrate(self._con.execute, current, str(self.path))

    # -- reading ---------------------------------------------------------------

    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the store."""
        if name not in TABLES:
            raise WorkspaceError(f"no table {name!r} in the store; known: {', '.join(TABLES)}")
        return self._ibis.table(name)

    def columns(self, name: str) -> dict[str, str]:
        """A table's columns and their SQL types, in order."""
        rows = self._con.execute(f"DESCRIBE {quote(name)}").fetchall()
        return {r[0]: r[1] for r in rows}

    def fingerprint(self) -> str:
        """A sha256 of every data table's columns, row count and order-free row hash sum.

        Plus the LRS statements' version (count, last seq): statements are only
        ever appended, voided (an appended statement) or removed (forget, retention).
        """
        digest = hashlib.sha256()
        for name in DATA_TABLES:
            cols = self.columns(name)
            # hash() of the whole row as a struct; the sum is order-independent
            row = self._con.execute(
                f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {quote(name)} t"
            ).fetchone()
            digest.update(json.dumps([name, list(cols.items()), str(row)]).encode())
        # LRS statements count as activity at analysis time: their arrival changes the data
        digest.update(json.dumps(["xapi_statements", self.statements_version()]).encode())
        return digest.hexdigest()

    def imports(self) -> pd.DataFrame:
        """The import log, oldest first."""
        return self._con.execute("SELECT * FROM imports ORDER BY import_id").df()

    # -- writing ---------------------------------------------------------------

    def staging(self) -> AbstractContextManager[Staging]:
        """Temporary tables for one import call, dropped afterwards."""
        return staged(self._con)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def add_columns(self, name: str, columns: Mapping[str, str]) -> None:
        """Add columns (name -> SQL type) to a stored table."""
        for column, sql_type in columns.items():
            self._con.execute(f"ALTER TABLE {quote(name)} ADD COLUMN {quote(column)} {sql_type}")

    def upsert(self, name: str, source: str, key: Sequence[str]) -> UpsertCount:
        """Write a typed staged table into ``name``; unchanged rows are not touched."""
        target_cols = self.columns(name)
        source_cols = [c for c in self.columns(source) if c in target_cols]
        if len(key) == 2 and name == "surveys":
            # surveys: response_id when given, else the row hash
            on = "coalesce(s.response_id, s.row_hash) = coalesce(t.response_id, t.row_hash)"
        else:
            on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in key)
        same = " AND ".join(f"s.{quote(c)} IS NOT DISTINCT FROM t.{quote(c)}" for c in source_cols)
        others = [c for c in target_cols if c not in source_cols]
        if others:  # a row is unchanged only if the columns this file lacks are empty too
            same += "".join(f" AND t.{quote(c)} IS NULL" for c in others if c not in ("source",))
        cols = ", ".join(quote(c) for c in source_cols)
        empty = self._con.execute(f"SELECT count(*) = 0 FROM (SELECT 1 FROM {quote(name)} LIMIT 1)")
        if empty.fetchone() == (True,):  # a first import: nothing to match or replace
            with self._unordered():
                row = self._con.execute(
                    f"INSERT INTO {quote(name)} ({cols}) SELECT {cols} FROM {source}"
                ).fetchone()
            return UpsertCount(inserted=int(row[0]) if row else 0, replaced=0)
        matched = f"{source}__matched"
        self._con.execute(
            f"CREATE OR REPLACE TEMP TABLE {matched} AS SELECT s._row, ({same}) AS same "
            f"FROM {source} s JOIN {quote(name)} t ON {on}"
        )
        counts = self._con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE same) FROM {matched}"
        ).fetchone()
        total_row = self._con.execute(f"SELECT count(*) FROM {source}").fetchone()
        assert counts is not None and total_row is not None
        hit, unchanged = int(counts[0]), int(counts[1])
        self._con.execute(
            f"DELETE FROM {quote(name)} t USING (SELECT s.* FROM {source} s JOIN {matched} m "
            f"ON s._row = m._row WHERE NOT m.same) s WHERE {on}"
        )
        with self._unordered():
            self._con.execute(
                f"INSERT INTO {quote(name)} ({cols}) SELECT {cols} FROM {source} "
                f"WHERE _row NOT IN (SELECT _row FROM {matched} WHERE same)"
            )
        self._con.execute(f"DROP TABLE {matched}")
        return UpsertCount(
            inserted=int(total_row[0]) - hit, replaced=hit - unchanged, unchanged=unchanged
        )

    @contextmanager
    def _unordered(self) -> Iterator[None]:
        """Let a bulk write run without keeping its source's row order.

        Stored tables have no meaningful order (keys and readers sort), and an
        unordered insert writes row groups in parallel: about twice as fast.
        """
        self._con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self._con.execute("RESET preserve_insertion_order")

    def remap_stored(self, name: str, column: str, mapping: Mapping[str, str]) -> int:
        """Replace values of a stored column by ``mapping``; return rows changed."""
        if not mapping:
            return 0
        frame = pa.table({"old": list(mapping), "new": list(mapping.values())})
        self._con.register("_remap", frame)
        try:
            row = self._con.execute(
                f"UPDATE {quote(name)} SET {quote(column)} = m.new FROM _remap m "
                f"WHERE {quote(name)}.{quote(column)} = m.old"
            ).fetchone()
        finally:
            self._con.unregister("_remap")
        return int(row[0]) if row else 0

    def delete_where(
        self, name: str, column: str, values: Sequence[str], *, clear: bool = False
    ) -> int:
        """Delete rows whose ``column`` is in ``values`` (``clear``: null the column)."""
        if not values:
            return 0
        col = quote(column)
        marks = ", ".join("?" for _ in values)
        if clear:
            sql = f"UPDATE {quote(name)} SET {col} = NULL WHERE {col} IN ({marks})"
        else:
            sql = f"DELETE FROM {quote(name)} WHERE {col} IN ({marks})"
        row = self._con.execute(sql, list(values)).fetchone()
        return int(row[0]) if row else 0

    def log_import(self, entry: Mapping[str, object]) -> int:
        """Append an entry to the import log; return its import_id."""
        row = self._con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
        import_id = int(row[0]) if row else 1
        values = {"import_id": import_id, **entry}
        cols = ", ".join(quote(c) for c in values)
        marks = ", ".join("?" for _ in values)
        self._con.execute(f"INSERT INTO imports ({cols}) VALUES ({marks})", list(values.values()))
        return import_id

    def close(self) -> None:
        """Release the store (and its write lock)."""
        self._con.close()


def _journaled(path: Path) -> bool:
    """Whether the LRS's statement journal beside the store holds statements to store."""
    from impactlens.store.lrs_journal import journal_path, other_file

    journal = journal_path(path)
    return any(f.exists() and f.stat().st_size > 0 for f in (journal, other_file(journal)))
