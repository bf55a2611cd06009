"""Benchmark: analyse one program over 100,000 people with 52 weekly KPI periods.

Goal (issue 2): under 10 s and under 2 GiB peak memory on a 2-core machine. The
baseline, run in the same process on the same store, is one DuckDB pass computing
the per-group, per-period KPI means that the analysis also needs; the ratio says how
much the whole analysis (roster, panel, estimator, diagnostics, metrics, ROI) costs
beyond that single scan.

Run: .venv/bin/python bench/analysis_scale.py [--people 100000] [--periods 52]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

PLAN = """\
program: scale-test
title: Scale test
objective: {outcome: Raise CSAT, behaviours: [Use the checklist]}
sponsor: Head of Care
kpis:
  - {id: csat, direction: increase, unit: person, baseline: 75, target: 78,
     value_per_unit: 10, primary: true}
comparison: {method: auto, covariates: [tenure_years, location]}
"""


def build(ws: Path, people: int, periods: int, seed: int = 7) -> None:
    """Write and import a synthetic workspace: 20% trained, selection on level."""
    from impactlens.services.importing import import_data
    from impactlens.services.workspace import Workspace

    rng = np.random.default_rng(seed)
    w = Workspace.create(ws)
    (ws / "plans" / "scale-test.yaml").write_text(PLAN)
    ids = np.array([f"E{i:06d}" for i in range(people)])
    level = rng.normal(75, 6, people)
    tenure = rng.gamma(2, 2, people)
    loc = rng.choice(["north", "south", "east", "west"], people)
    data = ws / "data"
    data.mkdir()
    pd.DataFrame(
        {
            "person_id": ids,
            "team_id": [f"T{i // 15:05d}" for i in range(people)],
            "location": loc,
            "tenure_years": tenure.round(2),
            "persona": rng.choice(["new agent", "senior agent"], people),
        }
    ).to_csv(data / "people.csv", index=False)
    p_train = 1 / (1 + np.exp(-(-1.6 + 0.08 * (level - 75) + 0.05 * tenure)))
    trained = rng.random(people) < p_train
    weeks = pd.date_range("2025-01-05", periods=periods, freq="W-SUN")
    start = weeks[periods // 2] - pd.Timedelta(days=3)
    pd.DataFrame(
        {
            "person_id": ids[trained],
            "program": "scale-test",
            "start_date": start.date().isoformat(),
            "status": "completed",
        }
    ).to_csv(data / "participation.csv", index=False)
    post = np.arange(periods) >= periods // 2
    values = (
        level[:, None]
        + 2 * np.sin(np.arange(periods) / 8)[None, :]
        + 2.0 * (trained[:, None] & post[None, :])
        + rng.normal(0, 5, (people, periods))
    )
    kpis = pd.DataFrame(
        {
            "kpi": "csat",
            "unit_id": np.repeat(ids, periods),
            "period": np.tile(weeks.strftime("%Y-%m-%d"), people),
            "value": values.ravel().round(3),
        }
    )
    kpis.to_csv(data / "kpis.csv", index=False)
    pd.DataFrame({"program": ["scale-test"], "item": ["delivery"], "amount": [250000.0]}).to_csv(
        data / "costs.csv", index=False
    )
    for kind in ("people", "participation", "kpis", "costs"):
        import_data(w, kind, [data / f"{kind}.csv"])


CHILD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import impactlens
    ws = impactlens.open(sys.argv[1])
    r = ws.analyze("scale-test")
    t = time.perf_counter() - t0
    k = r.kpis[0]
    print(json.dumps({"seconds": t, "effect": k.effect, "ci": [k.ci_low, k.ci_high],
                      "n_treated": k.n_treated, "n_comparison": k.n_comparison,
                      "evidence": k.evidence}))
""")


def main() -> None:
    """Build the workspace, time the baseline scan and the analysis (in a child process)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--periods", type=int, default=52)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        t0 = time.perf_counter()
        build(ws, args.people, args.periods)
        print(
            f"built and imported {args.people:,} people x {args.periods} periods "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        import ibis

        con = ibis.duckdb.connect(str(ws / "impactlens.duckdb"), read_only=True)
        kpis = con.table("kpis")
        t0 = time.perf_counter()
        kpis.group_by("period").aggregate(m=kpis.value.mean(), n=kpis.count()).to_pandas()
        baseline = time.perf_counter() - t0
        con.disconnect()
        t0 = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-c", CHILD, str(ws)], capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - t0
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        doc = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"baseline DuckDB scan (per-period means): {baseline:.3f} s")
        print(
            f"analyze (in-process time, incl. imports): {doc['seconds']:.2f} s; "
            f"child wall {wall:.2f} s; ratio to baseline {doc['seconds'] / baseline:.0f}x"
        )
        print(f"peak RSS of the analysing process: {peak_mib:,.0f} MiB (goal < 2048)")
        print(
            f"estimate: {doc['effect']:.3f} (CI {doc['ci'][0]:.3f} to {doc['ci'][1]:.3f}), "
            f"planted 2.0; {doc['n_treated']:,} trained vs {doc['n_comparison']:,}; "
            f"evidence {doc['evidence']}"
        )


if __name__ == "__main__":
    main()
