"""Synthetic DiD at scale: 50 sites x 100 periods, a few treated, placebo inference.

Run: ``.venv/bin/python bench/synthetic_scale.py [--treated 3] [--replications 200]``.
Prints the seconds of one ``SyntheticDiffInDiff().fit`` (200 placebo replications,
jackknife, the chart's path) beside the machine's load average, since figures taken
while other jobs run are pessimistic. The goal (issue 3): under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from impactlens.estimators.base import KpiPanel
from impactlens.estimators.synthetic import SyntheticDiffInDiff

EFFECT = 2.0


def site_panel(n_sites: int, n_periods: int, n_treated: int, seed: int = 0) -> KpiPanel:
    """Sites on two common factors; the first ``n_treated`` start at 80% of the window."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_periods)
    factors = np.cumsum(rng.normal(scale=0.3, size=(2, n_periods)), axis=1)
    load = rng.uniform(0, 2, size=(n_sites, 2))
    start = int(0.8 * n_periods)
    treated = np.arange(n_sites) < n_treated
    y = (
        rng.normal(scale=2, size=n_sites)[:, None]
        + load @ factors
        + EFFECT * (treated[:, None] & (t[None, :] >= start))
        + rng.normal(scale=0.5, size=(n_sites, n_periods))
    )
    ids = np.array([f"site{i:03d}" for i in range(n_sites)])
    periods = pd.Timestamp("2024-01-07") + pd.to_timedelta(7 * t, unit="D")
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat(ids, n_periods),
            "period": np.tile(periods, n_sites),
            "value": y.ravel(),
            "weight": 1.0,
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(treated, "treated", "comparison"),
            "first_period": [periods[start] if x else pd.NaT for x in treated],
            "cluster": ids,
        }
    )
    return KpiPanel("output", "team", cells, units, seed=seed)


def main() -> None:
    """Time one fit and print seconds, effect and load average."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--treated", type=int, default=3)
    parser.add_argument("--replications", type=int, default=200)
    args = parser.parse_args()
    panel = site_panel(args.sites, args.periods, args.treated)
    began = time.perf_counter()
    est = SyntheticDiffInDiff(replications=args.replications).fit(panel)
    seconds = time.perf_counter() - began
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"synthetic DiD {args.sites} sites x {args.periods} periods, {args.treated} treated, "
        f"{args.replications} placebo replications: {seconds:.2f} s "
        f"(load average {load}; goal < 10 s)"
    )
    print(
        f"effect {est.effect:+.3f} (truth {EFFECT:+.1f}), 95% CI {est.ci_low:+.3f} to "
        f"{est.ci_high:+.3f}, placebo SE {est.diagnostics['placebo_se']:.3f}, "
        f"jackknife SE {est.diagnostics['jackknife_se']}"
    )


if __name__ == "__main__":
    main()
