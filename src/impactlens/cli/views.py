"""How results look in a terminal (Rich tables on stdout)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from impactlens.cli.console import out


def _fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:,.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"


def templates_table(templates: Sequence[tuple[str, str]]) -> None:
    """List plan templates."""
    t = Table("template", "for", title="Plan templates (impactlens init DIR --template NAME)")
    for name, about in templates:
        t.add_row(name, about)
    out.print(t)


def import_summary(summary: Any) -> None:
    """One line per import."""
    out.print(
        f"Imported {summary.rows:,} {summary.kind} rows from {len(summary.files)} file(s): "
        f"{summary.inserted:,} new, {summary.replaced:,} replaced"
        + (
            f"; {summary.unknown_people:,} name unknown people (kept, see data health)"
            if summary.unknown_people
            else ""
        )
    )
    for w in summary.warnings:
        out.print(f"  warning: {w}", markup=False)


def findings(by_program: Mapping[str, Sequence[Any]]) -> None:
    """Check findings per program."""
    from impactlens.services.plan_check import format_findings

    for program, fs in by_program.items():
        if not fs:
            out.print(f"[green]{program}: no findings[/]")
            continue
        out.print(format_findings(fs))


def analysis(result: Any) -> None:
    """The analysis in a terminal: verdict, estimates, ROI, warnings."""
    out.print(f"[bold]{result.title or result.program}[/]")
    out.print(result.verdict, markup=False)
    t = Table("KPI", "effect", "95% interval", "p", "method", "n trained / compared", "evidence")
    for k in result.kpis:
        t.add_row(
            k.kpi,
            _fmt(k.effect),
            f"{_fmt(k.ci_low)} to {_fmt(k.ci_high)}",
            _fmt(k.p_value, 2),
            k.method,
            f"{k.n_treated:,} / {k.n_comparison:,}",
            k.evidence,
        )
    out.print(t)
    r = result.roi
    if r.roi_pct is not None:
        out.print(
            f"ROI {r.roi_pct:,.0f}% (between {r.roi_pct_low:,.0f}% and {r.roi_pct_high:,.0f}%), "
            f"benefits {r.benefits:,.0f} {r.currency}, costs {r.costs:,.0f} {r.currency}"
        )
    out.print(f"Next: {result.next_step}", markup=False)
    for w in result.warnings:
        out.print(f"  warning: {w}", markup=False)


def _fix(x: float | None) -> str:
    """Three decimals with a sign, so estimates and truths line up in a column."""
    return "–" if x is None else f"{x:+.3f}"


def demo(outcome: Any) -> None:
    """The demo's table of estimated vs true effects."""
    t = Table(title="Demo: estimated vs true effects")
    for name in (
        "program",
        "KPI",
        "true effect",
        "estimate",
        "95% interval",
        "covers truth",
        "naive difference",
        "evidence",
    ):
        t.add_column(name, no_wrap=True)
    for row in outcome.rows:
        covered = {True: "yes", False: "NO", None: "–"}[row.covered]
        t.add_row(
            row.program,
            row.kpi,
            _fix(row.truth),
            _fix(row.effect),
            f"{_fix(row.ci_low)} to {_fix(row.ci_high)}",
            covered,
            _fix(row.naive_effect),
            row.evidence,
        )
    out.print(t)
    for path in outcome.reports:
        out.print(f"Report: {path}")
    out.print(
        f"Workspace: {outcome.workspace} (try: impactlens analyze PROGRAM -w {outcome.workspace})"
    )
