"""Opening an older store migrates it; a newer one fails clearly."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from impactlens.domain.errors import WorkspaceError
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.schema import SCHEMA_VERSION, TABLES


def _store_at_version(path: Path, version: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMP)")
    con.execute(TABLES["imports"].ddl())
    for v in range(1, version + 1):
        con.execute(f"INSERT INTO schema_version VALUES ({v}, now())")
    con.execute(
        "INSERT INTO imports (import_id, kind, rows) VALUES (1, 'people', 3)"
    )  # data written by version 1 survives the migration
    con.close()


def test_older_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _store_at_version(path, 1)
    with DuckDBStore(path) as store:
        assert set(store.columns("activity")) >= {"person_id", "statement_id", "source"}
        assert list(store.imports()["kind"]) == ["people"]
        versions = store._con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        assert [v[0] for v in versions] == list(range(1, SCHEMA_VERSION + 1))


def test_older_store_read_only_asks_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _store_at_version(path, 1)
    with pytest.raises(WorkspaceError, match="needs an upgrade; open it for writing once"):
        DuckDBStore(path, read_only=True)


def test_newer_store_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    _store_at_version(path, SCHEMA_VERSION + 1)
    with pytest.raises(WorkspaceError) as caught:
        DuckDBStore(path)
    assert str(caught.value) == (
        f"the store {path} has schema version {SCHEMA_VERSION + 1}, newer than this "
        f"ImpactLens understands ({SCHEMA_VERSION}); upgrade ImpactLens to open it"
    )
