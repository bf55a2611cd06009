"""``impactlens demo``: build the synthetic organisation, analyse it, write its reports."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from impactlens.domain.errors import WorkspaceError
from impactlens.domain.result import AnalysisResult
from impactlens.domain.settings import DEFAULT_DB_FILE, SETTINGS_FILE, WorkspaceSettings
from impactlens.services.analysis import analyze_program
from impactlens.services.demo_data import generate_demo
from impactlens.services.importing import import_data
from impactlens.services.reporting import write_program_report
from impactlens.services.workspace import Workspace

# people first, so that identity columns resolve the rest
IMPORT_ORDER = ("people", "participation", "activity", "assessments", "surveys", "kpis", "costs")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoRow:
    """One (program, KPI): the planted truth beside the estimate."""

    program: str
    kpi: str
    truth: float
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    evidence: str
    method: str
    naive_effect: float | None

    @property
    def covered(self) -> bool | None:
        """Whether the 95% interval contains the true effect."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low <= self.truth <= self.ci_high


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo built."""

    workspace: Path
    rows: list[DemoRow]
    reports: list[Path]
    results: dict[str, AnalysisResult]


def _prepare(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / "truth.json").exists():
            raise WorkspaceError(
                f"{directory} exists and is not an ImpactLens demo; choose an empty or new folder"
            )
        for name in ("data", "plans", "reports", "results", ".impactlens"):
            shutil.rmtree(directory / name, ignore_errors=True)
        for name in (DEFAULT_DB_FILE, DEFAULT_DB_FILE + ".wal", SETTINGS_FILE, "truth.json"):
            (directory / name).unlink(missing_ok=True)


def run_demo(
    directory: Path, seed: int = 1, *, progress: Progress | None = None, **sizes: int
) -> DemoOutcome:
    """Generate, import, analyse and report the demo organisation in ``directory``."""

    def step(label: str, done: int, total: int) -> None:
        if progress:
            progress(label, done, total)

    directory = Path(directory)
    _prepare(directory)
    directory.mkdir(parents=True, exist_ok=True)
    step("generating the organisation", 0, 1)
    files = generate_demo(directory, seed=seed, **sizes)
    ws = Workspace.create(directory, WorkspaceSettings())
    kinds = [k for k in IMPORT_ORDER if files.files.get(k)]
    for i, kind in enumerate(kinds):
        step(f"importing {kind}", i, len(kinds))
        import_data(ws, kind, files.files[kind])
    truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    rows: list[DemoRow] = []
    reports: list[Path] = []
    results: dict[str, AnalysisResult] = {}
    programs = ws.programs()
    for i, program in enumerate(programs):
        step(f"analysing {program}", i, len(programs))
        result = analyze_program(ws, program)
        results[program] = result
        out = directory / "results" / f"{program}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        reports.append(write_program_report(result, directory / "reports" / f"{program}.html"))
        for k in result.kpis:
            if k.kpi not in truth.get(program, {}):
                continue
            rows.append(
                DemoRow(
                    program=program,
                    kpi=k.kpi,
                    truth=float(truth[program][k.kpi]),
                    effect=k.effect,
                    ci_low=k.ci_low,
                    ci_high=k.ci_high,
                    evidence=k.evidence,
                    method=k.method,
                    naive_effect=k.naive_effect,
                )
            )
    step("done", 1, 1)
    return DemoOutcome(workspace=directory, rows=rows, reports=reports, results=results)
