"""Benchmark: the same analysis on DuckDB and on local Spark, at 10,000,000 activity rows.

Builds bench/scale.py's workspace for one size (``rows / 100`` people, a monthly KPI,
planted effect +2.0), exports it (``impactlens store export``), then analyses the program
on the DuckDB store and on a local Spark session over the export, each in a child process
(time and peak RSS of that process; Spark's JVM is a child of it, so its memory is not in
the figure: the JVM heap is capped by the driver memory). The baseline is the DuckDB run;
the check is parity: every figure of the two result documents equal to float tolerance.

Run: .venv/bin/python bench/spark_scale.py [--rows 10000000] [--driver-memory 6g]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

CHILD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import impactlens
    doc = impactlens.open(sys.argv[1]).analyze("scale-test").to_dict()
    doc["seconds"] = time.perf_counter() - t0
    print(json.dumps(doc, default=str))
""")


def _scale() -> Any:
    """bench/scale.py (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("scale", Path(__file__).with_name("scale.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def _analyze(ws: Path, store: str | None) -> tuple[dict[str, Any], float, float]:
    env = {**os.environ}
    if store:
        env["IMPACTLENS_STORE"] = store
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ws)], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"analyze failed ({store or 'duckdb'}):\n{done.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(done.stdout.strip().splitlines()[-1]), wall, (max(peak, before)) / 1024


def _mismatches(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            m
            for k in sorted(set(a) | set(b))
            for m in _mismatches(a.get(k), b.get(k), f"{path}/{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            m
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for m in _mismatches(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 2e-6 else [path]
    return [] if a == b else [path]


def main() -> None:
    """Build, export, analyse on both engines, print times and the parity check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--driver-memory", default="6g")
    args = parser.parse_args()
    from impactlens.services.store_export import export_store
    from impactlens.services.workspace import Workspace

    root = Path(tempfile.mkdtemp(prefix="impactlens-spark-"))
    ws = root / "ws"
    started = time.perf_counter()
    _scale().build(ws, args.rows)
    print(f"built {args.rows:,} activity rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    export = export_store(Workspace(ws), root / "export")
    print(f"exported {sum(export.rows.values()):,} rows in {time.perf_counter() - started:.1f} s")
    duck, duck_wall, duck_peak = _analyze(ws, None)
    url = f"spark://{export.path}?driver_memory={args.driver_memory}"
    spark, spark_wall, _ = _analyze(ws, url)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"DuckDB: analyze {duck['seconds']:.1f} s "
        f"(wall {duck_wall:.1f} s, peak {duck_peak:.0f} MiB)"
    )
    print(
        f"Spark local[2], driver {args.driver_memory}: analyze {spark['seconds']:.1f} s "
        f"(wall {spark_wall:.1f} s); ratio to DuckDB {spark['seconds'] / duck['seconds']:.1f}x"
    )
    for doc in (duck, spark):
        for key in ("provenance", "seconds"):
            doc.pop(key)
    wrong = _mismatches(duck, spark)
    effect = duck["kpis"][0]["effect"]
    print(f"effect {effect} on both; figures that differ: {len(wrong)} {wrong[:5]}; load {load}")


if __name__ == "__main__":
    main()
