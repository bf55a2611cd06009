"""``generate_demo``: the whole synthetic organisation, written as import files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from impactlens.services.demo_data.catalogue import CARE, MASTERCLASS, PILOT, PROGRAMS
from impactlens.services.demo_data.costs import program_costs
from impactlens.services.demo_data.enrolment import (
    Enrolment,
    care_excellence,
    masterclass,
    packaging_pilot,
)
from impactlens.services.demo_data.kpis import complaints_panel, csat_panel, deals_panel
from impactlens.services.demo_data.learning import learning_records
from impactlens.services.demo_data.organisation import PEOPLE_COLUMNS, build_organisation
from impactlens.services.demo_data.plans import KpiFigures, render_plan
from impactlens.services.demo_data.timeline import weekly_periods
from impactlens.services.demo_data.truth import average_planted_effect, trained_starts

#: Import kinds in the order they are best imported (people first, so ids resolve).
KINDS = ("people", "participation", "activity", "assessments", "surveys", "kpis", "costs")

#: program -> (KPI id, unit, EUR per unit of improvement per unit per week, target offset)
_KPI: dict[str, tuple[str, str, float, float]] = {
    CARE: ("csat", "person", 20.0, 2.5),
    MASTERCLASS: ("deals_closed", "person", 400.0, 0.4),
    PILOT: ("complaints_per_100", "team", 600.0, -0.5),
}


@dataclass(frozen=True)
class DemoFiles:
    """What :func:`generate_demo` wrote.

    ``files`` maps each import kind to its files, in import order; ``plans`` are
    ``plans/<program>.yaml``; ``truth`` is ``truth.json``.
    """

    directory: Path
    files: dict[str, list[Path]]
    plans: list[Path]
    truth: Path

    def all_files(self) -> list[Path]:
        """Every written file: data in import order, then plans, then the truth."""
        return [p for kind in self.files.values() for p in kind] + [*self.plans, self.truth]


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def _baseline(rows: pd.DataFrame, program: str) -> float:
    """The KPI's mean over all units before the program's first start."""
    first = PROGRAMS[program].starts[0]
    return float(rows.loc[rows["period"] < first, "value"].mean())


def generate_demo(
    directory: Path, seed: int = 1, *, people: int = 5000, teams: int = 300
) -> DemoFiles:
    """Write a synthetic organisation with three programs and their planted true effects.

    Files: ``data/*.csv`` in the contract's import formats, ``plans/<program>.yaml``
    and ``truth.json`` (``{program: {kpi: effect}}`` in the estimand of
    ``analyze``'s ``effect``). The same seed always gives the same bytes.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     files = generate_demo(Path(tmp), people=300, teams=30)
        ...     sorted(json.loads(files.truth.read_text()))
        ['customer-care-excellence', 'packaging-pilot', 'presentation-masterclass']
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    org = build_organisation(streams[0], people, teams)
    periods = weekly_periods()
    agents = org.members("Customer Care").reset_index(drop=True)
    reps = org.members("Sales").reset_index(drop=True)
    field = org.teams[org.teams["department"] == "Field Ops"].reset_index(drop=True)
    drivers = org.members("Field Ops").groupby("team_id")["fte"].sum()
    drivers_fte = drivers.reindex(field["team_id"]).fillna(1.0).to_numpy()

    panels = {
        CARE: csat_panel(streams[1], agents, periods, teams),
        MASTERCLASS: deals_panel(streams[2], reps, periods, teams),
        PILOT: complaints_panel(streams[3], field, drivers_fte, periods),
    }
    enrolments: dict[str, Enrolment] = {
        CARE: care_excellence(streams[4], PROGRAMS[CARE], agents, panels[CARE]),
        MASTERCLASS: masterclass(streams[5], PROGRAMS[MASTERCLASS], reps, panels[MASTERCLASS]),
        PILOT: packaging_pilot(streams[6], PROGRAMS[PILOT], org.people, panels[PILOT]),
    }
    kpi_rows = {p: panels[p].frame(e.effect) for p, e in enrolments.items()}
    everyone = pd.concat([e.participation for e in enrolments.values()], ignore_index=True)
    records = learning_records(streams[7], everyone, org.people)

    truth: dict[str, dict[str, float]] = {}
    for program, enrolment in enrolments.items():
        kpi, unit, _, _ = _KPI[program]
        starts = trained_starts(enrolment.participation, org.people, unit=unit)
        truth[program] = {kpi: round(average_planted_effect(kpi_rows[program], starts), 4)}

    data_dir, plan_dir = directory / "data", directory / "plans"
    data_dir.mkdir(parents=True, exist_ok=True)
    plan_dir.mkdir(parents=True, exist_ok=True)
    people_frame = org.people[PEOPLE_COLUMNS].sort_values("person_id", kind="stable")
    written: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    written["people"].append(_write(people_frame, data_dir / "people.csv"))
    for program, enrolment in enrolments.items():
        rows = enrolment.participation.sort_values("person_id", kind="stable")
        written["participation"].append(_write(rows, data_dir / f"participation_{program}.csv"))
    written["activity"] += [
        _write(records.activity, data_dir / "activity.csv"),
        _write(records.activity_lms, data_dir / "activity_lms.csv"),
    ]
    written["assessments"].append(_write(records.assessments, data_dir / "assessments.csv"))
    written["surveys"].append(_write(records.surveys, data_dir / "surveys.csv"))
    plans: list[Path] = []
    for program, rows in kpi_rows.items():
        kpi, _, value_per_unit, offset = _KPI[program]
        # the planted truth stays out of the data
        public = rows.drop(columns="effect").sort_values(["unit_id", "period"], kind="stable")
        written["kpis"].append(_write(public, data_dir / f"kpis_{kpi}.csv"))
        baseline = round(_baseline(rows, program), 2)
        figures = KpiFigures(baseline, round(baseline + offset, 2), value_per_unit)
        plan = plan_dir / f"{program}.yaml"
        plan.write_text(render_plan(program, figures), encoding="utf-8")
        plans.append(plan)
    written["costs"].append(_write(program_costs(everyone, people), data_dir / "costs.csv"))

    truth_path = directory / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return DemoFiles(directory=directory, files=written, plans=plans, truth=truth_path)
