"""Build one KPI's tidy panel (cells + units) for the estimators.

Person KPIs use people as units; team KPIs (`unit: team`) use teams, trained when any
member meets the rung, from the earliest such start date (contract).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import ibis
import numpy as np
import pandas as pd

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import ImpactPlan, KpiSpec
from impactlens.estimators.base import KpiPanel
from impactlens.metrics.exposure import Roster


def program_seed(program: str) -> int:
    """A deterministic seed for a program's random procedures.

    Examples:
        >>> program_seed("p") == program_seed("p")
        True
    """
    return int(hashlib.sha256(program.encode()).hexdigest()[:8], 16)


def _covariate_frame(frame: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Numeric covariates as floats, categorical ones one-hot as ``col=value``."""
    out = pd.DataFrame(index=frame.index)
    for col in covariates:
        if col not in frame.columns:
            continue
        series = frame[col]
        numeric = pd.to_numeric(series, errors="coerce")
        if series.notna().sum() and numeric.notna().sum() == series.notna().sum():
            out[col] = numeric.fillna(numeric.mean()).astype(float)
        else:
            dummies = pd.get_dummies(series.astype("string"), prefix=col, prefix_sep="=")
            out = out.join(dummies.astype(float))
    return out


def _person_units(roster: Roster, covariates: list[str]) -> pd.DataFrame:
    p = roster.people
    treated = roster.trained.assign(group="treated")
    comparison = roster.comparison.assign(group="comparison")
    units = pd.concat([treated, comparison])
    if not roster.randomised:
        units.loc[units["group"] == "comparison", "start_date"] = pd.NaT
        units["trained_from"] = pd.NaT
    cluster = units["team_id"].astype("string") if "team_id" in p else units["person_id"]
    frame = pd.DataFrame(
        {
            "unit_id": units["person_id"].astype(str),
            "group": units["group"],
            "start_date": pd.to_datetime(units["start_date"]),
            "trained_from": pd.to_datetime(units["trained_from"]),
            "cluster": cluster.fillna(units["person_id"]).astype(str),
        }
    )
    return frame.join(_covariate_frame(units, covariates))


def _team_units(roster: Roster, covariates: list[str]) -> pd.DataFrame:
    p = roster.people[roster.people["team_id"].notna()].copy()
    p["team_id"] = p["team_id"].astype(str)
    g = p.groupby("team_id", sort=True)
    if roster.randomised:
        arms = p[p["arm"].notna()].groupby("team_id")["arm"].agg(lambda s: sorted(set(s)))
        mixed = arms[arms.map(len) > 1]
        if len(mixed):
            raise ImpactLensError(
                f"team {mixed.index[0]!r} has members in both arms; a team's arm is its "
                "members' arm, so mixed arms in one team are an error (fix the participation file)"
            )
        arm = arms.map(lambda a: a[0])
        members = p[p["arm"].notna()].groupby("team_id")
        start = members["start_date"].min()
        trained_from = members["trained_from"].min()
        group = arm.map({"treatment": "treated", "control": "comparison"})
        share = g["meets_rung"].mean().reindex(group.index)
    else:
        has_participant = g["participant"].any()
        trained_any = g["meets_rung"].any()
        eligible_any = g["eligible"].any()
        start = p[p["meets_rung"]].groupby("team_id")["start_date"].min()
        group = pd.Series(pd.NA, index=has_participant.index, dtype="object")
        group[trained_any] = "treated"
        group[~has_participant & eligible_any] = "comparison"
        group = group.dropna()
        trained_from = pd.Series(pd.NaT, index=group.index)
        share = g["meets_rung"].mean().reindex(group.index)
    frame = pd.DataFrame({"group": group})
    frame["start_date"] = pd.to_datetime(start.reindex(frame.index))
    frame.loc[(frame["group"] == "comparison") & (not roster.randomised), "start_date"] = pd.NaT
    frame["trained_from"] = pd.to_datetime(trained_from.reindex(frame.index))
    frame["share_trained"] = share.astype(float)
    # covariates are team aggregates: mean of numeric columns, share of each category
    member_cov = _covariate_frame(p, covariates)
    member_cov["team_id"] = p["team_id"]
    agg = member_cov.groupby("team_id").mean()
    frame = frame.join(agg)
    frame.index.name = "unit_id"
    frame = frame.reset_index()
    frame["cluster"] = frame["unit_id"]
    return frame


def build_panel(
    tables: Mapping[str, ibis.Table], plan: ImpactPlan, kpi: KpiSpec, roster: Roster
) -> KpiPanel:
    """The KPI panel of ``kpi`` for the roster's treated and comparison units."""
    covariates = list(plan.comparison.covariates)
    units = (
        _person_units(roster, covariates)
        if kpi.unit == "person"
        else _team_units(roster, covariates)
    )
    units = units.sort_values("unit_id").reset_index(drop=True)
    kt = tables["kpis"]
    grid = kt.filter(kt.kpi == kpi.id).select("period").distinct().order_by("period").to_pandas()
    periods = pd.to_datetime(grid["period"]).to_numpy()
    unit_ids = units["unit_id"].astype(str)
    ids = ibis.memtable(
        pd.DataFrame({"unit_id": unit_ids, "unit_index": np.arange(len(units), dtype=np.int64)})
    )
    # the store sends back integer unit positions, not millions of id strings
    cells_expr = (
        kt.filter(kt.kpi == kpi.id)
        .inner_join(ids, "unit_id")
        .select("unit_index", "period", "value", "weight")
        .order_by(["unit_index", "period"])
    )
    # Arrow columns straight to numpy: pandas' own conversion of 5M rows takes 3x longer
    arrow = cells_expr.to_pyarrow()

    def column(name: str) -> np.ndarray:
        return np.asarray(arrow.column(name).to_numpy(), dtype=float)

    weight = column("weight")
    cells = pd.DataFrame(
        {
            "unit_id": pd.Categorical.from_codes(
                np.asarray(arrow.column("unit_index").to_numpy(), dtype=np.int64),
                categories=unit_ids,
            ),
            "period": np.asarray(arrow.column("period").to_numpy(), dtype="datetime64[ns]"),
            "value": column("value"),
            "weight": np.where(np.isnan(weight), 1.0, weight),
        }
    )
    cells = cells[~np.isnan(cells["value"].to_numpy())]
    # first exposed period: the first KPI period whose end date is on or after start_date
    start = units["start_date"].to_numpy(dtype="datetime64[ns]")
    first = np.full(len(units), np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(periods):
        has = ~np.isnat(start)
        pos = np.searchsorted(periods, start[has], side="left")
        ok = pos < len(periods)
        vals = np.full(has.sum(), np.datetime64("NaT"), dtype="datetime64[ns]")
        vals[ok] = periods[pos[ok]]
        first[has] = vals
    units["first_period"] = first
    # a wait-listed control's periods from its trained_from date are dropped
    trained_from = units["trained_from"].to_numpy(dtype="datetime64[ns]")
    if (~np.isnat(trained_from)).any():
        cut = trained_from[cells["unit_id"].cat.codes.to_numpy()]
        period = cells["period"].to_numpy(dtype="datetime64[ns]")
        cells = cells[~(~np.isnat(cut) & (period >= cut))]
    cov_cols = [
        c
        for c in units.columns
        if c
        not in {
            "unit_id",
            "group",
            "start_date",
            "trained_from",
            "cluster",
            "first_period",
            "share_trained",
        }
    ]
    return KpiPanel(
        kpi=kpi.id,
        unit_kind=kpi.unit,
        cells=cells.reset_index(drop=True),
        units=units,
        covariates=tuple(cov_cols),
        randomised=roster.randomised,
        seed=program_seed(plan.program),
    )
