"""Store engines by URL scheme: ``duckdb:///abs/path`` today, more behind the same seam."""

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


ENGINES: dict[str, Callable[[str, bool], Store]] = {"duckdb": _open_duckdb}


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Open the store a URL names.

    Examples:
        >>> try:
        ...     open_store("postgresql://me@db/il")
        ... except WorkspaceError as exc:
        ...     print(str(exc)[:48])
        the store engine 'postgresql' is not available y
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise WorkspaceError(
            f"not a store URL: {url!r}; expected e.g. duckdb:///abs/path/impactlens.duckdb"
        )
    opener = ENGINES.get(scheme.lower())
    if opener is None:
        raise WorkspaceError(
            f"the store engine {scheme!r} is not available yet (store URL {url}); "
            "use duckdb:///abs/path/impactlens.duckdb"
        )
    return opener(rest, read_only)
