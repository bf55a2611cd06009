"""`impactlens pilot design` on an organisation of 1,000 teams (10,000 people), simulation included.

Run: ``.venv/bin/python bench/pilot_design.py [--teams 1000] [--size 10] [--weeks 26]``.
Builds a workspace with a person-level KPI (weekly, ``weeks`` weeks of history: a team
effect, a person effect and noise), imports it, then times ``design_pilot`` for a team
design and a people design (history read, sd/icc/r2, closed form, 300 simulated
ANCOVA draws). Prints the seconds beside the load average: figures taken while other
jobs run are pessimistic. The goal (issue 6): under 10 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from impactlens.services.importing import import_data
from impactlens.services.pilot_design import design_pilot
from impactlens.services.workspace import Workspace

PLAN = """\
program: big-pilot
kpis:
  - {id: first_time_fix, direction: increase, unit: person, baseline: 70, target: 72, primary: true}
comparison: {method: randomised}
"""


def build(root: Path, teams: int, size: int, weeks: int, seed: int = 0) -> Workspace:
    """A workspace of ``teams`` x ``size`` people with ``weeks`` of KPI history."""
    rng = np.random.default_rng(seed)
    n = teams * size
    ids = np.array([f"E{i:06d}" for i in range(n)])
    team = np.repeat(np.arange(teams), size)
    pd.DataFrame({"person_id": ids, "team_id": [f"T{t:04d}" for t in team]}).to_csv(
        root / "people.csv", index=False
    )
    level = 70 + rng.normal(0, 3, teams)[team] + rng.normal(0, 6, n)
    periods = pd.date_range("2025-01-05", periods=weeks, freq="W-SUN").date.astype(str)
    values = level[:, None] + rng.normal(0, 8, (n, weeks))
    pd.DataFrame(
        {
            "kpi": "first_time_fix",
            "unit_id": np.repeat(ids, weeks),
            "period": np.tile(periods, n),
            "value": values.ravel().round(3),
        }
    ).to_csv(root / "kpis.csv", index=False)
    ws = Workspace.create(root / "ws")
    (ws.path / "plans" / "big-pilot.yaml").write_text(PLAN, encoding="utf-8")
    import_data(ws, "people", [root / "people.csv"])
    import_data(ws, "kpis", [root / "kpis.csv"])
    return ws


def main() -> None:
    """Build, then time one team design and one people design."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=26)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ws = build(Path(tmp), args.teams, args.size, args.weeks)
        built = time.perf_counter() - t0
        print(f"built and imported {args.teams * args.size:,} people in {built:.1f} s")
        for unit in ("team", "people"):
            start = time.perf_counter()
            d = design_pilot(ws, "big-pilot", unit=unit)
            seconds = time.perf_counter() - start
            print(
                f"pilot design ({unit}): {seconds:.2f} s  mde {d.mde:.3f} icc {d.icc:.3f} "
                f"r2 {d.r2:.3f} simulated power {d.simulation['power_at_mde']:.3f}  "
                f"load average {os.getloadavg()[0]:.2f}"
            )


if __name__ == "__main__":
    main()
