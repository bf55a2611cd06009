"""Benchmark: a POSTed statement's checks and rows in one thread, compiled against source.

Encodes B batches of 100 statements (those of ``bench/lrs_post.py``), then times, per
statement and best of 5 rounds, each step the server runs for a JSON body before it
judges and journals it: parse (orjson), check (``check_statement``), rows
(``pending_row``), Arrow (``NewStatements.of``) and the whole ``prepare_json``. It runs
twice: as installed (the modules ``make compile`` compiles with mypyc, when compiled)
and, as the baseline, in a child process that loads those modules from their ``.py``
source; then prints the ratio of each step.

Run: .venv/bin/python bench/lrs_checks.py [--batches 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STEPS = ("parse", "check", "rows", "arrow", "whole")


def measure(batches: int) -> dict[str, Any]:
    """Microseconds per statement of each step, and whether the modules ran compiled."""
    sys.path.insert(0, str(HERE))
    from impactlens.domain.xapi import codec, validation
    from impactlens.domain.xapi.rows import pending_row
    from impactlens.services.lrs import authority
    from impactlens.services.lrs_batches import prepare_json
    from impactlens.store.lrs import Client
    from impactlens.store.lrs_sql import NewStatements
    from lrs_post import statement

    client = Client("bench", "bench", "all", "-")
    who = authority(client)
    bodies = [
        json.dumps([statement(b * 100 + i) for i in range(100)]).encode() for b in range(batches)
    ]
    parsed = [codec.loads(b) for b in bodies]
    checked = [[validation.check_statement(s) for s in p] for p in parsed]
    rows = [[pending_row(s, authority=who) for s in p] for p in checked]
    steps: dict[str, Callable[[], object]] = {
        "parse": lambda: [codec.loads(b) for b in bodies],
        "check": lambda: [[validation.check_statement(s) for s in p] for p in parsed],
        "rows": lambda: [[pending_row(s, authority=who) for s in p] for p in checked],
        "arrow": lambda: [NewStatements.of(r) for r in rows],
        "whole": lambda: [prepare_json(b, client=client) for b in bodies],
    }
    result: dict[str, Any] = {"compiled": not str(validation.__file__).endswith(".py")}
    for name, step in steps.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - start)
        result[name] = best / (batches * 100) * 1e6
    return result


def child(mode: str, batches: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--mode", mode, "--batches", str(batches)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5, help="alternated runs of each")
    parser.add_argument("--mode", choices=("installed", "source"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        if args.mode == "source":
            from impactlens.domain.xapi import use_source

            use_source()
        print(json.dumps(measure(args.batches)))
        return
    runs: dict[str, list[dict[str, Any]]] = {"installed": [], "source": []}
    for _ in range(args.rounds):
        for mode, found in runs.items():
            found.append(child(mode, args.batches))
    mine = {n: min(r[n] for r in runs["installed"]) for n in STEPS}
    base = {n: min(r[n] for r in runs["source"]) for n in STEPS}
    label = "compiled" if runs["installed"][0]["compiled"] else "installed (not compiled)"
    print(
        f"us per statement, {args.batches * 100:,} statements, best of 5 in each of "
        f"{args.rounds} alternated processes per side:"
    )
    print(f"  {'step':<6} {label:>10} {'source':>8} {'source / this':>14}")
    for name in STEPS:
        ratio = base[name] / mine[name]
        print(f"  {name:<6} {mine[name]:>10.1f} {base[name]:>8.1f} {ratio:>14.2f}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
