"""Fixtures for import tests: a fresh store, a writer of small files, table snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest.base import ImportSummary
from impactlens.ingest.pipeline import import_files
from impactlens.store.base import Store
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.schema import TABLES

KEY = b"test-key"


@pytest.fixture
def store(writable_store: Store) -> Store:
    """The import tests run on every engine imports write to (Spark is read-only)."""
    return writable_store


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return _write


@pytest.fixture
def load(store: DuckDBStore) -> Callable[..., ImportSummary]:
    def _load(kind: str, *paths: Path, **kwargs: Any) -> ImportSummary:
        return import_files(
            store, kind, list(paths), settings=WorkspaceSettings(), key=KEY, **kwargs
        )

    return _load


def snapshot(store: DuckDBStore) -> dict[str, Any]:
    """Every table's columns and rows (sorted), to compare before and after."""
    out: dict[str, Any] = {}
    for name in TABLES:
        rows = store.table(name).to_pyarrow().to_pylist()
        out[name] = (list(store.columns(name)), sorted(rows, key=repr))
    return out


@pytest.fixture
def snap(store: DuckDBStore) -> Callable[[], dict[str, Any]]:
    return lambda: snapshot(store)
