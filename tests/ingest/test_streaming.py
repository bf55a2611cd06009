"""A big activity file streams through DuckDB: memory stays far below the data's size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from import_activity import write_activity_csv
from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest.pipeline import import_files
from impactlens.store.duckdb import DuckDBStore

work, rows = Path(sys.argv[1]), int(sys.argv[2])
write_activity_csv(work / "activity.csv", rows)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with DuckDBStore(work / "impactlens.duckdb") as store:
    s = import_files(store, "activity", [work / "activity.csv"],
                     settings=WorkspaceSettings(), key=b"k")
    n = store.table("activity").count().to_pyarrow().as_py()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(s.rows, s.inserted, n, (after - before) // 1024)
"""


@pytest.mark.slow
def test_million_row_import_streams(tmp_path: Path) -> None:
    bench = Path(__file__).resolve().parents[2] / "bench"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), "1000000", str(bench)],
        capture_output=True,
        text=True,
        check=True,
    )
    last = out.stdout.strip().splitlines()[-1]
    rows, inserted, stored, growth_mb = (int(v) for v in last.split())
    assert rows == inserted == stored == 1_000_000
    assert growth_mb < 1200  # DuckDB's memory_limit is 1 GB; 5M rows must fit in ~2 GB
