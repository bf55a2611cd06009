"""``impactlens check``: lint an impact plan against the imported data before launch.

Misalignment is the first reason learning programs fail (Learning Ops), so the plan
is checked first (:func:`impactlens.domain.check.plan_alignment`); then the data, for
what attribution will need: KPI history before launch, an untrained comparison
group and enough people to see the target effect (methods.md, "Attribution").
Every data question is an Ibis expression, so the check runs on any store engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from statistics import NormalDist
from typing import Literal

import ibis
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
    target_is_improvement,
)
from impactlens.domain.plan import ImpactPlan, KpiSpec
from impactlens.estimators.evidence import MIN_UNITS
from impactlens.estimators.synthetic import (
    AUTO_MAX_TREATED,
    AUTO_MIN_COMPARISON,
    AUTO_MIN_PRE,
    MAX_COMPARISON,
)

MIN_PRE_PERIODS = 2
GAPS_WARN = 0.1  # share of missing unit-periods from which gaps are a warning, not an info
GOOD_PRE_PERIODS = 8
ALPHA, POWER = 0.05, 0.8
# Contract, "Who is trained": the rungs, and where dropped / exempt sit on them.
_RUNG = {"assigned": 0, "enrolled": 1, "completed": 2}
_STATUS_RUNG = {"assigned": 0, "enrolled": 1, "dropped": 1, "completed": 2, "exempt": 2}
_NOUN = {"person": "people", "team": "teams"}

UnitKind = Literal["person", "team"]


def _z() -> float:
    return NormalDist().inv_cdf(1 - ALPHA / 2) + NormalDist().inv_cdf(POWER)


def _mde(sd: float, r2: float, share: float, units: int) -> float:
    """Closed-form minimum detectable effect for units split ``share`` / ``1 - share``.

    Contract, ``pilot design``: (z(1-alpha/2) + z(power)) x sd x sqrt((1-r2) /
    (share(1-share) units)) (Bloom 1995); for team KPIs the ICC is 1 and the units
    are teams, which leaves the same formula.

    Examples:
        >>> round(_mde(1.0, 0.0, 0.5, 100), 3)
        0.56
    """
    return _z() * sd * math.sqrt((1 - r2) / (share * (1 - share) * units))


def _units_needed(sd: float, r2: float, share: float, delta: float) -> int:
    """Units at which the MDE equals ``delta``: the MDE formula solved for ``units``."""
    return math.ceil((_z() * sd / delta) ** 2 * (1 - r2) / (share * (1 - share)))


def _count(table: ir.Table) -> int:
    return int(table.count().execute())


def _values(table: ir.Table, column: str) -> list[str]:
    """The distinct non-null values of ``column``, as sorted strings."""
    known = table.filter(table[column].notnull()).select(column).distinct()
    return sorted(str(v) for v in known.execute()[column])


def _nonempty(table: ir.Table | None) -> ir.Table | None:
    return table if table is not None and _count(table) else None


class _DataCheck:
    """The data findings of one plan against one set of tables."""

    def __init__(self, plan: ImpactPlan, tables: Mapping[str, ir.Table], threshold: int) -> None:
        self.plan = plan
        self.threshold = threshold
        self.findings: list[Finding] = []
        self._groups: dict[str, tuple[ir.Table, ir.Table]] = {}
        self._sizes: dict[str, tuple[int, int]] = {}
        self.people = _nonempty(tables.get("people"))
        self.kpis = _nonempty(tables.get("kpis"))
        participation = _nonempty(tables.get("participation"))
        self.part: ir.Table | None = None
        if participation is not None:
            self.part = _nonempty(participation.filter(participation.program == plan.program))
        self.randomised = (
            self.part is not None
            and "arm" in self.part.columns
            and _count(self.part.filter(self.part.arm.notnull())) > 0
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
        found = _values(self.people, "persona")
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
            self._sizes[kind] = (_count(self.groups(kind)[0]), _count(self.groups(kind)[1]))
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
        elif not self.randomised and _count(self.at_rung()) == 0:
            self.add(
                "info",
                "nobody-trained-yet",
                f"{_count(self.part)} participation rows, none at the rung "
                f"{self.plan.participants.status!r} yet.",
                "Import updated statuses as people progress, or lower participants.status.",
            )

    def comparison(self) -> None:
        if self.part is None:
            return
        if self.randomised:
            if _count(self.part.filter(self.part.arm == "control")) == 0:
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
                f"Nobody eligible is left untrained: 0 comparison {_NOUN[kind]} against "
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
        outside = _count(trained.anti_join(ids, "unit_id"))
        if outside:
            self.add(
                "info",
                "trained-outside-eligible",
                f"{outside} trained people do not match comparison.eligible; they are still "
                "analysed, with a warning.",
                "Widen comparison.eligible to cover everyone who could have been trained.",
            )

    # -- KPI data ------------------------------------------------------------------

    def kpi_data(self, groups_ok: bool) -> None:
        first = None if self.part is None else self.part.start_date.min().execute()
        start: date | None = None if pd.isna(first) else pd.Timestamp(first).date()
        when = "so far" if start is None else f"before the first start date {start}"
        for k in self.plan.kpis:
            rows = None if self.kpis is None else self.kpis.filter(self.kpis.kpi == k.id)
            if rows is None or _count(rows) == 0:
                self._no_rows(k)
                continue
            pre = rows if start is None else rows.filter(rows.period < ibis.literal(start))
            n_pre = int(pre.period.nunique().execute())
            if n_pre < MIN_PRE_PERIODS:
                self.add(
                    "error",
                    "no-pre-period",
                    f"KPI {k.id!r} has {n_pre} period(s) of data {when}; at least "
                    f"{MIN_PRE_PERIODS} are needed to compare before and after "
                    f"({GOOD_PRE_PERIODS} or more recommended).",
                    f"Import {k.id!r} history for at least {MIN_PRE_PERIODS} (ideally "
                    f"{GOOD_PRE_PERIODS}) periods before {start or 'launch'}.",
                )
            elif n_pre < GOOD_PRE_PERIODS:
                self.add(
                    "warning",
                    "short-pre-period",
                    f"KPI {k.id!r} has only {n_pre} periods of data {when}; with fewer "
                    f"than {GOOD_PRE_PERIODS} the pre-trend check is weak.",
                    f"Import more {k.id!r} history: {GOOD_PRE_PERIODS} or more periods "
                    f"before {start or 'launch'}.",
                )
            if groups_ok:
                self._power(k, rows, pre)

    def _no_rows(self, k: KpiSpec) -> None:
        if self.kpis is None:
            message = f"KPI {k.id!r} has no rows: no KPI data imported yet."
        else:
            known = _values(self.kpis, "kpi")
            message = f"KPI {k.id!r} has no rows in the KPI data (it has: {listing(known)})."
        self.add(
            "error",
            "kpi-no-data",
            message,
            f"Import it (impactlens import kpis FILE with kpi = {k.id}, unit_id, period, "
            "value), or spell the plan's KPI id as the data does.",
        )

    def _power(self, k: KpiSpec, rows: ir.Table, pre: ir.Table) -> None:
        units = rows.select(unit_id=rows.unit_id.cast("string")).distinct()
        noun, counts = _NOUN[k.unit], {}
        sizes = self.group_sizes(k.unit)
        for label, group, n_all in zip(
            ("trained", "comparison"), self.groups(k.unit), sizes, strict=True
        ):
            n = _count(group.semi_join(units, "unit_id")) if n_all else 0
            counts[label] = n
            if n_all and not n:
                key = "person_id" if k.unit == "person" else "team_id"
                self.add(
                    "error",
                    "kpi-units-unmatched",
                    f"KPI {k.id!r} has rows for none of the {n_all} {label} {noun}.",
                    f"Use the people import's {key} as the KPI's unit_id (unit: {k.unit}).",
                )
        n_t, n_c = counts["trained"], counts["comparison"]
        self._hard_data(k, rows, pre, n_t, n_c)
        planned = self.part is None
        total = n_c if planned else n_t + n_c
        if not target_is_improvement(k) or total < 2 or (not planned and not (n_t and n_c)):
            return
        assert k.baseline is not None and k.target is not None
        share = 0.5 if planned else n_t / total
        sd, r2 = _spread(pre)
        delta = abs(k.target - k.baseline)
        if sd is None or _mde(sd, r2, share, total) <= delta:
            return
        needed = _units_needed(sd, r2, share, delta)
        split = (
            f"if half of {total} {noun} were trained"
            if planned
            else f"with {n_t} trained and {n_c} comparison {noun}"
        )
        self.add(
            "warning",
            "too-few-to-detect",
            f"KPI {k.id!r}: {split}, the smallest detectable effect (80% power, 5% level) "
            f"is {figure(_mde(sd, r2, share, total))} (SD {figure(sd)}, R² {r2:.2f}), but the "
            f"target asks for {figure(delta)}; about {needed} {noun} would be needed.",
            f"Bring about {needed} {noun} into the evaluation ({share:.0%} trained), widen "
            "comparison.eligible or pick a less noisy KPI; otherwise the analysis will run "
            "but is unlikely to show the target effect.",
        )

    # -- hard data: what analyze will not be able to answer --------------------------

    def _hard_data(self, k: KpiSpec, rows: ir.Table, pre: ir.Table, n_t: int, n_c: int) -> None:
        """Findings that predict an ``evidence: none`` result or a named limitation."""
        self._constant(k, rows, pre)
        self._gaps(k, rows)
        if self.part is not None and not self.randomised and n_t and n_c:
            self._few_units(k, pre, n_t, n_c)

    def _constant(self, k: KpiSpec, rows: ir.Table, pre: ir.Table) -> None:
        scopes: tuple[tuple[ir.Table, Severity, str], ...] = (
            (rows, "error", "a KPI that does not vary shows no effect, and analyze grades "
             "the evidence none (standard error 0)"),
            (pre, "warning", "there is no pre-period variation to compare trends or fit "
             "weights on"),
        )  # fmt: skip
        for table, severity, why in scopes:
            stats = table.aggregate(n=table.count(), lo=table.value.min(), hi=table.value.max())
            n, lo, hi = (stats.execute()[c].iloc[0] for c in ("n", "lo", "hi"))
            if int(n) < 2 or pd.isna(lo) or lo != hi:
                continue
            scope = "" if table is rows else " before launch"
            self.add(
                severity,
                "kpi-constant",
                f"KPI {k.id!r} is {figure(float(lo))} in all {int(n):,} rows{scope}: {why}.",
                f"Check the import of {k.id!r} (a column mapped wrongly, or a default "
                "value filled in for missing data), or pick a KPI that varies between "
                f"{_NOUN[k.unit]} and over time.",
            )
            return

    def _gaps(self, k: KpiSpec, rows: ir.Table) -> None:
        trained, comparison = self.groups(k.unit)
        ids = trained.union(comparison, distinct=True)
        mine = rows.semi_join(ids, rows.unit_id.cast("string") == ids.unit_id)
        per_unit = mine.group_by("unit_id").aggregate(n=mine.period.nunique())
        stats = per_unit.aggregate(units=per_unit.count(), obs=per_unit.n.sum()).execute()
        n_units, observed = int(stats["units"].iloc[0]), stats["obs"].iloc[0]
        n_periods = int(rows.period.nunique().execute())
        if not n_units or pd.isna(observed) or int(observed) >= n_units * n_periods:
            return
        cells = n_units * n_periods
        share = 1 - int(observed) / cells
        gappy = _count(per_unit.filter(per_unit.n < n_periods))
        noun = _NOUN[k.unit]
        message = (
            f"KPI {k.id!r} is missing {share:.0%} of its unit-periods "
            f"({cells - int(observed):,} of {cells:,}); {gappy} of {n_units} {noun} lack "
            "at least one period."
        )
        if self.plan.comparison.method == "staggered":
            self.add(
                "warning",
                "kpi-gaps",
                message + " comparison.method: staggered (Callaway & Sant'Anna) drops every "
                f"unit with a gap, so those {gappy} {noun} would be left out.",
                f"Import the missing periods of {k.id!r}, or use comparison.method: auto, "
                "whose weighted difference-in-differences keeps units with gaps.",
            )
            return
        self.add(
            "warning" if share >= GAPS_WARN else "info",
            "kpi-gaps",
            message + " The weighted difference-in-differences uses every observed cell, "
            "but a synthetic comparison leaves out comparison units with gaps.",
            f"Import the missing periods of {k.id!r} (zeros where zero is the true value).",
        )

    def _few_units(self, k: KpiSpec, pre: ir.Table, n_t: int, n_c: int) -> None:
        if n_t >= MIN_UNITS and n_c >= MIN_UNITS:
            return
        noun = _NOUN[k.unit]
        n_pre = int(pre.period.nunique().execute())
        message = (
            f"KPI {k.id!r}: {n_t} trained and {n_c} comparison {noun}; with fewer than "
            f"{MIN_UNITS} in a group analyze grades the evidence none whatever the estimate."
        )
        synthetic = (
            self.plan.comparison.method in ("auto", "synthetic")
            and 1 <= n_t <= AUTO_MAX_TREATED
            and AUTO_MIN_COMPARISON <= n_c <= MAX_COMPARISON
            and n_pre >= AUTO_MIN_PRE
        )
        if synthetic:
            message += (
                f" With so few trained {noun} and {n_pre} periods before the start it fits "
                f"synthetic difference-in-differences (a weighted blend of comparison {noun}) "
                "and reports the effect as indicative only."
            )
        self.add(
            "warning",
            "too-few-units",
            message,
            f"Bring at least {MIN_UNITS} {noun} into each group (train more, or widen "
            "comparison.eligible); if only a few can take part, randomise which ones "
            "(impactlens pilot design), or agree with the sponsor that the result is "
            "indicative.",
        )

    def covariate_overlap(self) -> None:
        """Whether a covariate tells trained and comparison people apart perfectly."""
        if self.part is None or self.randomised or self.people is None:
            return
        trained, comparison = self.groups("person")
        if not (_count(trained) and _count(comparison)):
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


def _spread(pre: ir.Table) -> tuple[float | None, float]:
    """SD of the pre-period cells and R², the share of variance between units.

    Difference-in-differences removes each unit's level, so R² is taken as the unit
    fixed effects' share: 1 - pooled within-unit variance / total variance.
    """
    dev = pre.value - pre.value.mean().over(ibis.window(group_by=pre.unit_id))
    with_dev = pre.mutate(dev=dev)
    stats = with_dev.aggregate(
        n=with_dev.count(),
        units=with_dev.unit_id.nunique(),
        var=with_dev.value.var(),
        ss=(with_dev.dev**2).sum(),
    ).execute()
    n, units, var, ss = (stats[c].iloc[0] for c in ("n", "units", "var", "ss"))
    if int(n) < 2 or pd.isna(var) or float(var) <= 0:
        return None, 0.0
    r2 = 1 - float(ss) / (int(n) - int(units)) / float(var) if n > units else 0.0
    return math.sqrt(float(var)), min(max(r2, 0.0), 0.99)


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
