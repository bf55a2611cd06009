"""Spillover and contamination: when the comparison group is not untouched.

Trained peers raise untrained colleagues' output (a call-centre field experiment:
+0.51% productivity per 10 points of trained peers; methods.md), so comparing
trained people with untrained people of the same teams biases the effect toward
zero. For person KPIs this module measures the share of trained peers in each
comparison person's team and, when enough comparison people sit in teams without
any trained member, refits the estimator against those alone (an across-team
comparison). It also finds comparison units that took part in *other* programs
aimed at the same KPI inside the study window, which contaminates the comparison
path the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.metrics.heterogeneity import sub_panel

MIN_CLEAN_UNITS = 5


class _Fits(Protocol):
    def fit(self, panel: KpiPanel) -> Estimate: ...


def trained_peer_share(panel: KpiPanel, people: pd.DataFrame, trained_ids: set[str]) -> pd.Series:
    """Each comparison person's share of trained colleagues in their team.

    The share is trained members / (team size - 1), counting every person of the
    team in ``people`` (the peers a person works beside, eligible or not). People
    without a team, or alone in it, get 0. Indexed by the comparison unit ids.
    """
    comp = panel.units.loc[panel.units["group"] == "comparison", "unit_id"].astype(str)
    if "team_id" not in people.columns:
        return pd.Series(0.0, index=comp.to_numpy(), dtype=float)
    p = people[["person_id", "team_id"]].assign(
        person_id=lambda f: f["person_id"].astype(str),
        trained=lambda f: f["person_id"].astype(str).isin(trained_ids),
    )
    teams = (
        p[p["team_id"].notna()]
        .groupby("team_id")
        .agg(size=("person_id", "size"), trained=("trained", "sum"))
    )
    team_of = p.set_index("person_id")["team_id"]
    team = comp.map(team_of)
    size = team.map(teams["size"]).astype(float).to_numpy()
    trained = team.map(teams["trained"]).astype(float).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(size > 1, trained / (size - 1), 0.0)
    return pd.Series(np.nan_to_num(share), index=comp.to_numpy(), dtype=float)


def spillover(
    panel: KpiPanel, people: pd.DataFrame, trained_ids: set[str], estimator: _Fits
) -> tuple[dict[str, Any] | None, list[str]]:
    """Trained-peer shares of the comparison people, the across-team estimate, warnings.

    Returns ``(None, [])`` for team KPIs (a team with a participant never serves as
    comparison) and when there are no comparison units.
    """
    if panel.unit_kind != "person" or panel.n("comparison") == 0:
        return None, []
    share = trained_peer_share(panel, people, trained_ids)
    exposed = share > 0
    out: dict[str, Any] = {
        "mean_trained_peer_share": round(float(share.mean()), 4),
        "comparison_with_trained_peers": int(exposed.sum()),
        "comparison_in_untrained_teams": int((~exposed).sum()),
        "across_team": None,
    }
    warnings: list[str] = []
    if not exposed.any():
        return out, warnings
    warnings.append(
        f"KPI {panel.kpi!r}: {int(exposed.sum())} of {len(share)} comparison people share a "
        f"team with trained colleagues (mean share of trained peers "
        f"{float(share.mean()):.0%}); within-team comparisons understate the effect when "
        "trained peers lift untrained colleagues (spillover)"
    )
    if int((~exposed).sum()) >= MIN_CLEAN_UNITS:
        clean = set(share.index[~exposed])
        units = panel.units
        keep = (units["group"] == "treated") | units["unit_id"].astype(str).isin(clean)
        est = estimator.fit(sub_panel(panel, keep.to_numpy(dtype=bool)))
        out["across_team"] = {
            "comparison": "comparison people in teams with no trained member",
            "effect": None if est.effect is None else round(est.effect, 6),
            "ci_low": None if est.ci_low is None else round(est.ci_low, 6),
            "ci_high": None if est.ci_high is None else round(est.ci_high, 6),
            "p_value": None if est.p_value is None else float(f"{est.p_value:.6g}"),
            "n_treated": est.n_treated,
            "n_comparison": est.n_comparison,
        }
    return out, warnings


def other_program_overlap(
    panel: KpiPanel,
    people: pd.DataFrame,
    others: pd.DataFrame,
    programs: Sequence[str],
) -> list[str]:
    """Warnings for comparison units in other programs aimed at the same KPI, in the window.

    ``others`` holds participation rows (person_id, program, start_date) of the
    ``programs`` whose plans name this KPI. A row overlaps when its start date falls
    inside the panel's periods: a program started before the window shifts a level
    that differencing removes, one started inside it moves the comparison path.
    Team KPIs map people to their team.
    """
    if not len(others) or not len(programs) or not len(panel.cells):
        return []
    periods = panel.periods
    lo, hi = pd.Timestamp(periods.min()), pd.Timestamp(periods.max())
    rows = others[others["program"].isin(programs)].copy()
    start = pd.to_datetime(rows["start_date"])
    rows = rows[(start >= lo) & (start <= hi)]
    comp = set(panel.units.loc[panel.units["group"] == "comparison", "unit_id"].astype(str))
    ids = rows["person_id"].astype(str)
    if panel.unit_kind == "team" and "team_id" in people.columns:
        team_of = people.set_index(people["person_id"].astype(str))["team_id"].astype("string")
        ids = ids.map(team_of)
    rows = rows.assign(unit=ids.to_numpy())
    rows = rows[rows["unit"].isin(comp)]
    warnings = []
    noun = "people" if panel.unit_kind == "person" else "teams"
    for program, group in rows.groupby("program", sort=True):
        n = group["unit"].nunique()
        warnings.append(
            f"KPI {panel.kpi!r}: {n} comparison {noun} took part in the program "
            f"{program!r}, whose plan names the same KPI, between {lo.date()} and {hi.date()}; "
            "if that program works, it lifts the comparison path and biases this effect "
            "toward zero"
        )
    return warnings
