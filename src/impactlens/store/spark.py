"""The analytics engine for large event volumes: a Spark session over an exported store.

``spark:///abs/path/to/export`` names a folder written by ``impactlens store export``
(one Parquet file per table and a manifest). Each table becomes a view of a Spark
session through Ibis' pyspark backend, so ``analyze`` runs the same expressions as on
DuckDB and PostgreSQL. It is read-only: imports, the LRS and the dashboard's accounts
need DuckDB or PostgreSQL. The session (local by default, ``?master=`` for a cluster,
``?driver_memory=`` above the 1 GiB Spark default) is started once per process.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
from ibis.backends.sql.datatypes import DuckDBType

from impactlens.domain.errors import WorkspaceError
from impactlens.store.base import Staging, Store, UpsertCount
from impactlens.store.schema import SCHEMA_VERSION, TABLES

MANIFEST = "_impactlens.json"
JAVA_PACKAGE = "openjdk-17-jre-headless"
_SESSIONS: dict[tuple[str, str], Any] = {}


def spark_session(master: str = "local[2]", driver_memory: str = "4g") -> Any:
    """The process's Spark session for ``master`` (started on first use, ~5-9 s)."""
    key = (master, driver_memory)
    if key in _SESSIONS:
        return _SESSIONS[key]
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise WorkspaceError(
            f"the Spark store needs Java: install it with `apt-get install -y {JAVA_PACKAGE}` "
            "(or set JAVA_HOME)"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise WorkspaceError(
            "the Spark store needs pyspark: install it with `pip install 'impactlens[spark]'`"
        ) from exc
    session = (
        SparkSession.builder.master(master)
        .appName("impactlens")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")  # the stores keep naive UTC times
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # stdout belongs to the CLI
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    _SESSIONS[key] = session
    return session


class SparkStore(Store):
    """An exported store read by Spark; every write is refused."""

    engine = "spark"
    read_only = True

    def __init__(self, location: str) -> None:
        path_text, _, query = location.partition("?")
        self.path = Path(path_text)
        self.location = f"spark://{location}"
        manifest = self.path / MANIFEST
        if not manifest.is_file():
            raise WorkspaceError(
                f"{self.path} is not an ImpactLens export (no {MANIFEST}): write one with "
                "`impactlens store export --out DIR` from a DuckDB or PostgreSQL workspace"
            )
        self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
        version = int(self.manifest.get("schema_version", 0))
        if version != SCHEMA_VERSION:
            newer = "newer" if version > SCHEMA_VERSION else "older"
            raise WorkspaceError(
                f"the export {self.path} has schema version {version}, {newer} than this "
                f"ImpactLens ({SCHEMA_VERSION}): export the store again with this version"
            )
        options = {k: v[-1] for k, v in parse_qs(query).items()}
        session = spark_session(
            options.get("master", "local[2]"), options.get("driver_memory", "4g")
        )
        self._ibis = ibis.pyspark.connect(session)
        self._tables: dict[str, Any] = {}

    def table(self, name: str) -> ibis.Table:
        """An Ibis table over the export's Parquet file (registered on first use)."""
        if name not in TABLES:
            raise WorkspaceError(f"no table {name!r} in the store; known: {', '.join(TABLES)}")
        if name not in self._tables:
            path = self.path / f"{name}.parquet"
            if not path.exists():
                raise WorkspaceError(f"the export {self.path} has no table {name!r}")
            view = f"il_{abs(hash(str(self.path))):x}_{name}"  # one view per export and table
            self._tables[name] = self._ibis.read_parquet(str(path), table_name=view)
        return self._tables[name]

    def columns(self, name: str) -> dict[str, str]:
        """A table's columns and their types, in the schema's (DuckDB's) words."""
        return {k: _schema_type(v) for k, v in self.table(name).schema().items()}

    def fingerprint(self) -> str:
        """The source store's fingerprint, from the manifest: same data, same fingerprint."""
        return str(self.manifest["data_sha256"])

    def imports(self) -> pd.DataFrame:
        """The import log of the source store, oldest first."""
        return self.table("imports").order_by("import_id").to_pyarrow().to_pandas()

    def _refuse(self) -> NoReturn:
        raise WorkspaceError(
            f"the Spark store {self.location} is read-only: import into a DuckDB or PostgreSQL "
            "workspace and run `impactlens store export --out DIR` again"
        )

    def staging(self) -> AbstractContextManager[Staging]:
        """Refused: read-only."""
        self._refuse()

    def transaction(self) -> AbstractContextManager[None]:
        """Refused: read-only."""
        self._refuse()

    def add_columns(self, name: str, columns: Mapping[str, str]) -> None:
        """Refused: read-only."""
        self._refuse()

    def upsert(self, name: str, source: str, key: Sequence[str]) -> UpsertCount:
        """Refused: read-only."""
        self._refuse()

    def remap_stored(self, name: str, column: str, mapping: Mapping[str, str]) -> int:
        """Refused: read-only."""
        self._refuse()

    def delete_where(
        self, name: str, column: str, values: Sequence[str], *, clear: bool = False
    ) -> int:
        """Refused: read-only."""
        self._refuse()

    def log_import(self, entry: Mapping[str, object]) -> int:
        """Refused: read-only."""
        self._refuse()

    def close(self) -> None:
        """Nothing to release: the session lives as long as the process."""


def _schema_type(dtype: dt.DataType) -> str:
    """An Ibis type as the schema spells it (Parquet drops the words: string, int32...).

    Examples:
        >>> [_schema_type(t) for t in (dt.string, dt.int32, dt.Timestamp(scale=6), dt.float64)]
        ['VARCHAR', 'INTEGER', 'TIMESTAMP', 'DOUBLE']
    """
    if dtype.is_string():
        return "VARCHAR"
    if dtype.is_int32():
        return "INTEGER"
    if dtype.is_timestamp():
        return "TIMESTAMP"
    return DuckDBType.to_string(dtype)
