"""Ablation: weight on the pre-period KPI level, or not, on the demo's observational programs.

Prints, per seed and program, the weighted DiD with and without the pre-period KPI mean in
the propensity model, against the planted truth, and the mean bias of each variant.

Run: .venv/bin/python bench/demo_pre_kpi_ablation.py --seeds 1-6
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

PROGRAMS = ("customer-care-excellence", "presentation-masterclass")


def one_seed(seed: int) -> list[dict[str, Any]]:
    """Both variants on one seed's demo organisation."""
    from impactlens.estimators.matched_did import WeightedDiffInDiff
    from impactlens.metrics.exposure import build_roster
    from impactlens.metrics.panel import build_panel
    from impactlens.services.analysis import TABLES
    from impactlens.services.demo import IMPORT_ORDER
    from impactlens.services.demo_data import generate_demo
    from impactlens.services.importing import import_data
    from impactlens.services.workspace import Workspace

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "demo"
        d.mkdir()
        files = generate_demo(d, seed=seed)
        ws = Workspace.create(d)
        for kind in IMPORT_ORDER:
            if files.files.get(kind):
                import_data(ws, kind, files.files[kind])
        truth = json.loads((d / "truth.json").read_text())
        with ws.store(read_only=True) as store:
            tables = {n: store.table(n) for n in TABLES}
            for program in PROGRAMS:
                plan, _ = ws.plan(program)
                kpi = plan.kpis[0]
                panel = build_panel(tables, plan, kpi, build_roster(tables, plan))
                for on_pre in (True, False):
                    e = WeightedDiffInDiff(match_on_pre_kpi=on_pre).fit(panel)
                    t = truth[program][kpi.id]
                    out.append(
                        {
                            "seed": seed,
                            "program": program,
                            "pre_kpi_in_model": on_pre,
                            "truth": t,
                            "effect": e.effect,
                            "bias": (e.effect or 0) - t,
                            "covered": bool(e.ci_low <= t <= e.ci_high),
                        }
                    )
    return out


def main() -> None:
    """Run the seeds and print rows plus the mean bias per (program, variant)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-6")
    args = ap.parse_args()
    a, b = (int(x) for x in args.seeds.split("-"))
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(2) as pool:
        for seed_rows in pool.map(one_seed, range(a, b + 1)):
            for r in seed_rows:
                print(
                    f"seed {r['seed']:>2} {r['program']:<26} pre-KPI in model "
                    f"{r['pre_kpi_in_model']!s:<5} effect {r['effect']:+.3f} truth "
                    f"{r['truth']:+.3f} bias {r['bias']:+.3f}",
                    flush=True,
                )
            rows += seed_rows
    for program in PROGRAMS:
        for on_pre in (True, False):
            sel = [r for r in rows if r["program"] == program and r["pre_kpi_in_model"] == on_pre]
            bias = sum(r["bias"] for r in sel) / len(sel)
            cov = sum(r["covered"] for r in sel) / len(sel)
            print(
                f"{program:<26} pre-KPI in model {on_pre!s:<5} mean bias {bias:+.3f} "
                f"coverage {cov:.0%} ({len(sel)} seeds)"
            )


if __name__ == "__main__":
    main()
