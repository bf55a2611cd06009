"""A pilot's result against its registration: deviations, the decision, the winner's curse.

The analysis calls :func:`pilot_review` with its open store; the returned section
goes into the result document (``plan.pilot``) and its deviations into ``warnings``.
The decision reads the registered stop/scale rules at the current look: with more
than one planned look the interval is effect +/- c_k x se, c_k the Lan-DeMets
O'Brien-Fleming boundary at the information reached (``estimators.sequential``);
at a single final look it is the analysis's own interval.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd

from impactlens.domain.pilot import DecisionRules, LookFacts, evaluate_rule
from impactlens.domain.plan import ImpactPlan
from impactlens.domain.result import KpiResult
from impactlens.estimators.base import KpiPanel
from impactlens.estimators.sequential import obf_boundaries
from impactlens.estimators.shrinkage import exaggeration_ratio, shrink
from impactlens.store.base import Store

ANALYSIS_METHOD = "randomised ANCOVA (intention to treat)"


def registration(store: Store, program: str) -> dict[str, Any] | None:
    """The program's registration (record plus sha256, registered_at/by), or None."""
    t = store.table("pilot_registrations")
    rows = (
        t.filter(t.program == program).order_by(t.registered_at).limit(1).to_pyarrow()
    ).to_pylist()
    if not rows:
        return None
    r = rows[0]
    return {
        **json.loads(r["record"]),
        "sha256": r["sha256"],
        "registered_at": r["registered_at"].isoformat(timespec="seconds"),
        "registered_by": r["registered_by"],
    }


def registered_end(store: Store, program: str) -> date | None:
    """The registered last KPI period, which the analysis does not read beyond."""
    reg = registration(store, program)
    return date.fromisoformat(reg["end"]) if reg and reg.get("end") else None


def _primary(plan: ImpactPlan) -> str | None:
    if plan.pilot and plan.pilot.primary_kpi:
        return plan.pilot.primary_kpi
    return plan.primary_kpis()[0].id if plan.kpis else None


def deviations(
    reg: dict[str, Any], plan: ImpactPlan, method: str | None, people: pd.DataFrame
) -> list[str]:
    """Every way the plan, analysis or data now differ from the registration."""
    out: list[str] = []
    kpi = _primary(plan)
    if kpi != reg["primary_kpi"]:
        out.append(f"primary KPI changed from {reg['primary_kpi']!r} to {kpi!r}")
    spec = next((k for k in plan.kpis if k.id == reg["primary_kpi"]), None)
    if spec is not None:
        for key in ("baseline", "target"):
            if getattr(spec, key) != reg.get(key):
                out.append(f"{key} changed from {reg.get(key)} to {getattr(spec, key)}")
    section = plan.pilot
    if section is not None:
        for key in ("share", "alpha", "power", "looks", "hypothesis"):
            if getattr(section, key) != reg.get(key):
                out.append(
                    f"pilot.{key} changed from {reg.get(key)!r} to {getattr(section, key)!r}"
                )
        for key in ("start", "end"):
            now = getattr(section, key)
            if (now.isoformat() if now else None) != reg.get(key):
                verb = (
                    "extended"
                    if key == "end" and now and reg.get(key) and (now.isoformat() > reg[key])
                    else "changed"
                )
                out.append(f"pilot.{key} {verb} from {reg.get(key)} to {now}")
        if section.decision.model_dump() != reg.get("decision"):
            out.append("decision rules changed after registration")
    if method is not None and method != ANALYSIS_METHOD:
        out.append(f"analysed by {method!r}, not the registered {ANALYSIS_METHOD!r}")
    out += _unit_deviations(reg, people)
    return out


def _unit_deviations(reg: dict[str, Any], people: pd.DataFrame) -> list[str]:
    assignment = reg.get("assignment") or {}
    units: dict[str, str] = assignment.get("units") or {}
    if not units:
        return []
    key = "team_id" if assignment.get("unit") == "team" else "person_id"
    armed = people[people["arm"].notna()] if "arm" in people else people.iloc[0:0]
    now = armed.groupby(key)["arm"].agg(lambda s: s.mode().iloc[0]).to_dict() if len(armed) else {}
    dropped = sorted(u for u in units if u not in now)
    switched = sorted(u for u, arm in units.items() if u in now and now[u] != arm)
    added = sorted(u for u in now if u not in units)
    kind = "teams" if key == "team_id" else "people"
    out = []
    if dropped:
        out.append(f"{len(dropped)} registered {kind} dropped from the analysis")
    if switched:
        out.append(f"{len(switched)} {kind} changed arm after registration")
    if added:
        out.append(f"{len(added)} {kind} added after registration")
    return out


def decide(reg: dict[str, Any], kpi: KpiResult, fraction: float) -> dict[str, Any]:
    """The decision at information ``fraction`` with the registered rules."""
    rules = DecisionRules.model_validate(reg.get("decision") or {})
    looks = int(reg.get("looks") or 1)
    se = kpi.diagnostics.get("se")
    if kpi.effect is None or kpi.ci_low is None or kpi.ci_high is None:
        return {"decision": "no result", "why": "the primary KPI has no estimate yet"}
    final = looks == 1 or fraction >= 1
    out: dict[str, Any] = {"look": None, "information_fraction": round(min(fraction, 1.0), 4)}
    low, high = kpi.ci_low, kpi.ci_high
    if looks > 1 and se:
        planned = [k / looks for k in range(1, looks) if k / looks < fraction - 1e-9]
        bounds = obf_boundaries([*planned, min(max(fraction, 1e-3), 1.0)], reg["alpha"])
        c = bounds.z[-1]
        low, high = kpi.effect - c * se, kpi.effect + c * se
        out.update(look=len(planned) + 1, boundaries=bounds.as_dict(), z_boundary=round(c, 4))
    facts = LookFacts(
        kpi.effect, low, high, kpi.direction, reg.get("target_effect"), reg.get("mde")
    ).predicates()
    if evaluate_rule(rules.scale_if, facts):
        verdict, why = "scale", f"scale_if holds: {rules.scale_if}"
    elif evaluate_rule(rules.stop_if, facts):
        verdict, why = "stop", f"stop_if holds: {rules.stop_if}"
    elif final:
        verdict, why = "inconclusive", "neither rule holds at the final look"
    else:
        verdict, why = "continue", "neither rule holds yet; keep the pilot running"
    out.update(
        decision=verdict,
        why=why,
        final=final,
        interval=[round(low, 6), round(high, 6)],
        conditions=facts,
        rules=rules.model_dump(),
    )
    out["winners_curse"] = _winners_curse(kpi.effect, se, reg.get("mde"), reg["alpha"])
    return out


def _winners_curse(
    effect: float, se: float | None, mde: float | None, alpha: float
) -> dict[str, Any] | None:
    if not se or not mde:
        return None
    s = shrink(effect, se, abs(mde))
    ratio = exaggeration_ratio(abs(mde), se, alpha)
    return {
        "shrunken": s.as_dict(),
        "exaggeration_at_mde": round(ratio, 3),
        "note": (
            "Lucky pilots overstate effects: if the true effect were the registered MDE, "
            f"significant pilots like this would overstate it {ratio:.2f}-fold on average. "
            f"Plan the scale-up on the shrunken estimate {s.effect:.3g} "
            f"(95% {s.ci_low:.3g} to {s.ci_high:.3g}), prior N(0, MDE^2) "
            "(Gelman & Carlin 2014; van Zwet & Cator 2021)."
        ),
    }


def _fraction(reg: dict[str, Any], last_period: str | None) -> float:
    if not reg.get("start") or not reg.get("end") or not last_period:
        return 1.0
    start, end = date.fromisoformat(reg["start"]), date.fromisoformat(reg["end"])
    span = (end - start).days
    return 1.0 if span <= 0 else (date.fromisoformat(last_period[:10]) - start).days / span


def pilot_review(
    store: Store, plan: ImpactPlan, kpis: list[KpiResult], people: pd.DataFrame, last: str | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The result's ``pilot`` section and the warnings its deviations raise."""
    reg = registration(store, plan.program)
    if reg is None:
        if plan.pilot is None:
            return None, []
        return {"registered": False, "status": "not registered"}, [
            "this pilot was not pre-registered (impactlens pilot register): its analysis "
            "and decision rules were not frozen before launch"
        ]
    kpi = next((k for k in kpis if k.kpi == reg["primary_kpi"]), None)
    devs = deviations(reg, plan, kpi.method if kpi else None, people)
    if kpi is None:
        devs.append(f"the registered primary KPI {reg['primary_kpi']!r} was not analysed")
    summary = {k: v for k, v in reg.items() if k != "assignment"}
    assignment = {k: v for k, v in (reg.get("assignment") or {}).items() if k != "units"}
    decision = decide(reg, kpi, _fraction(reg, last)) if kpi else None
    section = {
        "registered": True,
        "status": (decision or {}).get("decision", "registered"),
        "registration": {**summary, "assignment": assignment},
        "deviations": devs,
        "decision": decision,
    }
    return section, [f"deviation from the registered pilot plan: {d}" for d in devs]


def restrict_panel(panel: KpiPanel, end: date | None) -> KpiPanel:
    """The panel without periods after the registered ``end`` (unchanged without one)."""
    if end is None:
        return panel
    cells = panel.cells[panel.cells["period"] <= pd.Timestamp(end)].reset_index(drop=True)
    return replace(panel, cells=cells)
