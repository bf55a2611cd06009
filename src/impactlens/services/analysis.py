"""Analyse one program: roster, KPI panels, estimates, three tiers, ROI, verdict."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

import impactlens
from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import ImpactPlan, KpiSpec, plan_sha256
from impactlens.domain.result import (
    AnalysisResult,
    BalanceRow,
    EventStudyPoint,
    KpiResult,
    Provenance,
    TrendPoint,
)
from impactlens.estimators.base import Estimate, Estimator, KpiPanel
from impactlens.estimators.evidence import grade
from impactlens.estimators.grid import PanelGrid
from impactlens.estimators.naive import NaiveDifference
from impactlens.estimators.registry import choose
from impactlens.metrics.exposure import Roster, build_roster
from impactlens.metrics.heterogeneity import heterogeneity
from impactlens.metrics.learner import learner_metrics
from impactlens.metrics.operational import operational_metrics
from impactlens.metrics.panel import build_panel
from impactlens.metrics.spillover import other_program_overlap, spillover
from impactlens.metrics.success_cases import METHOD as SUCCESS_CASE_METHOD
from impactlens.metrics.success_cases import success_cases, unit_changes
from impactlens.metrics.vanity import vanity_flag
from impactlens.roi.participant_estimate import respondent_shares, unit_shares
from impactlens.roi.phillips import (
    KpiBenefitInput,
    ParticipantInput,
    compute_roi,
    infer_frequency,
)
from impactlens.services.pilot_review import pilot_review, registered_end, restrict_panel
from impactlens.services.plan_history import history_caveat, observe_plan, plan_history

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace

TABLES = ("people", "participation", "activity", "assessments", "surveys", "kpis", "costs")
Progress = Callable[[str, int, int], None]


def _num(x: Any, digits: int = 6) -> float | None:
    if x is None or pd.isna(x):
        return None
    return round(float(x), digits)


def _json_able(value: Any) -> bool:
    """Scalars and plain dict/list structures pass into the JSON document; frames do not."""
    if value is None or isinstance(value, (int, float, str, bool)):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_able(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_json_able(v) for v in value)
    return False


def _group_period_means(grid: PanelGrid, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean KPI of ``rows`` in each period (unweighted over observed cells) and the count."""
    obs = grid.observed[rows]
    n = obs.sum(axis=0)
    total = np.where(obs, np.nan_to_num(grid.y[rows]), 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan), n


def _trend(panel: KpiPanel) -> list[TrendPoint]:
    grid = PanelGrid.from_panel(panel)
    points: list[TrendPoint] = []
    groups = {"treated": np.flatnonzero(grid.treated), "comparison": np.flatnonzero(~grid.treated)}
    for name, rows in groups.items():
        if not len(rows):
            continue
        mean, n = _group_period_means(grid, rows)
        for j, period in enumerate(pd.to_datetime(grid.periods)):
            if n[j]:
                points.append(
                    TrendPoint(
                        period=period.date().isoformat(),
                        group=name,  # type: ignore[arg-type]
                        mean=_num(mean[j]),
                        n=int(n[j]),
                    )
                )
    return sorted(points, key=lambda p: (p.period, p.group))


def _business(panel: KpiPanel) -> dict[str, Any]:
    grid = PanelGrid.from_panel(panel)
    out: dict[str, Any] = {"kpi": panel.kpi, "launch": None}
    start = grid.earliest_start()
    if start >= grid.n_periods:
        return out
    out["launch"] = pd.Timestamp(grid.periods[start]).date().isoformat()
    post = np.arange(grid.n_periods) >= start
    for name, rows in (
        ("treated", np.flatnonzero(grid.treated)),
        ("comparison", np.flatnonzero(~grid.treated)),
    ):
        obs = grid.observed[rows]
        y = np.nan_to_num(grid.y[rows])
        for label, cols in (("pre", ~post), ("post", post)):
            cells = obs[:, cols]
            count = cells.sum()
            out[f"{label}_{name}"] = (
                _num(np.where(cells, y[:, cols], 0.0).sum() / count, 4) if count else None
            )
    return out


def _target_met(kpi: KpiSpec, effect: float | None) -> bool | None:
    if kpi.baseline is None or kpi.target is None or effect is None:
        return None
    reached = kpi.baseline + effect
    return reached >= kpi.target if kpi.direction == "increase" else reached <= kpi.target


def _kpi_result(
    kpi: KpiSpec,
    panel: KpiPanel,
    est: Estimate,
    why: str,
    *,
    primary: bool,
    extra: dict[str, Any] | None = None,
) -> KpiResult:
    evidence, reasons = grade(est)
    naive = NaiveDifference().fit(panel) if est.has_comparison else None
    rel = None
    if est.effect is not None and est.pre_mean_treated:
        rel = _num(est.effect / est.pre_mean_treated)
    balance = (
        []
        if est.balance is None
        else [
            BalanceRow(
                covariate=str(r.covariate),
                mean_treated=_num(r.mean_treated),
                mean_comparison=_num(r.mean_comparison),
                smd_before=_num(r.smd_before),
                smd_after=_num(r.smd_after),
            )
            for r in est.balance.itertuples()
        ]
    )
    events = (
        []
        if est.event_study is None
        else [
            EventStudyPoint(
                event_time=int(r.event_time),
                effect=_num(r.effect),
                ci_low=_num(r.ci_low),
                ci_high=_num(r.ci_high),
            )
            for r in est.event_study.itertuples()
        ]
    )
    diagnostics: dict[str, Any] = {
        "method_choice": why,
        "pretrend_p": _num(est.pretrend_p),
        "max_smd_before": _num(est.max_smd_before),
        "max_smd_after": _num(est.max_smd_after),
        "trimmed_share": _num(est.trimmed_share),
        "n_pre_periods": est.n_pre_periods,
        "n_post_periods": est.n_post_periods,
        "se": _num(est.se),
        "assumptions": list(est.assumptions),
        "notes": list(est.notes),
        **{k: v for k, v in est.diagnostics.items() if _json_able(v)},
    }
    if naive is not None:
        diagnostics["naive_ci_low"] = _num(naive.ci_low)
        diagnostics["naive_ci_high"] = _num(naive.ci_high)
    if "share_trained" in panel.units:
        treated = panel.units[panel.units["group"] == "treated"]
        diagnostics["share_trained_members"] = _num(treated["share_trained"].mean(), 4)
    diagnostics.update(extra or {})
    return KpiResult(
        kpi=kpi.id,
        direction=kpi.direction,
        unit=kpi.unit,
        effect=_num(est.effect),
        ci_low=_num(est.ci_low),
        ci_high=_num(est.ci_high),
        p_value=_num(est.p_value, 8),
        relative_effect=rel,
        method=est.method,
        n_treated=est.n_treated,
        n_comparison=est.n_comparison,
        evidence=evidence,
        evidence_reasons=[why, *reasons],
        target_met=_target_met(kpi, est.effect),
        baseline=kpi.baseline,
        target=kpi.target,
        primary=primary,
        pre_mean_treated=_num(est.pre_mean_treated),
        naive_effect=_num(naive.effect) if naive else None,
        diagnostics=diagnostics,
        trend=_trend(panel),
        by_event_time=events,
        balance=balance,
    )


def _plan_summary(plan: ImpactPlan, periods: list[str]) -> dict[str, Any]:
    return {
        "title": plan.title,
        "objective": plan.objective.model_dump() if plan.objective else None,
        "sponsor": plan.sponsor,
        "stakeholders": list(plan.stakeholders),
        "personas": list(plan.personas),
        "assets": [a.model_dump() for a in plan.assets],
        "period_from": min(periods) if periods else None,
        "period_to": max(periods) if periods else None,
        "comparison_method": plan.comparison.method,
        "min_group_size": plan.privacy.min_group_size,
    }


def _same_kpi_programs(ws: Workspace, plan: ImpactPlan) -> dict[str, set[str]]:
    """KPI id -> the other programs whose plans name it (unreadable plans are skipped)."""
    out: dict[str, set[str]] = {}
    for other in ws.programs():
        if other == plan.program:
            continue
        try:
            other_plan, _ = ws.plan(other)
        except ImpactLensError:
            continue  # `check` reports a broken plan; it cannot contaminate this analysis
        for k in other_plan.kpis:
            out.setdefault(k.id, set()).add(other)
    return out


def _kpi_extras(
    panel: KpiPanel,
    estimator: Estimator,
    kpi: KpiSpec,
    roster: Roster,
    context: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any], list[str]]:
    """Spillover diagnostics, segment rows, success cases and warnings of one KPI."""
    people, plan = roster.people, context["plan"]
    trained = set(roster.trained["person_id"].astype(str))
    spill, warnings = spillover(panel, people, trained, estimator)
    warnings += other_program_overlap(
        panel, people, context["others"], sorted(context["same_kpi"].get(kpi.id, ()))
    )
    segments = heterogeneity(panel, estimator, plan, people, min_group_size=context["k"])
    extra = {"spillover": spill} if spill is not None else {}
    return extra, segments, success_cases(panel, kpi.direction), warnings


def analyze_program(
    ws: Workspace, program: str, *, progress: Progress | None = None
) -> AnalysisResult:
    """Compute the contract's result document for ``program`` in ``ws``."""
    from impactlens.ingest.health import data_health
    from impactlens.ingest.xapi_activity import statement_activity, unmatched_warning
    from impactlens.reports.format import next_step_sentence, verdict_sentence

    def step(label: str, done: int, total: int) -> None:
        if progress:
            progress(label, done, total)

    plan, text = ws.plan(program)
    observe_plan(ws, program, text)  # plan history: who changed what, and when
    min_group = max(plan.privacy.min_group_size, ws.settings.privacy.min_group_size)
    total = len(plan.kpis) + 4
    with ws.store(read_only=True) as store:
        tables = {name: store.table(name) for name in TABLES}
        # totals of rows the retention setting expired: the tiers add them back
        tables["aggregates"] = store.table("aggregates")
        # LRS statements count as activity: mapped verbs, actors resolved to people now
        tables["activity"], lrs = statement_activity(
            store, ws.key(), ws.settings, tables["activity"]
        )
        step("people and participation", 0, total)
        roster: Roster = build_roster(tables, plan)
        warnings = list(roster.warnings)
        if (lrs_warning := unmatched_warning(lrs)) is not None:
            warnings.append(lrs_warning)
        kpi_results: list[KpiResult] = []
        roi_inputs: list[KpiBenefitInput] = []
        participant_inputs: list[ParticipantInput] = []
        segments: list[dict[str, Any]] = []
        cases: list[dict[str, Any]] = []
        pt = tables["participation"]
        context: dict[str, Any] = {
            "plan": plan,
            "k": min_group,
            "same_kpi": _same_kpi_programs(ws, plan),
            "others": pt.filter(pt.program != program)
            .select("person_id", "program", "start_date")
            .to_pyarrow()
            .to_pandas(),
        }
        shares = respondent_shares(tables["surveys"], program)
        until = registered_end(store, program)  # a registered pilot reads no later period
        business: list[dict[str, Any]] = []
        all_periods: list[str] = []
        for i, kpi in enumerate(plan.kpis):
            step(f"KPI {kpi.id}", i + 1, total)
            panel = restrict_panel(build_panel(tables, plan, kpi, roster), until)
            if panel.cells.empty:
                warnings.append(f"KPI {kpi.id!r} has no rows for the compared units")
            est, why = choose(panel, plan.comparison.method)
            fitted = est.fit(panel)
            extra, kpi_segments, kpi_cases, kpi_warnings = _kpi_extras(
                panel, est, kpi, roster, context
            )
            segments += kpi_segments
            cases.append(kpi_cases)
            warnings += kpi_warnings
            kpi_results.append(
                _kpi_result(
                    kpi, panel, fitted, why, primary=kpi in plan.primary_kpis(), extra=extra
                )
            )
            business.append(_business(panel))
            periods = [p.date().isoformat() for p in pd.to_datetime(panel.periods)]
            all_periods += periods
            roi_inputs.append(
                KpiBenefitInput(
                    kpi=kpi.id,
                    direction=kpi.direction,
                    effect=fitted.effect,
                    ci_low=fitted.ci_low,
                    ci_high=fitted.ci_high,
                    n_treated=fitted.n_treated,
                    value_per_unit=kpi.value_per_unit,
                    periods_per_year=infer_frequency(list(pd.to_datetime(panel.periods))),
                )
            )
            changes = unit_changes(panel)
            by_unit = unit_shares(shares, roster.people, panel.unit_kind)
            participant_inputs.append(
                ParticipantInput(
                    kpi=roi_inputs[-1],
                    units=changes.assign(share=changes["unit_id"].map(by_unit).astype(float)),
                )
            )
        step("three tiers of metrics", len(plan.kpis) + 1, total)
        eligible = ibis.memtable(
            roster.people.loc[roster.people["eligible"], ["person_id"]].reset_index(drop=True)
        )
        operational = operational_metrics(tables, plan, eligible=eligible, min_group_size=min_group)
        learner = learner_metrics(tables, plan, min_group_size=min_group)
        warnings += list(operational.pop("warnings", []) or [])
        warnings += list(learner.pop("warnings", []) or [])
        step("ROI", len(plan.kpis) + 2, total)
        ct = tables["costs"]
        costs = ct.filter(ct.program == program).order_by("item").to_pandas()
        roi = compute_roi(
            plan, roi_inputs, costs, currency=ws.settings.currency, participants=participant_inputs
        )
        if roi.costs is None:
            warnings.append("no costs imported for this program: ROI is not computed")
        if not any(k.value_per_unit is not None for k in plan.primary_kpis()):
            warnings.append("no primary KPI has value_per_unit: ROI is not computed")
        pilot, pilot_warnings = pilot_review(
            store, plan, kpi_results, roster.people, max(all_periods) if all_periods else None
        )
        warnings += pilot_warnings
        history = plan_history(store, program)
        caveat = history_caveat(history)
        if caveat:
            warnings.append(caveat)
        health = data_health(store, key=ws.key(), settings=ws.settings)
        fingerprint = store.fingerprint()
        engine = store.engine
    metrics: dict[str, Any] = {
        "operational": operational,
        "learner": learner,
        "business": {"kpis": business},
    }
    flag = vanity_flag(operational, [k.model_dump() for k in kpi_results])
    if flag:
        metrics["vanity_flag"] = flag
    step("verdict", total - 1, total)
    result = AnalysisResult(
        program=program,
        title=plan.title,
        kpis=kpi_results,
        metrics=metrics,
        roi=roi,
        provenance=Provenance(
            version=impactlens.__version__,
            plan_sha256=plan_sha256(text),
            data_sha256=fingerprint,
            engine=engine,
            computed_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        ),
        warnings=warnings,
        plan={**_plan_summary(plan, all_periods), "pilot": pilot, "history": history},
        data_health=health,
        segments=segments,
        success_cases={"visibility": "analyst", "method": SUCCESS_CASE_METHOD, "kpis": cases},
    )
    result = result.model_copy(update={"verdict": verdict_sentence(result)})
    result = result.model_copy(update={"next_step": next_step_sentence(result)})
    step("done", total, total)
    return result
