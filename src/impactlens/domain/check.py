"""Findings of ``impactlens check``, and the alignment rules that need only the plan.

A finding is a lint message for a learning program before (or after) launch. Errors
block a credible analysis (``check`` exits 1), warnings weaken it, infos only tell.
The rules that need data live in ``impactlens.services.plan_check``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from impactlens.domain.plan import ImpactPlan, KpiSpec

Severity = Literal["error", "warning", "info"]

SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class Finding(BaseModel):
    """One problem found by the alignment check.

    Examples:
        >>> f = Finding(severity="error", code="kpi-missing", message="The plan names no KPI.",
        ...             fix="Add a KPI under kpis.", program="onboarding")
        >>> f.is_error
        True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity
    code: str
    """A stable slug (``kpi-no-data``) that scripts may match on."""
    message: str
    """What is wrong, with the figures behind it."""
    fix: str
    """How to fix it, concretely."""
    program: str

    @property
    def is_error(self) -> bool:
        """Whether this finding makes ``impactlens check`` exit 1."""
        return self.severity == "error"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then infos; by code within a severity.

    The sort is stable, so findings with the same code keep the order they were
    raised in (the plan's KPI order).

    Examples:
        >>> a = Finding(severity="info", code="a", message="m", fix="f", program="p")
        >>> b = Finding(severity="error", code="b", message="m", fix="f", program="p")
        >>> [f.code for f in sort_findings([a, b])]
        ['b', 'a']
    """
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.code))


MAX_PRIMARY_KPIS = 3


def listing(values: Sequence[object], limit: int = 6) -> str:
    """Values for a message: strings quoted, cut after ``limit`` with a count of the rest.

    Examples:
        >>> listing(["a", "b", 3], limit=2)
        "'a', 'b' and 1 more"
    """
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def figure(x: float) -> str:
    """A number for a message: four significant digits, or thousands separated.

    Examples:
        >>> figure(0.123456), figure(25_000.4)
        ('0.1235', '25,000')
    """
    return f"{x:.4g}" if abs(x) < 10_000 else f"{x:,.0f}"


def target_is_improvement(kpi: KpiSpec) -> bool:
    """Whether the KPI's target lies beyond its baseline in its direction.

    Examples:
        >>> k = KpiSpec(id="csat", direction="increase", unit="person", baseline=4, target=3.5)
        >>> target_is_improvement(k)
        False
    """
    if kpi.baseline is None or kpi.target is None:
        return False
    if kpi.direction == "increase":
        return kpi.target > kpi.baseline
    return kpi.target < kpi.baseline


class _Findings(list[Finding]):
    """A list of findings of one program, with a short way to add one."""

    def __init__(self, program: str) -> None:
        super().__init__()
        self.program = program

    def add(self, severity: Severity, code: str, message: str, fix: str) -> None:
        self.append(
            Finding(severity=severity, code=code, message=message, fix=fix, program=self.program)
        )


def plan_alignment(plan: ImpactPlan) -> list[Finding]:
    """Alignment findings from the plan alone: objective, sponsor, personas, KPIs.

    The rules follow the field: a strategic performance objective is the outcome
    plus the behaviours (Kadakia & Owens); an executive sponsor and business-set,
    measurable outcomes (Learning Ops); 1-3 primary KPIs; money values for ROI
    (Phillips). Returned in the order raised; see :func:`sort_findings`.

    Examples:
        >>> [f.code for f in plan_alignment(ImpactPlan(program="p"))]
        ['objective-missing', 'behaviours-missing', 'sponsor-missing', 'stakeholders-missing', 'personas-missing', 'assets-missing', 'kpi-missing']
    """  # noqa: E501
    out = _Findings(plan.program)
    objective = plan.objective
    if objective is None or not (objective.outcome or "").strip():
        out.add(
            "error",
            "objective-missing",
            "The plan has no objective.outcome: nobody has said which business result "
            "the program must move.",
            "Write objective.outcome as the sponsor would say it, with a number and a date, "
            "e.g. 'Cut repeat complaints about damaged parcels by 15% this year'.",
        )
    if objective is None or not objective.behaviours:
        out.add(
            "warning",
            "behaviours-missing",
            "The objective lists no behaviours: what people should do differently on the "
            "job is unstated, so behaviour change (Kirkpatrick level 3) cannot be tracked.",
            "List 1-5 observable on-the-job behaviours under objective.behaviours, "
            "e.g. 'Run the packaging checklist at every pickup'.",
        )
    if not (plan.sponsor or "").strip():
        out.add(
            "warning",
            "sponsor-missing",
            "The plan names no sponsor: no business leader owns the outcome or will act "
            "on the results.",
            "Set sponsor to the business leader (name or role) who owns the outcome, "
            "e.g. 'Head of Field Operations'.",
        )
    if not plan.stakeholders:
        out.add(
            "info",
            "stakeholders-missing",
            "The plan lists no stakeholders to agree the KPIs and receive the report.",
            "List them under stakeholders, e.g. [Regional ops leads, HR business partner].",
        )
    if not plan.personas:
        out.add(
            "warning",
            "personas-missing",
            "The plan names no personas: who the program is for is unstated, and results "
            "cannot be broken down by persona.",
            "List the target personas under personas, as values of the people column "
            "'persona', e.g. [new driver, senior driver].",
        )
    if not plan.assets:
        out.add(
            "info",
            "assets-missing",
            "The plan lists no assets: only activity rows whose program column is "
            f"{plan.program!r} will count for it.",
            "List the cluster's formal, social and on-the-job assets under assets, "
            "e.g. - {id: packaging-basics, kind: microlearning}.",
        )
    if not plan.kpis:
        out.add(
            "error",
            "kpi-missing",
            "The plan names no KPI, so there is nothing to measure the program's impact on.",
            "Add 1-3 business KPIs the sponsor already watches under kpis, each with id, "
            "direction, unit, baseline and target.",
        )
    _kpi_alignment(plan, out)
    return list(out)


def _kpi_alignment(plan: ImpactPlan, out: _Findings) -> None:
    ids = [k.id for k in plan.kpis]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        out.add(
            "error",
            "kpi-duplicate",
            f"KPI {dup!r} is listed {ids.count(dup)} times.",
            f"Keep one entry for {dup!r} under kpis.",
        )
    primary = plan.primary_kpis()
    if len(primary) > MAX_PRIMARY_KPIS:
        why = (
            "are marked primary"
            if any(k.primary for k in plan.kpis)
            else "count as primary because none is marked primary"
        )
        out.add(
            "error",
            "too-many-primary-kpis",
            f"{len(primary)} KPIs {why} ({listing([k.id for k in primary])}); "
            f"a program should focus on 1-{MAX_PRIMARY_KPIS}.",
            f"Mark the 1-{MAX_PRIMARY_KPIS} KPIs the sponsor cares most about with "
            "primary: true; the others are still reported.",
        )
    for k in plan.kpis:
        missing = [name for name in ("baseline", "target") if getattr(k, name) is None]
        if missing:
            out.add(
                "warning",
                "kpi-baseline-or-target-missing",
                f"KPI {k.id!r} has no {' and no '.join(missing)}, so whether the target "
                "is met cannot be judged.",
                f"Set {' and '.join(missing)} for {k.id!r}: today's level and the level "
                "the objective promises.",
            )
        elif k.baseline is not None and k.target is not None and not target_is_improvement(k):
            side = "above" if k.direction == "increase" else "below"
            out.add(
                "error",
                "target-wrong-direction",
                f"KPI {k.id!r} should {k.direction}, but its target {figure(k.target)} is not "
                f"{side} its baseline {figure(k.baseline)}.",
                f"Fix the target or the direction of {k.id!r}: the target must be an "
                "improvement on the baseline.",
            )
    for k in primary:
        if k.value_per_unit is None:
            out.add(
                "warning",
                "value-per-unit-missing",
                f"Primary KPI {k.id!r} has no value_per_unit, so its improvement cannot be "
                "turned into money: no ROI from it.",
                f"Set value_per_unit for {k.id!r}: money per 1 unit of improvement per "
                f"{k.unit} per period (e.g. the cost of one complaint), or name the "
                "benefit under roi.intangibles.",
            )
