"""``impactlens check``: lint an impact plan against the imported data before launch.

Misalignment is the first reason learning programs fail (Learning Ops), so the plan
is checked first (:func:`impactlens.domain.check.plan_alignment`); then the data, for
what attribution will need: KPI history before launch, an untrained comparison
group and enough people to see the target effect (methods.md, "Attribution").
Every data question is an Ibis expression, so the check runs on any store engine.
The KPI-data checks (history, power, hard data) are in :mod:`.plan_check_kpis`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis.expr.types as ir
import pandas as pd
from rich.table import Table
from rich.text import Text

from impactlens.domain.check import (
    Finding,
    Severity,
    figure,
    listing,
    plan_alignment,
    sort_findings,
)
from impactlens.domain.plan import ImpactPlan
from impactlens.services.plan_check_kpis import (
    NOUN,
    KpiDataChecks,
    UnitKind,
    count_rows,
    distinct_values,
    nonempty,
)

# Contract, "Who is trained": the rungs, and where dropped / exempt sit on them.
_RUNG = {"assigned": 0, "enrolled": 1, "completed": 2}
_STATUS_RUNG = {"assigned": 0, "enrolled": 1, "dropped": 1, "completed": 2, "exempt": 2}


class _DataCheck(KpiDataChecks):
    """The data findings of one plan against one set of tables."""

    def __init__(self, plan: ImpactPlan, tables: Mapping[str, ir.Table], threshold: int) -> None:
        self.plan = plan
        self.threshold = threshold
        self.findings: list[Finding] = []
        self._groups: dict[str, tuple[ir.Table, ir.Table]] = {}
        self._sizes: dict[str, tuple[int, int]] = {}
        self.people = nonempty(tables.get("people"))
        self.kpis = nonempty(tables.get("kpis"))
        participation = nonempty(tables.get("participation"))
        self.part: ir.Table | None = None
        if participation is not None:
            self.part = nonempty(participation.filter(participation.program == plan.program))
        self.randomised = (
            self.part is not None
            and "arm" in self.part.columns
            and count_rows(self.part.filter(self.part.arm.notnull())) > 0
        )

    def add(self, severity: Severity, code: str, message: str, fix: str) -> None:
        program = self.plan.program
        self.findings.append(
            Finding(severity=severity, code=code, message=message, fix=fix, program=program)
        )

    # -- people --------------------------------------------------------------------

    def people_columns(self) -> bool:
        """Checks of the columns the plan names; False when eligibility cannot be applied."""
        plan = self.plan
        if self.people is None:
            self.add(
                "error",
                "no-people",
                "No people imported yet: personas, eligibility and the comparison group "
                "cannot be checked.",
                "Import people: impactlens import people people.csv (person_id plus team_id, "
                "persona, role and the columns the plan names).",
            )
            return False
        cols = list(self.people.columns)
        if plan.personas:
            self._personas(cols)
        for key, names in (("segments", plan.segments), ("covariates", plan.comparison.covariates)):
            unknown = [c for c in names if c not in cols]
            if unknown:
                self.add(
                    "warning",
                    f"{key[:-1]}-unknown-column",
                    f"The plan's {key} name {listing(unknown)}, which people do not have.",
                    f"Import those columns with people, or remove them from {key} "
                    f"(people have: {listing(sorted(cols))}).",
                )
        unknown = [c for c in plan.comparison.eligible if c not in cols]
        if unknown:
            self.add(
                "error",
                "eligible-unknown-column",
                f"comparison.eligible filters on {listing(unknown)}, which people do not "
                "have: nobody can be chosen for comparison.",
                "Import those columns with people, or filter comparison.eligible on columns "
                f"people have: {listing(sorted(cols))}.",
            )
            return False
        return True

    def _personas(self, cols: list[str]) -> None:
        assert self.people is not None
        if "persona" not in cols:
            self.add(
                "warning",
                "persona-not-in-data",
                f"The plan names personas ({listing(self.plan.personas)}) but people have "
                "no 'persona' column.",
                "Add a persona column to the people import, with the plan's persona names.",
            )
            return
        found = distinct_values(self.people, "persona")
        absent = [p for p in self.plan.personas if p not in found]
        if absent:
            self.add(
                "warning",
                "persona-not-in-data",
                f"Personas {listing(absent)} appear in no people row "
                f"(people have: {listing(found) or 'none'}).",
                "Spell the plan's personas exactly as the people column 'persona' does, "
                "or fix the people import.",
            )

    def eligible(self) -> ir.Table:
        """People who could have been trained (contract: all columns match; a list is any)."""
        assert self.people is not None
        people = self.people
        for col, wanted in self.plan.comparison.eligible.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            column = people[col]
            # YAML may read 'grade: 3' as a number for a text column, or the reverse:
            # compare as text then, so the filter means what the analyst wrote.
            if column.type().is_string() or any(isinstance(v, str) for v in values):
                column, values = column.cast("string"), [str(v) for v in values]
            people = people.filter(column.isin(values))
        return people

    # -- participation and groups --------------------------------------------------

    def at_rung(self) -> ir.Table:
        """Participation rows that count as trained under the plan's rung."""
        assert self.part is not None
        if "status" not in self.part.columns:
            return self.part
        rung = _RUNG[self.plan.participants.status]
        ok = [s for s, r in _STATUS_RUNG.items() if r >= rung]
        return self.part.filter(self.part.status.isnull() | self.part.status.isin(ok))

    def _teams_of(self, ids: ir.Table) -> ir.Table:
        assert self.people is not None
        members = self.people.semi_join(ids, self.people.person_id.cast("string") == ids.unit_id)
        teams = members.filter(members.team_id.notnull())
        return teams.select(unit_id=teams.team_id.cast("string")).distinct()

    def groups(self, kind: UnitKind) -> tuple[ir.Table, ir.Table]:
        """(trained units, comparison units), each a one-column table of ``unit_id``."""
        if kind not in self._groups:
            self._groups[kind] = self._build_groups(kind)
        return self._groups[kind]

    def group_sizes(self, kind: UnitKind) -> tuple[int, int]:
        """How many units are trained and how many are in comparison."""
        if kind not in self._sizes:
            self._sizes[kind] = (count_rows(self.groups(kind)[0]), count_rows(self.groups(kind)[1]))
        return self._sizes[kind]

    def _build_groups(self, kind: UnitKind) -> tuple[ir.Table, ir.Table]:
        eligible = self.eligible()
        candidates = eligible.select(unit_id=eligible.person_id.cast("string")).distinct()
        everyone = candidates.limit(0)
        if self.part is None:  # planned: everyone eligible is still a candidate
            trained = everyone
        elif self.randomised:  # contract: by arm, whatever the status
            arms = self.part.select(unit_id=self.part.person_id.cast("string"), arm=self.part.arm)
            trained = arms.filter(arms.arm == "treatment").select("unit_id").distinct()
            candidates = arms.filter(arms.arm == "control").select("unit_id").distinct()
        else:
            rung = self.at_rung()
            trained = rung.select(unit_id=rung.person_id.cast("string")).distinct()
            everyone = self.part.select(unit_id=self.part.person_id.cast("string")).distinct()
            candidates = candidates.anti_join(everyone, "unit_id")
        if kind == "person":
            return trained, candidates
        # A team with any participant never serves as comparison (contract, team KPIs).
        comparison = self._teams_of(candidates).anti_join(self._teams_of(everyone), "unit_id")
        return self._teams_of(trained), comparison

    def participation(self) -> None:
        if self.part is None:
            self.add(
                "info",
                "no-participants",
                "No participation rows for this program yet: it is planned, not launched.",
                "When people start, import them: impactlens import participation FILE "
                f"(person_id, program = {self.plan.program}, start_date).",
            )
        elif not self.randomised and count_rows(self.at_rung()) == 0:
            self.add(
                "info",
                "nobody-trained-yet",
                f"{count_rows(self.part)} participation rows, none at the rung "
                f"{self.plan.participants.status!r} yet.",
                "Import updated statuses as people progress, or lower participants.status.",
            )

    def comparison(self) -> None:
        if self.part is None:
            return
        if self.randomised:
            if count_rows(self.part.filter(self.part.arm == "control")) == 0:
                self.add(
                    "error",
                    "no-control-arm",
                    "Participation rows carry arm, but none is 'control': the randomised "
                    "comparison has no control group.",
                    "Mark the units assigned to wait or to business as usual with "
                    "arm: control in the participation import.",
                )
            return
        self._outside_eligible()
        kinds: list[UnitKind] = sorted({k.unit for k in self.plan.kpis}) or ["person"]
        for kind in kinds:
            n_trained, n_comparison = self.group_sizes(kind)
            if n_comparison:
                continue
            weak = self.plan.comparison.method == "none"
            self.add(
                "warning" if weak else "error",
                "no-comparison",
                f"Nobody eligible is left untrained: 0 comparison {NOUN[kind]} against "
                f"{n_trained} trained, so the program's effect cannot be isolated "
                "(before/after only: weak evidence).",
                "Keep some eligible people untrained or wait-listed (arm: control), widen "
                "comparison.eligible, or roll out in waves so later cohorts are the comparison.",
            )

    def _outside_eligible(self) -> None:
        if not self.plan.comparison.eligible:
            return
        trained, _ = self.groups("person")
        eligible = self.eligible()
        ids = eligible.select(unit_id=eligible.person_id.cast("string"))
        outside = count_rows(trained.anti_join(ids, "unit_id"))
        if outside:
            self.add(
                "info",
                "trained-outside-eligible",
                f"{outside} trained people do not match comparison.eligible; they are still "
                "analysed, with a warning.",
                "Widen comparison.eligible to cover everyone who could have been trained.",
            )

    def covariate_overlap(self) -> None:
        """Whether a covariate tells trained and comparison people apart perfectly."""
        if self.part is None or self.randomised or self.people is None:
            return
        trained, comparison = self.groups("person")
        if not (count_rows(trained) and count_rows(comparison)):
            return
        people = self.people
        for col in [c for c in self.plan.comparison.covariates if c in people.columns]:
            sides = []
            for group in (trained, comparison):
                known = people.semi_join(group, people.person_id.cast("string") == group.unit_id)
                sides.append(known.filter(known[col].notnull())[col])
            numeric = people[col].type().is_numeric()
            split = _separation(sides[0], sides[1], numeric)
            if split is None:
                continue
            self.add(
                "error",
                "covariate-separates",
                f"Covariate {col!r} separates trained from comparison people completely "
                f"({split}): no comparison person resembles a trained one, so analyze finds "
                "no overlap and gives no estimate (evidence none).",
                f"Widen comparison.eligible to untrained people whose {col} is like the "
                f"trained people's, drop {col!r} from comparison.covariates if it does not "
                "affect the KPI, or randomise who is trained.",
            )

    # -- privacy -------------------------------------------------------------------

    def small_groups(self) -> None:
        if self.part is None or self.people is None:
            return
        people = self.people
        cols = [c for c in dict.fromkeys(["persona", *self.plan.segments]) if c in people.columns]
        ids = self.part.select(unit_id=self.part.person_id)
        members = people.semi_join(ids, people.person_id == ids.unit_id)
        for col in cols:
            known = members.filter(members[col].notnull())
            counts = known.group_by(col).aggregate(n=known.person_id.nunique())
            small = counts.filter(counts.n < self.threshold).order_by(col).execute()
            if small.empty:
                continue
            groups = ", ".join(f"{v} ({n})" for v, n in zip(small[col], small["n"], strict=True))
            self.add(
                "warning",
                "small-group",
                f"Among participants, {col} groups below {self.threshold} people: {groups}; "
                "they will be hidden from viewers.",
                f"Merge small {col} values, drop {col} from segments, or accept that "
                "viewers see those people only in totals.",
            )


def _separation(trained: ir.Column, comparison: ir.Column, numeric: bool) -> str | None:
    """How a covariate splits the groups without overlap, or None when they overlap.

    Numeric: one group's range lies strictly below the other's; otherwise the two
    groups share no value. A group with no known value does not count as separated.
    """
    if numeric:
        lo_t, hi_t, lo_c, hi_c = (
            x.execute() for x in (trained.min(), trained.max(), comparison.min(), comparison.max())
        )
        if any(pd.isna(v) for v in (lo_t, hi_t, lo_c, hi_c)) or not (hi_t < lo_c or hi_c < lo_t):
            return None
        return (
            f"trained {figure(float(lo_t))} to {figure(float(hi_t))}, "
            f"comparison {figure(float(lo_c))} to {figure(float(hi_c))}"
        )
    t_values = sorted(str(v) for v in trained.name("v").as_table().distinct().execute()["v"])
    c_values = sorted(str(v) for v in comparison.name("v").as_table().distinct().execute()["v"])
    if not t_values or not c_values or set(t_values) & set(c_values):
        return None
    return f"trained: {listing(t_values)}; comparison: {listing(c_values)}"


def check_plan(
    plan: ImpactPlan, tables: Mapping[str, ir.Table], *, min_group_size: int
) -> list[Finding]:
    """Lint ``plan`` against the store's ``people``, ``participation`` and ``kpis`` tables.

    Missing or empty tables are fine (an empty workspace): the data findings then
    say what is not imported yet. The privacy threshold is the larger of
    ``min_group_size`` (the workspace's) and the plan's own. Errors come first, then
    warnings, then infos, by code within each.

    Examples:
        >>> plan = ImpactPlan(program="p")
        >>> [f.code for f in check_plan(plan, {}, min_group_size=5)][:3]
        ['kpi-missing', 'no-people', 'objective-missing']
    """
    check = _DataCheck(plan, tables, max(min_group_size, plan.privacy.min_group_size))
    groups_ok = check.people_columns()
    check.participation()
    if groups_ok:
        check.comparison()
        check.small_groups()
        check.covariate_overlap()
    check.kpi_data(groups_ok)
    return sort_findings([*plan_alignment(plan), *check.findings])


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def format_findings(findings: Sequence[Finding]) -> Table:
    """The findings as a rich table for the terminal: severity, what is wrong, how to fix.

    A program column appears when the findings span several programs.

    Examples:
        >>> format_findings([]).row_count
        0
    """
    several = len({f.program for f in findings}) > 1
    table = Table(title="impactlens check", show_lines=True)
    table.add_column("severity", no_wrap=True)
    if several:
        table.add_column("program", no_wrap=True)
    table.add_column("what is wrong", ratio=1)
    table.add_column("how to fix it", ratio=1)
    for f in findings:
        program = [f.program] if several else []
        # Text, not markup: messages quote plan values such as "[new driver]".
        message = Text(f.message).append(f" ({f.code})", style="dim")
        severity = Text(f.severity, style=_STYLE[f.severity])
        table.add_row(severity, *map(Text, program), message, Text(f.fix))
    if not findings:
        table.caption = "No findings: the plan and the data are ready."
    return table
