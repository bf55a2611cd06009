"""The embedded store: one writer (a clear lock message), fingerprint, import log."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from impactlens.domain.errors import StoreLockedError, WorkspaceError
from impactlens.store.duckdb import DuckDBStore

HOLDER = """
import sys, time
from pathlib import Path
from impactlens.store.duckdb import DuckDBStore
store = DuckDBStore(Path(sys.argv[1]))
print("ready", flush=True)
time.sleep(60)
"""


def test_second_writer_gets_the_holders_pid_and_command(tmp_path: Path) -> None:
    path = tmp_path / "impactlens.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as caught:
            DuckDBStore(path)
        message = str(caught.value)
        assert message.startswith(f"the store {path} is locked by PID {holder.pid} (")
        assert sys.executable.split("/")[-1] in message and "-c" in message
        assert message.endswith("; let it finish or stop it, then retry")
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    time.sleep(0.1)
    DuckDBStore(path).close()  # free again once the holder is gone


def test_fingerprint_is_stable_and_tracks_data(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with DuckDBStore(path) as store:
        empty = store.fingerprint()
        assert empty == store.fingerprint() and len(empty) == 64
        store._con.execute("INSERT INTO costs (program, item, amount) VALUES ('sx', 'a', 1)")
        one = store.fingerprint()
        assert one != empty
    with DuckDBStore(path) as store:
        assert store.fingerprint() == one


def test_tables_and_log(tmp_path: Path) -> None:
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        assert store.engine == "duckdb"
        assert store.table("activity").schema()["timestamp"].is_timestamp()
        assert list(store.imports().columns)[:10] == [
            "import_id", "kind", "files", "rows", "inserted", "replaced", "warnings",
            "started_at", "finished_at", "user",
        ]  # fmt: skip
        with pytest.raises(WorkspaceError, match="no table 'nope' in the store"):
            store.table("nope")


def test_read_only_reads_and_spill_folder(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with DuckDBStore(path, read_only=True) as store:
        assert store.table("people").count().to_pyarrow().as_py() == 0
    assert (tmp_path / ".impactlens" / "tmp").is_dir()
