"""The KPI-data part of ``impactlens check``: history before launch, power, hard data.

:class:`KpiDataChecks` is mixed into the plan check's data check
(:mod:`impactlens.services.plan_check`), which supplies the tables, the trained and
comparison groups and ``add``. Every question is an Ibis expression.
"""

from __future__ import annotations

import math
from datetime import date
from statistics import NormalDist
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from impactlens.domain.check import Severity, figure, listing, target_is_improvement
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
NOUN = {"person": "people", "team": "teams"}

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


def count_rows(table: ir.Table) -> int:
    return int(table.count().execute())


def distinct_values(table: ir.Table, column: str) -> list[str]:
    """The distinct non-null values of ``column``, as sorted strings."""
    known = table.filter(table[column].notnull()).select(column).distinct()
    return sorted(str(v) for v in known.execute()[column])


def nonempty(table: ir.Table | None) -> ir.Table | None:
    return table if table is not None and count_rows(table) else None


class KpiDataChecks:
    """The KPI-data findings; the data check that mixes this in provides what is declared."""

    plan: ImpactPlan
    kpis: ir.Table | None
    part: ir.Table | None
    randomised: bool

    def add(self, severity: Severity, code: str, message: str, fix: str) -> None:
        raise NotImplementedError

    def groups(self, kind: UnitKind) -> tuple[ir.Table, ir.Table]:
        raise NotImplementedError

    def group_sizes(self, kind: UnitKind) -> tuple[int, int]:
        raise NotImplementedError

    # -- KPI data ------------------------------------------------------------------

    def kpi_data(self, groups_ok: bool) -> None:
        first = None if self.part is None else self.part.start_date.min().execute()
        start: date | None = None if pd.isna(first) else pd.Timestamp(first).date()
        when = "so far" if start is None else f"before the first start date {start}"
        for k in self.plan.kpis:
            rows = None if self.kpis is None else self.kpis.filter(self.kpis.kpi == k.id)
            if rows is None or count_rows(rows) == 0:
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
            known = distinct_values(self.kpis, "kpi")
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
        noun, counts = NOUN[k.unit], {}
        sizes = self.group_sizes(k.unit)
        for label, group, n_all in zip(
            ("trained", "comparison"), self.groups(k.unit), sizes, strict=True
        ):
            n = count_rows(group.semi_join(units, "unit_id")) if n_all else 0
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
                f"{NOUN[k.unit]} and over time.",
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
        gappy = count_rows(per_unit.filter(per_unit.n < n_periods))
        noun = NOUN[k.unit]
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
        noun = NOUN[k.unit]
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
