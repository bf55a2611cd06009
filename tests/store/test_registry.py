from __future__ import annotations

from pathlib import Path

import pytest

from impactlens.domain.errors import WorkspaceError
from impactlens.store import open_store


def test_duckdb_url_opens_the_embedded_store(tmp_path: Path) -> None:
    with open_store(f"duckdb:///{tmp_path}/impactlens.duckdb") as store:
        assert store.engine == "duckdb"
    assert (tmp_path / "impactlens.duckdb").exists()


@pytest.mark.parametrize("url", ["mysql://me@db/il", "oracle://db"])
def test_other_engines_are_not_available_yet(url: str) -> None:
    scheme = url.split(":")[0]
    with pytest.raises(WorkspaceError) as caught:
        open_store(url)
    assert str(caught.value) == (
        f"the store engine {scheme!r} is not available yet (store URL {url}); "
        "use duckdb:///abs/path/impactlens.duckdb or postgresql://user@host/db"
    )


def test_an_unreachable_postgresql_server_is_one_line() -> None:
    url = "postgresql://me:secret@127.0.0.1:1/il"  # nothing listens on port 1
    with pytest.raises(WorkspaceError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith("cannot open the store postgresql://me:***@127.0.0.1:1/il: ")
    assert "secret" not in message and "\n" not in message


def test_not_a_url() -> None:
    with pytest.raises(WorkspaceError, match=r"not a store URL: 'impactlens\.duckdb'"):
        open_store("impactlens.duckdb")


def test_a_spark_url_needs_an_absolute_export_folder(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"spark://cluster needs an absolute path"):
        open_store("spark://cluster")
    with pytest.raises(WorkspaceError, match=r"is not an ImpactLens export \(no _impactlens"):
        open_store(f"spark://{tmp_path}")
