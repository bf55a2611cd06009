"""Benchmark: analyse one program as the data grows 10x, up to 1M people and 100M activity rows.

Goal (issue 7): on this 2-core machine with DuckDB, the 1,000,000-person,
100,000,000-activity-row analysis in under 2 minutes and 8 GiB, and a cost that grows no
worse than linearly as the data grows in 10x steps.

Each step is a workspace whose store is filled directly with DuckDB SQL (an import of
100M rows would measure the importer, which has its own benchmark): ``rows / 100``
people in teams of 15, 20% of them trained (selection on their KPI level), ``rows``
activity records of the trained people, and a monthly KPI for every person over 12
months, with a planted effect of +2.0. ``analyze`` then runs in a child process, so its
time and peak memory are its own. The baseline, in this process on the same store, is
one DuckDB pass over the activity table (rows, people, hours per verb): the ratio says
what the whole analysis costs beyond reading the data once.

Run: .venv/bin/python bench/scale.py [--rows 1000000,10000000,100000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from analysis_scale import PLAN  # the same program and KPI, at 100M rows

PERIODS = 12
EFFECT = 2.0

# One person per row of range(n): a stable level, tenure, location, persona; trained with
# a probability rising with the level (self-selection), starting mid-year.
PEOPLE_SQL = """
CREATE TEMP TABLE roster AS
SELECT i,
       'p_' || substr(md5(i::VARCHAR), 1, 24) AS person_id,
       75 + 6 * sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS level,
       round(-2 * ln(random() * random()), 2) AS tenure_years,
       ['north', 'south', 'east', 'west'][1 + (i % 4)] AS location,
       CASE WHEN i % 3 = 0 THEN 'new agent' ELSE 'senior agent' END AS persona
FROM range({people}) t(i);
ALTER TABLE roster ADD COLUMN trained BOOLEAN;
UPDATE roster SET trained = random() < 1 / (1 + exp(-(-1.6 + 0.08 * (level - 75))));
INSERT INTO people (person_id, team_id, location, persona, tenure_years)
SELECT person_id, 'T' || lpad((i // 15)::VARCHAR, 6, '0'), location, persona, tenure_years
FROM roster;
INSERT INTO participation (person_id, program, start_date, status)
SELECT person_id, 'scale-test', DATE '2025-07-01', 'completed' FROM roster WHERE trained;
"""

# Monthly KPI per person: level + a shared seasonal shape + the effect after the start + noise.
KPI_SQL = """
INSERT INTO kpis (kpi, unit_id, period, value)
SELECT 'csat', person_id, (DATE '2025-01-31' + INTERVAL (m) MONTH)::DATE,
       round(level + 2 * sin(m / 2.0)
             + CASE WHEN trained AND m >= 6 THEN {effect} ELSE 0 END
             + 5 * sqrt(-2 * ln(random())) * cos(2 * pi() * random()), 3)
FROM roster, range({periods}) p(m);
"""

# Activity of the trained: `rows` records spread over them, four verbs, a year of timestamps.
LEARNERS_SQL = """
CREATE TEMP TABLE learners AS
SELECT row_number() OVER () - 1 AS k, person_id FROM roster WHERE trained;
"""
ACTIVITY_SQL = """
INSERT INTO activity (person_id, asset_id, verb, timestamp, program, duration_minutes, score,
                      max_score, success, source)
SELECT l.person_id, 'asset-' || (r % 40),
       ['enrolled', 'started', 'completed', 'experienced'][1 + (r % 4)],
       TIMESTAMP '2025-06-01' + INTERVAL (r % 31536000) SECOND, 'scale-test',
       round(5 + 40 * random(), 1), CASE WHEN r % 4 = 2 THEN round(100 * random()) END,
       CASE WHEN r % 4 = 2 THEN 100 END, CASE WHEN r % 4 = 2 THEN random() < 0.8 END, 'import'
FROM range({rows}) a(r)
JOIN learners l ON l.k = r % {learners};
"""

BASELINE_SQL = """
SELECT verb, count(*), count(DISTINCT person_id), sum(duration_minutes) / 60
FROM activity WHERE program = 'scale-test' GROUP BY verb
"""

CHILD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import impactlens
    ws = impactlens.open(sys.argv[1])
    r = ws.analyze("scale-test")
    t = time.perf_counter() - t0
    k = r.kpis[0]
    op = r.metrics.get("operational", {})
    print(json.dumps({"seconds": t, "effect": k.effect, "ci": [k.ci_low, k.ci_high],
                      "method": k.method, "n_treated": k.n_treated,
                      "n_comparison": k.n_comparison, "evidence": k.evidence,
                      "hours": op.get("learning_hours")}))
""")


def build(ws: Path, rows: int) -> dict[str, float]:
    """Create a workspace and fill its store for ``rows`` activity rows; return timings."""
    from impactlens.services.workspace import Workspace

    Workspace.create(ws)
    (ws / "plans" / "scale-test.yaml").write_text(PLAN)
    with Workspace(ws).store():  # create and migrate the store, then release it
        pass
    people = max(rows // 100, 1000)
    con = duckdb.connect(str(ws / "impactlens.duckdb"))
    con.execute("SET memory_limit = '8GB'")
    con.execute("SELECT setseed(0.7)")
    con.execute("ALTER TABLE people ADD COLUMN IF NOT EXISTS tenure_years DOUBLE")
    seconds: dict[str, float] = {}
    for name, sql in (
        ("people", PEOPLE_SQL.format(people=people)),
        ("kpis", KPI_SQL.format(periods=PERIODS, effect=EFFECT)),
        ("activity", None),
    ):
        t0 = time.perf_counter()
        if sql is None:
            con.execute(LEARNERS_SQL)
            learners = con.execute("SELECT count(*) FROM learners").fetchone()
            assert learners is not None
            sql = ACTIVITY_SQL.format(rows=rows, learners=learners[0])
        con.execute(sql)
        seconds[name] = round(time.perf_counter() - t0, 2)
    con.execute(
        "INSERT INTO costs (program, item, amount) VALUES ('scale-test', 'delivery', 250000)"
    )
    con.execute("CHECKPOINT")
    con.close()
    return seconds


@dataclass
class Step:
    """One size: what was built and how long the baseline and the analysis took."""

    rows: int
    people: int
    build_s: dict[str, float]
    baseline_s: float
    analyze_s: float
    wall_s: float
    peak_mib: float | None
    store_mib: float
    result: dict[str, Any]


def step(root: Path, rows: int) -> Step:
    """Build one workspace, time the baseline pass and the analysis."""
    ws = root / f"rows-{rows}"
    built = build(ws, rows)
    con = duckdb.connect(str(ws / "impactlens.duckdb"), read_only=True)
    t0 = time.perf_counter()
    con.execute(BASELINE_SQL).fetchall()
    baseline = time.perf_counter() - t0
    con.close()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(ws)], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    if res.returncode:
        raise SystemExit(f"analyze failed at {rows:,} rows:\n{res.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    return Step(
        rows=rows,
        people=max(rows // 100, 1000),
        build_s=built,
        baseline_s=baseline,
        analyze_s=doc["seconds"],
        wall_s=wall,
        # ru_maxrss of children is the largest child so far: only a new maximum is this one's
        peak_mib=peak / 1024 if peak > before else None,
        store_mib=(ws / "impactlens.duckdb").stat().st_size / 2**20,
        result=doc,
    )


def main() -> None:
    """Run the steps, print one line per step and the growth between steps."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1000000,10000000,100000000")
    ap.add_argument("--keep", type=Path, help="build the workspaces here and keep them")
    args = ap.parse_args()
    steps = [int(r) for r in args.rows.split(",")]
    root = args.keep or Path(tempfile.mkdtemp(prefix="impactlens-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    results: list[Step] = []
    try:
        for rows in steps:
            r = step(root, rows)
            results.append(r)
            doc = r.result
            peak = f"{r.peak_mib:.0f} MiB" if r.peak_mib else "n/a"
            print(
                f"{rows:>11,} activity rows, {r.people:>9,} people, {r.people * PERIODS:>10,} "
                f"KPI rows: analyze {r.analyze_s:6.1f} s (child wall {r.wall_s:.1f} s), "
                f"peak RSS {peak}, baseline scan {r.baseline_s:.2f} s, store "
                f"{r.store_mib:,.0f} MiB; load {os.getloadavg()[0]:.1f}"
            )
            print(
                f"    effect {doc['effect']:.3f} ({doc['ci'][0]:.3f} to {doc['ci'][1]:.3f}), "
                f"planted {EFFECT}; {doc['method']}; {doc['n_treated']:,} trained vs "
                f"{doc['n_comparison']:,}; build {json.dumps(r.build_s)}"
            )
        for a, b in itertools.pairwise(results):
            print(
                f"{a.rows:,} -> {b.rows:,} rows (x{b.rows / a.rows:.0f}): "
                f"time x{b.analyze_s / a.analyze_s:.1f}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
