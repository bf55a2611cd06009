"""Fit every applicable estimator to one draw, and summarise many draws.

Per (scenario, estimator) the summary reports bias (mean estimate - truth) with its
Monte-Carlo standard error, RMSE, the share of 95% intervals covering the truth, the
mean interval width, and how many draws gave no estimate; ``auto`` is whatever
``choose(panel, "auto")`` picks, and the table names it.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from bench.validation.scenarios import SCENARIOS, Draw, draw

from impactlens.estimators.base import Estimate, KpiPanel
from impactlens.estimators.before_after import BeforeAfter
from impactlens.estimators.matched_did import WeightedDiffInDiff
from impactlens.estimators.naive import NaiveDifference
from impactlens.estimators.randomised import RandomisedAncova
from impactlens.estimators.registry import choose
from impactlens.estimators.staggered import CallawaySantAnna
from impactlens.estimators.twfe import TwoWayFixedEffects

Fit = Callable[[KpiPanel], Estimate]

OBSERVATIONAL: dict[str, Fit] = {
    "naive": NaiveDifference().fit,
    "TWFE": TwoWayFixedEffects().fit,
    "weighted DiD": WeightedDiffInDiff().fit,
    "Callaway-Sant'Anna": CallawaySantAnna().fit,
    "trend projection": BeforeAfter().fit,
}
RANDOMISED: dict[str, Fit] = {
    "naive": NaiveDifference().fit,
    "TWFE": TwoWayFixedEffects().fit,
    "randomised ANCOVA": RandomisedAncova().fit,
    "trend projection": BeforeAfter().fit,
}
# The estimator classes' labels in the study's tables, to name what auto picked.
LABELS = {
    "WeightedDiffInDiff": "weighted DiD",
    "CallawaySantAnna": "Callaway-Sant'Anna",
    "RandomisedAncova": "randomised ANCOVA",
    "BeforeAfter": "trend projection",
    "SyntheticDiffInDiff": "synthetic DiD",
    "SyntheticControl": "synthetic control",
}


def synthetic_fits() -> dict[str, Fit]:
    """Synthetic DiD and synthetic control, when estimators/synthetic.py exists."""
    try:
        module = importlib.import_module("impactlens.estimators.synthetic")
    except ImportError:
        return {}
    names = {"synthetic DiD": "SyntheticDiffInDiff", "synthetic control": "SyntheticControl"}
    return {
        label: getattr(module, cls)().fit for label, cls in names.items() if hasattr(module, cls)
    }


def estimators_for(name: str) -> dict[str, Fit]:
    """The estimators that apply to scenario ``name``.

    Synthetic methods apply to a few trained units with long series (the few-sites
    scenario); with hundreds of trained units they are neither meant nor fast.
    """
    s = SCENARIOS[name]
    fits = dict(RANDOMISED if s.randomised else OBSERVATIONAL)
    if s.n_treated is not None:
        fits |= synthetic_fits()
    return fits


def across_teams(d: Draw) -> KpiPanel:
    """The panel with only comparison units from teams without a trained member."""
    assert d.clean_comparison is not None
    units = d.panel.units
    keep = (units["group"] == "treated").to_numpy() | d.clean_comparison
    ids = set(units.loc[keep, "unit_id"])
    cells = d.panel.cells[d.panel.cells["unit_id"].isin(ids)].reset_index(drop=True)
    return replace(d.panel, units=units[keep].reset_index(drop=True), cells=cells)


def run_one(name: str, seed: int) -> list[dict[str, Any]]:
    """Draw scenario ``name`` with ``seed`` and fit every applicable estimator."""
    d = draw(SCENARIOS[name], seed)
    fits = estimators_for(name)
    rows: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    for label, fit in fits.items():
        results[label] = _row(name, seed, label, d.truth, fit, d.panel)
    if d.clean_comparison is not None:
        label = "weighted DiD, across teams"
        results[label] = _row(name, seed, label, d.truth, WeightedDiffInDiff().fit, across_teams(d))
    picked, _why = choose(d.panel, "auto")
    pick = LABELS.get(type(picked).__name__, type(picked).__name__)
    auto = results.get(pick) or _row(name, seed, pick, d.truth, picked.fit, d.panel)
    results["auto"] = auto | {"estimator": "auto", "picks": pick}
    rows.extend(results.values())
    return rows


def _row(
    name: str, seed: int, label: str, truth: float, fit: Fit, panel: KpiPanel
) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        est = fit(panel)
    except Exception as err:  # an estimator in progress must not stop the whole study
        return {
            "scenario": name,
            "seed": seed,
            "estimator": label,
            "truth": truth,
            "effect": None,
            "ci_low": None,
            "ci_high": None,
            "seconds": time.perf_counter() - start,
            "picks": "",
            "note": f"error: {type(err).__name__}: {err}"[:200],
        }
    return {
        "scenario": name,
        "seed": seed,
        "estimator": label,
        "truth": truth,
        "effect": est.effect,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "seconds": time.perf_counter() - start,
        "picks": "",
        "note": "" if est.effect is not None else "; ".join(est.notes)[:200],
    }


def summarise(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (scenario, estimator): reps, bias, its MC s.e., RMSE, coverage, width."""
    frame = pd.DataFrame(rows)
    out = []
    for (scenario, label), g in frame.groupby(["scenario", "estimator"], sort=False):
        ok = g[g["effect"].notna()]
        err = (ok["effect"] - ok["truth"]).to_numpy(dtype=float)
        has_ci = ok[ok["ci_low"].notna() & ok["ci_high"].notna()]
        covered = (has_ci["ci_low"] <= has_ci["truth"]) & (has_ci["truth"] <= has_ci["ci_high"])
        picks = g["picks"][g["picks"] != ""]
        out.append(
            {
                "scenario": scenario,
                "estimator": label if label != "auto" else f"auto ({_mode(picks)})",
                "reps": len(g),
                "no_estimate": int(g["effect"].isna().sum()),
                "truth": float(g["truth"].mean()),
                "bias": float(err.mean()) if len(err) else np.nan,
                "bias_se": float(err.std(ddof=1) / np.sqrt(len(err))) if len(err) > 1 else np.nan,
                "rmse": float(np.sqrt((err**2).mean())) if len(err) else np.nan,
                "coverage": float(covered.mean()) if len(has_ci) else np.nan,
                "width": float((has_ci["ci_high"] - has_ci["ci_low"]).mean())
                if len(has_ci)
                else np.nan,
                "seconds": float(g["seconds"].mean()),
            }
        )
    return pd.DataFrame(out)


def _mode(picks: pd.Series) -> str:
    if picks.empty:
        return "?"
    counts = picks.value_counts()
    top = str(counts.index[0])
    return top if len(counts) == 1 else f"{top} in {counts.iloc[0]} of {len(picks)}"


def markdown(table: pd.DataFrame) -> str:
    """The summary as a Markdown table, scenario by scenario."""
    head = (
        "| scenario | estimator | reps | truth | bias (MC s.e.) | RMSE | coverage | "
        "mean width | no estimate | s / fit |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    lines = []
    for r in table.itertuples():
        cov = "n/a" if pd.isna(r.coverage) else f"{r.coverage:.1%}"
        width = "n/a" if pd.isna(r.width) else f"{r.width:.3f}"
        bias = "n/a" if pd.isna(r.bias) else f"{r.bias:+.3f} ({r.bias_se:.3f})"
        rmse = "n/a" if pd.isna(r.rmse) else f"{r.rmse:.3f}"
        lines.append(
            f"| {r.scenario} | {r.estimator} | {r.reps} | {r.truth:.3f} | {bias} | {rmse} | "
            f"{cov} | {width} | {r.no_estimate} | {r.seconds:.2f} |"
        )
    return head + "\n".join(lines) + "\n"
