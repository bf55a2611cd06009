"""The report's pilot block and plan-history caveat, from the result's ``plan`` section.

The registered plan sits beside the result: what was frozen before launch (hypothesis,
primary KPI, target, minimum detectable effect, rules, hash), what was found, the
decision the rules give, and every deviation. Plan changes after launch are listed
for every program, pilot or not.
"""

from __future__ import annotations

from typing import Any

from impactlens.domain.result import AnalysisResult
from impactlens.reports.format import fmt_number
from impactlens.reports.tables import Row, Table


def _num(x: Any) -> str:
    return "n/a" if not isinstance(x, (int, float)) else fmt_number(float(x), 3, signed=True)


def pilot_block(result: AnalysisResult) -> dict[str, Any] | None:
    """The registered plan beside the result (None for programs that are not pilots)."""
    section = result.plan.get("pilot")
    if not isinstance(section, dict):
        return None
    if not section.get("registered"):
        return {
            "registered": False,
            "table": None,
            "deviations": [],
            "decision": None,
            "winners_curse": None,
        }
    reg = section.get("registration") or {}
    decision = section.get("decision") or {}
    kpi = next((k for k in result.kpis if k.kpi == reg.get("primary_kpi")), None)
    found = (
        f"{_num(kpi.effect)} (95% {_num(kpi.ci_low)} to {_num(kpi.ci_high)})"
        if kpi is not None and kpi.effect is not None
        else "no estimate yet"
    )
    rules = reg.get("decision") or {}
    assignment = reg.get("assignment") or {}
    rows = [
        ("Hypothesis", reg.get("hypothesis") or "n/a", "–"),
        ("Primary KPI", reg.get("primary_kpi") or "n/a", kpi.kpi if kpi else "not analysed"),
        ("Target effect", _num(reg.get("target_effect")), found),
        ("Minimum detectable effect", _num(reg.get("mde")), "–"),
        ("Analysis", reg.get("analysis_method") or "n/a", kpi.method if kpi else "n/a"),
        ("Dates", f"{reg.get('start')} to {reg.get('end')}", "–"),
        (
            "Assignment",
            f"{assignment.get('n_treatment')} treatment, {assignment.get('n_control')} control "
            f"{reg.get('unit')} units; seed {assignment.get('seed')}, "
            f"max |SMD| {assignment.get('max_smd')}",
            "–",
        ),
        ("Scale if", rules.get("scale_if", "n/a"), "–"),
        ("Stop if", rules.get("stop_if", "n/a"), "–"),
        (
            "Decision",
            f"{reg.get('looks', 1)} planned look(s)",
            f"{str(decision.get('decision', 'n/a')).upper()}: {decision.get('why', '')}",
        ),
    ]
    table = Table(
        f"Registered {str(reg.get('registered_at', ''))[:10]} by {reg.get('registered_by')}, "
        f"sha256 {str(reg.get('sha256', ''))[:12]}",
        ["", "Registered", "Result"],
        [Row(label, [str(a), str(b)]) for label, a, b in rows],
    )
    curse = (decision.get("winners_curse") or {}).get("note")
    return {
        "registered": True,
        "table": table,
        "deviations": list(section.get("deviations") or []),
        "decision": decision.get("decision"),
        "winners_curse": curse,
    }


def plan_changes(result: AnalysisResult) -> list[dict[str, Any]]:
    """Plan changes after launch: when, noticed by whom, and the keys that changed."""
    history = result.plan.get("history")
    if not isinstance(history, list):
        return []
    out = []
    for h in history:
        if not isinstance(h, dict) or not h.get("after_launch"):
            continue
        changes = [
            f"{c.get('key')}: {c.get('before')!r} → {c.get('after')!r}"
            for c in h.get("changes") or []
            if isinstance(c, dict)
        ]
        out.append(
            {
                "when": str(h.get("recorded_at", ""))[:16].replace("T", " "),
                "by": h.get("recorded_by"),
                "changes": changes or ["formatting only"],
            }
        )
    return out
