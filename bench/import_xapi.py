"""Benchmark ``impactlens import xapi``: statements/s next to raw DuckDB's parse rate.

Generates realistic statements (cmi5 and ADL verbs, results, context activities,
registrations, accounts and mboxes), imports them into a fresh workspace store, and
prints the import rate beside the rate at which DuckDB alone parses the same file in
the same process (their ratio), with the peak RSS and the load average.

With ``--interactions P`` a share P (0-1) of the statements are "answered" statements
whose activity is a choice interaction (``interactionType``, ``choices``,
``correctResponsesPattern``), as quiz exports have.

    .venv/bin/python bench/import_xapi.py --statements 1000000 [--interactions 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ADL = "http://adlnet.gov/expapi/verbs/"
CMI5 = "https://w3id.org/xapi/adl/verbs/"
VERBS = [
    ADL + "launched",
    ADL + "initialized",
    ADL + "experienced",
    ADL + "answered",
    ADL + "completed",
    ADL + "passed",
    ADL + "failed",
    ADL + "terminated",
    CMI5 + "satisfied",
]


def statement(rng: random.Random, i: int, start: datetime) -> dict[str, object]:
    """One statement of learner ``i % 5000`` on one of 40 activities."""
    learner = i % 5000
    if learner % 3 == 0:
        actor: dict[str, object] = {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example.com", "name": f"u{learner:05d}"},
        }
    else:
        actor = {"objectType": "Agent", "mbox": f"mailto:learner{learner}@example.com"}
    actor["name"] = f"Learner {learner}"
    verb = rng.choice(VERBS)
    course = rng.randrange(40)
    stmt: dict[str, object] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
        "object": {
            "objectType": "Activity",
            "id": f"https://courses.example.com/au/{course}",
            "definition": {
                "name": {"en-US": f"Course {course}"},
                "type": "https://w3id.org/xapi/cmi5/activitytype/course",
            },
        },
        "timestamp": (start + timedelta(seconds=37 * i)).isoformat().replace("+00:00", "Z"),
        "context": {
            "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "platform": "ExampleLMS",
            "contextActivities": {
                "grouping": [{"id": f"https://courses.example.com/program/{course % 4}"}],
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
            },
            "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": str(i)},
        },
    }
    if verb.endswith(("passed", "failed", "completed", "answered", "terminated")):
        raw = rng.randint(0, 100)
        stmt["result"] = {
            "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
            "success": verb.endswith("passed") or raw >= 50,
            "completion": not verb.endswith("answered"),
            "duration": f"PT{rng.randint(1, 90)}M{rng.randint(0, 59)}S",
        }
    return stmt


def with_interaction(stmt: dict[str, object], rng: random.Random) -> dict[str, object]:
    """``stmt`` as the answer to a choice question (an interaction definition)."""
    obj = stmt["object"]
    assert isinstance(obj, dict)
    question = rng.randrange(200)
    obj["id"] = f"https://courses.example.com/question/{question}"
    obj["definition"] = {
        "name": {"en-US": f"Question {question}"},
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "interactionType": "choice",
        "correctResponsesPattern": ["b"],
        "choices": [{"id": c, "description": {"en-US": c.upper()}} for c in "abcd"],
    }
    stmt["verb"] = {"id": ADL + "answered", "display": {"en-US": "answered"}}
    stmt["result"] = {"success": rng.random() < 0.6, "response": rng.choice("abcd")}
    return stmt


def write_statements(path: Path, n: int, seed: int = 7, interactions: float = 0.0) -> None:
    """Write ``n`` statements as JSON Lines (a share ``interactions`` of them answers)."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            stmt = statement(rng, i, start)
            if interactions and rng.random() < interactions:
                stmt = with_interaction(stmt, rng)
            fh.write(json.dumps(stmt, separators=(",", ":")) + "\n")


def main() -> None:
    """Generate, import, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument(
        "--interactions", type=float, default=0.0, help="share of choice-question answers"
    )
    args = parser.parse_args()

    import duckdb

    from impactlens.services.importing import import_data
    from impactlens.services.setup import init_workspace
    from impactlens.services.workspace import open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "statements.jsonl"
        began = time.perf_counter()
        write_statements(data, args.statements, interactions=args.interactions)
        print(f"generated {args.statements:,} statements in {time.perf_counter() - began:.1f} s")
        con = duckdb.connect()
        began = time.perf_counter()
        con.execute(
            "SELECT count(*), count(DISTINCT json_extract_string(json, '$.id')) "
            f"FROM read_ndjson_objects('{data}')"
        ).fetchall()
        raw_s = time.perf_counter() - began
        con.close()
        init_workspace(Path(tmp) / "ws", None)
        ws = open_workspace(Path(tmp) / "ws")
        load_before = os.getloadavg()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        summary = import_data(ws, "xapi", [data])
        import_s = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        assert summary.inserted == args.statements, summary
        rate, raw = args.statements / import_s, args.statements / raw_s
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"raw DuckDB parse: {raw:,.0f} statements/s ({raw_s:.2f} s)")
        print(
            f"import xapi:      {rate:,.0f} statements/s ({import_s:.2f} s), ratio {rate / raw:.2f}"
        )
        # CPU time is steadier than wall time on a shared machine
        print(f"CPU {cpu_s * 1e6 / args.statements:.1f} us per statement (all threads)")
        print(f"peak RSS {peak:,.0f} MB; load average {load_before} -> {os.getloadavg()}")


if __name__ == "__main__":
    main()
