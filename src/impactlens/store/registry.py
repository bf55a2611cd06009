"""Store engines by URL scheme: ``duckdb:///abs/path``, ``postgresql://user@host/db`` and
``spark:///abs/path/to/export`` (read-only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from impactlens.domain.errors import WorkspaceError
from impactlens.store.base import Store


def _open_duckdb(location: str, read_only: bool) -> Store:
    from impactlens.store.duckdb import DuckDBStore

    if not location.startswith("/"):
        raise WorkspaceError(
            f"store URL duckdb://{location} needs an absolute path: duckdb:///abs/path/impactlens.duckdb"
        )
    return DuckDBStore(Path(location), read_only=read_only)


def _open_postgres(url: str, read_only: bool) -> Store:
    try:
        from impactlens.store.postgres import PostgresStore
    except ImportError as exc:  # psycopg is a dependency; a broken install says so here
        raise WorkspaceError(
            f"the PostgreSQL engine needs psycopg ({exc}); install it with "
            "`pip install 'psycopg[binary]'`"
        ) from exc
    return PostgresStore(url, read_only=read_only)


def _open_spark(location: str, read_only: bool) -> Store:
    from impactlens.store.spark import SparkStore

    if not location.startswith("/"):
        raise WorkspaceError(
            f"store URL spark://{location} needs an absolute path to an export: "
            "spark:///abs/path/to/export (write one with `impactlens store export --out DIR`)"
        )
    return SparkStore(location)


ENGINES: dict[str, Callable[[str, bool], Store]] = {"duckdb": _open_duckdb, "spark": _open_spark}
# PostgreSQL takes the whole URL (user, password, host, port, database, options)
URL_ENGINES: dict[str, Callable[[str, bool], Store]] = {
    "postgresql": _open_postgres,
    "postgres": _open_postgres,
}


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Open the store a URL names.

    Examples:
        >>> try:
        ...     open_store("mysql://me@db/il")
        ... except WorkspaceError as exc:
        ...     print(str(exc)[:43])
        the store engine 'mysql' is not available
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise WorkspaceError(
            f"not a store URL: {url!r}; expected e.g. duckdb:///abs/path/impactlens.duckdb"
        )
    if scheme.lower() in URL_ENGINES:
        return URL_ENGINES[scheme.lower()](url, read_only)
    opener = ENGINES.get(scheme.lower())
    if opener is None:
        raise WorkspaceError(
            f"the store engine {scheme!r} is not available yet (store URL {url}); "
            "use duckdb:///abs/path/impactlens.duckdb or postgresql://user@host/db"
        )
    return opener(rest, read_only)
