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


# commits 25 transactions of 1 MB (more log than DuckDB's default 16 MB threshold), then
# dies without closing the store
CRASHER = """
import os, sys
from pathlib import Path
from impactlens.store.duckdb import DuckDBStore
store = DuckDBStore(Path(sys.argv[1]))
for i in range(25):
    with store.transaction():
        store._con.execute(
            "INSERT INTO costs (program, item, amount) "
            "SELECT 'sx', md5(random()::VARCHAR) || repeat('x', 100000), range FROM range(10)"
        )
os._exit(0)
"""


def test_small_commits_wait_in_the_log_and_survive_a_crash(tmp_path: Path) -> None:
    """Small transactions do not each trigger a checkpoint (which recompresses the table's
    last row group), and what they committed is in the synced log when the process dies."""
    path = tmp_path / "s.duckdb"
    subprocess.run([sys.executable, "-c", CRASHER, str(path)], check=True)
    log = path.with_name("s.duckdb.wal")
    assert log.stat().st_size > 25 * 10 * 100_000  # no checkpoint emptied it at 16 MB
    with DuckDBStore(path) as store:  # the next open replays it
        rows = store._con.execute("SELECT count(*), sum(amount) FROM costs").fetchone()
        assert rows == (250, 25 * 45)
    assert not log.exists() or log.stat().st_size < 1_000_000  # checkpointed on close


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
