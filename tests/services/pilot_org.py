"""A small organisation for pilot tests: 60 teams of 8, a team KPI with known variance.

Team j's weekly KPI is level_j + noise: level ~ N(5, 0.8), weekly noise N(0, 0.6), so
the between-team SD of a 12-week mean is about sqrt(0.8^2 + 0.6^2 / 12) and the
earlier half explains most of the later half. ``post_kpis`` adds ``effect`` to the
treatment teams from the pilot's start (the planted truth).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEAMS, SIZE = 60, 8
HISTORY = pd.date_range("2025-10-05", periods=12, freq="W-SUN")
POST = pd.date_range("2026-01-11", periods=12, freq="W-SUN")
START, END = "2026-01-05", "2026-03-29"
REGIONS = ("North", "South", "East", "West")
# The contract's keys of `impactlens pilot design --json` (the dashboard's twin has them too)
DESIGN_KEYS = frozenset(
    {"kpi", "unit", "teams", "team_size", "share", "icc", "r2", "sd", "alpha", "power", "mde",
     "mde_relative", "needed_for_target"}
)  # fmt: skip

PLAN = """\
program: tidy-pilot
title: Tidy packing pilot
kpis:
  - id: errors_per_100
    direction: decrease
    unit: team
    baseline: 5.0
    target: {target}
    primary: true
comparison:
  method: randomised
pilot:
  hypothesis: The tidy-packing routine cuts packing errors per 100 parcels by 0.4
  unit: team
  share: 0.5
  start: {start}
  end: {end}
  looks: {looks}
  decision:
    scale_if: ci_excludes_zero and effect_beyond_target
    stop_if: ci_excludes_target or harmful
"""


def plan_text(target: float = 4.6, looks: int = 1, end: str = END) -> str:
    """The pilot's plan (target and looks adjustable, to plant deviations)."""
    return PLAN.format(target=target, start=START, end=end, looks=looks)


def build(root: Path, seed: int = 11) -> tuple[Path, np.ndarray]:
    """Write people.csv and kpis_history.csv under ``root``; return the people file and levels."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    ids = [f"E{i:04d}" for i in range(TEAMS * SIZE)]
    team = np.repeat([f"T{j:02d}" for j in range(TEAMS)], SIZE)
    region = np.repeat([REGIONS[j % 4] for j in range(TEAMS)], SIZE)
    pd.DataFrame({"person_id": ids, "team_id": team, "location": region}).to_csv(
        root / "people.csv", index=False
    )
    levels = rng.normal(5.0, 0.8, TEAMS)
    _kpis(rng, levels, HISTORY, np.zeros(TEAMS)).to_csv(root / "kpis_history.csv", index=False)
    return root / "people.csv", levels


def _kpis(
    rng: np.random.Generator, levels: np.ndarray, periods: pd.DatetimeIndex, shift: np.ndarray
) -> pd.DataFrame:
    rows = [
        {
            "kpi": "errors_per_100",
            "unit_id": f"T{j:02d}",
            "period": p.date().isoformat(),
            "value": round(float(levels[j] + shift[j] + rng.normal(0, 0.6)), 4),
        }
        for j in range(TEAMS)
        for p in periods
    ]
    return pd.DataFrame(rows)


def post_kpis(root: Path, levels: np.ndarray, arms: dict[str, str], effect: float) -> Path:
    """KPI rows of the pilot's weeks: treatment teams shifted by ``effect``."""
    rng = np.random.default_rng(99)
    shift = np.array(
        [effect if arms.get(f"T{j:02d}") == "treatment" else 0.0 for j in range(TEAMS)]
    )
    path = root / "kpis_post.csv"
    _kpis(rng, levels, POST, shift).to_csv(path, index=False)
    return path


def run(root: Path, effect: float) -> dict[str, Any]:
    """The whole flow: design, assign, register, import, analyse (the e2e fixture's body)."""
    from impactlens.services.importing import import_data
    from impactlens.services.pilot_assignment import assign_pilot, write_assignment
    from impactlens.services.pilot_design import design_pilot
    from impactlens.services.pilots import register_pilot
    from impactlens.services.workspace import Workspace

    people, levels = build(root / "data")
    ws = Workspace.create(root / "ws")
    (ws.path / "plans" / "tidy-pilot.yaml").write_text(plan_text(), encoding="utf-8")
    import_data(ws, "people", [people])
    import_data(ws, "kpis", [root / "data" / "kpis_history.csv"])
    design = design_pilot(ws, "tidy-pilot")
    assignment = assign_pilot(ws, "tidy-pilot", strata=["location"])
    csv = write_assignment(assignment, root / "assign.csv", ws, people)
    registration = register_pilot(ws, "tidy-pilot", by="ann")
    import_data(ws, "participation", [csv])
    import_data(ws, "kpis", [post_kpis(root / "data", levels, assignment.units, effect)])
    return {
        "ws": ws,
        "root": root,
        "design": design,
        "assignment": assignment,
        "registration": registration,
        "csv": csv,
    }
