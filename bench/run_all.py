"""Run every benchmark with the command docs/performance.md records, one after another.

Each benchmark prints its own figures and baseline ratio; this runner prints a header
before each, the load average, and a one-line summary at the end (a failed benchmark
does not stop the others, and makes the exit status 1). The whole run takes about an
hour on a quiet 2-core machine; `--only NAME[,NAME]` runs a subset.

Run: .venv/bin/python bench/run_all.py [--only analysis,web]   (or `make bench`)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

# name -> the command (relative to the repository root) docs/performance.md gives
BENCHMARKS: dict[str, list[str]] = {
    "analysis": [PY, "bench/analysis_scale.py"],
    "scale": [PY, "bench/scale.py"],
    "synthetic": [PY, "bench/synthetic_scale.py"],
    "pilot": [PY, "bench/pilot_design.py"],
    "import": [PY, "bench/import_activity.py"],
    "xapi-import": [PY, "bench/import_xapi.py", "--statements", "1000000"],
    "xapi-import-floor": [PY, "bench/import_xapi_floor.py", "--statements", "1000000"],
    "lrs-query": [PY, "bench/lrs_query.py", "--statements", "1000000", "--requests", "100"],
    "lrs-post": [PY, "bench/lrs_post.py", "--stages"],
    "lrs-store": [PY, "bench/lrs_store.py"],
    "duckdb-checkpoints": [PY, "bench/duckdb_checkpoints.py"],
    "lrs-checks": [PY, "bench/lrs_checks.py"],
    "web": [PY, "bench/web_http.py", "--scale", "--people", "100000", "--requests", "50"],
    "demo-study": [PY, "bench/demo_coverage.py", "--seeds", "1-20", "--jobs", "2"],
    "validation": [PY, "-m", "bench.validation", "--reps", "400", "--jobs", "2"],
}


def main() -> int:
    """Run the chosen benchmarks; return 1 when any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {list(BENCHMARKS)}")
    outcome: list[tuple[str, int, float]] = []
    for name in names:
        cmd = BENCHMARKS[name]
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\n=== {name}: {' '.join(cmd[1:])} (load average {load})", flush=True)
        started = time.perf_counter()
        code = subprocess.run(cmd, cwd=HERE.parent, check=False).returncode
        outcome.append((name, code, time.perf_counter() - started))
    print("\n=== summary")
    for name, code, seconds in outcome:
        print(f"{name:<12} {'ok' if code == 0 else f'FAILED ({code})':<12} {seconds:8.0f} s")
    return int(any(code for _, code, _ in outcome))


if __name__ == "__main__":
    sys.exit(main())
