"""Run the validation study: every scenario, many seeded draws, every applicable estimator.

Writes ``summary.md``, ``summary.csv`` (one row per scenario and estimator) and
``draws.csv`` (one row per draw and estimator) to ``--out``.

Run: .venv/bin/python -m bench.validation --reps 500 --jobs 2
 or: .venv/bin/python bench/validation/run.py --reps 500 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd
from bench.validation.scenarios import SCENARIOS
from bench.validation.study import markdown, run_one, summarise, synthetic_fits
from joblib import Parallel, delayed
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

ROOT = Path(__file__).resolve().parents[2]
BATCH = 10  # draws per task: fewer, larger tasks keep joblib's overhead small


def _batch(name: str, seeds: list[int]) -> list[dict[str, Any]]:
    # the study reports estimates; the estimators' warnings (e.g. moderndid's notes
    # about small cohorts) are already in their notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [row for seed in seeds for row in run_one(name, seed)]


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the draws in parallel with a progress bar, write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500, help="draws per scenario")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated scenario names"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "validation")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    synthetic = bool(synthetic_fits())
    seeds = list(range(args.first_seed, args.first_seed + args.reps))
    per = {n: seeds[: max(1, round(len(seeds) * SCENARIOS[n].reps_share))] for n in names}
    tasks = [(n, per[n][i : i + BATCH]) for n in names for i in range(0, len(per[n]), BATCH)]
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True)) as progress:
        bar = progress.add_task("draws", total=sum(len(s) for s in per.values()))
        results = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
            delayed(_batch)(n, s) for n, s in tasks
        )
        for batch in results:
            rows.extend(batch)
            progress.advance(bar, len({(r["scenario"], r["seed"]) for r in batch}))
    elapsed = time.perf_counter() - start
    rows.sort(key=lambda r: (names.index(r["scenario"]), r["seed"]))  # stable: estimator order kept
    order = {n: i for i, n in enumerate(names)}
    table = summarise(rows)
    table = table.sort_values("scenario", key=lambda c: c.map(order), kind="stable")
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "draws.csv", index=False)
    table.to_csv(args.out / "summary.csv", index=False)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    footer = (
        f"\n{args.reps} draws per scenario (seeds {seeds[0]}-{seeds[-1]}; fewer where `reps` "
        f"says so), {args.jobs} jobs, "
        f"{elapsed:.0f} s, load average {load}; synthetic control "
        f"{'included' if synthetic else 'not available'}.\n"
    )
    text = markdown(table) + footer
    (args.out / "summary.md").write_text(text)
    print(text)
    print(f"wrote {args.out / 'summary.md'}, summary.csv and draws.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
