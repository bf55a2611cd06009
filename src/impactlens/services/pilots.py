"""Pilots: pre-registration, the decision, and the portfolio of pilots.

``register_pilot`` freezes the hypothesis, primary KPI, target, minimum detectable
effect, analysis method, dates, decision rules and the assignment's seed and
balance into one immutable record: canonical JSON, its sha256 and a timestamp,
appended to the store's ``pilot_registrations``. A second registration with other
content is refused; the analysis compares the plan and data against the first.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import plan_sha256
from impactlens.estimators.sequential import obf_boundaries
from impactlens.services.pilot_assignment import latest_assignment
from impactlens.services.pilot_design import PilotInputError, _kpi_of, design_pilot
from impactlens.services.pilot_review import ANALYSIS_METHOD, registration

if TYPE_CHECKING:
    from impactlens.domain.result import AnalysisResult
    from impactlens.services.workspace import Workspace


@dataclass(frozen=True)
class Registration:
    """A frozen pilot plan: the record, its hash, when and by whom."""

    record: dict[str, Any]
    sha256: str
    registered_at: str
    registered_by: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``pilot register --json``."""
        return {
            **self.record,
            "sha256": self.sha256,
            "registered_at": self.registered_at,
            "registered_by": self.registered_by,
        }


def canonical(record: dict[str, Any]) -> str:
    """A record as the registration stores and hashes it (sorted keys, no spaces)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)


def registration_record(ws: Workspace, program: str) -> dict[str, Any]:
    """What a registration of ``program`` would freeze now (plan, design, assignment)."""
    plan, text = ws.plan(program)
    section = plan.pilot
    if section is None:
        raise PilotInputError(
            f"the plan of {program!r} has no `pilot:` section: add hypothesis, start and end "
            "(docs/how-to/run-a-pilot.md) before registering"
        )
    missing = [k for k in ("hypothesis", "start", "end") if getattr(section, k) is None]
    if missing:
        raise PilotInputError(f"the plan's pilot section needs {', '.join(missing)} to register")
    if section.end is not None and section.start is not None and section.end <= section.start:
        raise PilotInputError(f"pilot.end ({section.end}) must come after pilot.start")
    assignment = latest_assignment(ws, program)
    if assignment is None:
        raise PilotInputError(
            f"no assignment recorded for {program!r}: draw it first with "
            f"`impactlens pilot assign {program} --out FILE.csv`"
        )
    spec = _kpi_of(plan, None)
    unit = assignment["unit"]
    n = assignment["n_treatment"] + assignment["n_control"]
    design = design_pilot(
        ws,
        program,
        kpi=spec.id,
        unit=unit,
        teams=n if unit == "team" else None,
        people=n if unit == "people" else None,
        share=section.share,
        alpha=section.alpha,
        power=section.power,
    )
    looks = [k / section.looks for k in range(1, section.looks + 1)]
    return {
        "program": program,
        "hypothesis": section.hypothesis,
        "primary_kpi": spec.id,
        "direction": spec.direction,
        "baseline": spec.baseline,
        "target": spec.target,
        "target_effect": design.target_effect,
        "mde": round(design.mde, 6),
        "mde_relative": None if design.mde_relative is None else round(design.mde_relative, 6),
        "needed_for_target": design.needed_for_target,
        "unit": unit,
        "units": n,
        "share": section.share,
        "alpha": section.alpha,
        "power": section.power,
        "design": {
            "sd": round(design.sd, 6),
            "icc": round(design.icc, 6),
            "r2": round(design.r2, 6),
            "simulated_power_at_mde": design.simulation.get("power_at_mde"),
        },
        "analysis_method": ANALYSIS_METHOD,
        "comparison_method": plan.comparison.method,
        "start": section.start.isoformat() if section.start else None,
        "end": section.end.isoformat() if section.end else None,
        "looks": section.looks,
        "boundaries": obf_boundaries(looks, section.alpha).as_dict(),
        "decision": section.decision.model_dump(),
        "assignment": assignment,
        "plan_sha256": plan_sha256(text),
    }


def register_pilot(ws: Workspace, program: str, *, by: str | None = None) -> Registration:
    """Freeze ``program``'s pilot plan (idempotent: the same content returns the record)."""
    record = registration_record(ws, program)
    sha = hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()
    with ws.store(read_only=True) as store:
        existing = registration(store, program)
    if existing is not None:
        if existing["sha256"] != sha:
            raise ImpactLensError(
                f"{program!r} was registered on {existing['registered_at']} "
                f"(sha256 {existing['sha256'][:12]}); a registration cannot be changed: "
                "the analysis flags every deviation from it"
            )
        kept = {
            k: v
            for k, v in existing.items()
            if k not in ("sha256", "registered_at", "registered_by")
        }
        return Registration(kept, sha, existing["registered_at"], existing["registered_by"], False)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    who = by or getpass.getuser()
    row = {
        "program": program,
        "registered_at": now,
        "registered_by": who,
        "sha256": sha,
        "record": canonical(record),
    }
    with ws.store() as store:
        store.table("pilot_registrations").get_backend().insert(
            "pilot_registrations", pa.Table.from_pylist([row])
        )
    return Registration(record, sha, now.isoformat(timespec="seconds"), who, True)


def pilot_of(result: AnalysisResult) -> dict[str, Any] | None:
    """The ``pilot`` section of an analysis result (None for programs that are not pilots)."""
    value = result.plan.get("pilot")
    return value if isinstance(value, dict) else None


def decide_pilot(ws: Workspace, program: str) -> dict[str, Any]:
    """Analyse ``program`` and return its pilot section with the decision."""
    from impactlens.services.analysis import analyze_program

    result = analyze_program(ws, program)
    section = pilot_of(result)
    if section is None:
        raise PilotInputError(
            f"{program!r} is not a pilot: its plan has no `pilot:` section and it has no "
            "registration"
        )
    primary = next(
        (k for k in result.kpis if section.get("registration", {}).get("primary_kpi") == k.kpi),
        None,
    )
    return {
        "program": program,
        **section,
        "result": None
        if primary is None
        else {
            "kpi": primary.kpi,
            "effect": primary.effect,
            "ci_low": primary.ci_low,
            "ci_high": primary.ci_high,
            "p_value": primary.p_value,
            "method": primary.method,
        },
    }


def portfolio_row(program: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    """One dashboard row of a pilot from its (possibly viewer-filtered) result document."""
    section = (doc.get("plan") or {}).get("pilot")
    if not isinstance(section, dict):
        return None
    reg = section.get("registration") or {}
    kpi_id = reg.get("primary_kpi")
    kpi = next((k for k in doc.get("kpis", []) if k.get("kpi") == kpi_id), None)
    kpi = kpi or next((k for k in doc.get("kpis", []) if k.get("primary")), None)
    decision = section.get("decision") or {}
    return {
        "program": program,
        "title": doc.get("title"),
        "status": section.get("status"),
        "registered": section.get("registered", False),
        "registered_at": reg.get("registered_at"),
        "hypothesis": reg.get("hypothesis"),
        "kpi": kpi.get("kpi") if kpi else None,
        "effect": kpi.get("effect") if kpi else None,
        "ci_low": kpi.get("ci_low") if kpi else None,
        "ci_high": kpi.get("ci_high") if kpi else None,
        "mde": reg.get("mde"),
        "decision": decision.get("decision"),
        "why": decision.get("why"),
        "deviations": len(section.get("deviations") or []),
    }
