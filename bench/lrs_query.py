"""Benchmark: GET /xapi/statements with agent + verb over 1,000,000 statements (goal: p95 < 100 ms).

Writes N statements straight into a fresh workspace's store in SQL (the rows and
references the LRS itself writes: actor, verb, activity, authority), starts
``impactlens serve`` on 127.0.0.1 and times R GETs, each for a random learner and verb,
over one keep-alive httpx client; then R unfiltered first pages and R ``more`` pages.
Figures taken while other work runs are pessimistic: the load average is printed.

With ``--store postgresql://...`` (an empty database) the statements are generated in an
in-memory DuckDB and copied into PostgreSQL with the LRS's indexes in place.

Run: .venv/bin/python bench/lrs_query.py [--statements 1000000] [--requests 200] [--store URL]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.lrs import create_client
from impactlens.services.workspace import Workspace
from impactlens.store.duckdb import DuckDBStore
from impactlens.store.postgres import PostgresStore
from lrs_post import VERBS, free_port, serve

LEARNERS = 20_000
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://bench", "name": "bench"}}


def fill(ws: Workspace, n: int) -> None:
    """N statements and their references, written in SQL (seconds, not minutes)."""
    verbs = "[" + ", ".join(f"'{v}'" for v in VERBS) + "]"
    generate = f"""
        CREATE TEMP TABLE g AS SELECT i AS seq, uuid()::VARCHAR AS id,
            TIMESTAMP '2024-01-01' + to_seconds(i) AS stored,
            'mailto:learner' || (i % {LEARNERS}) || '@example.com' AS mbox,
            {verbs}[(i % 3) + 1] AS verb, 'http://example.com/course/' || (i % 40) AS act
        FROM range(1, {n} + 1) t(i)
        """
    statements = f"""
        SELECT seq, id AS statement_id, stored, stored AS timestamp, 'mbox:' || mbox AS actor_ifi,
            verb AS verb_id, 'Activity' AS object_type, act AS object_id, false AS voided,
            '[]' AS context_activities, '1.0.0' AS version,
            json_object('id', id, 'actor', json_object('mbox', mbox),
                'verb', json_object('id', verb), 'object', json_object('id', act),
                'stored', strftime(stored, '%Y-%m-%dT%H:%M:%S.000Z'),
                'timestamp', strftime(stored, '%Y-%m-%dT%H:%M:%S.000Z'),
                'authority', '{json.dumps(AUTHORITY)}'::JSON, 'version', '1.0.0')::VARCHAR
                AS statement
        FROM g ORDER BY seq
        """
    refs = """
        SELECT seq, 'agent' AS kind, 'mbox:' || mbox AS ref, false AS related FROM g
        UNION ALL SELECT seq, 'activity', act, false FROM g
        UNION ALL SELECT seq, 'agent', 'account:https://bench|bench', true FROM g
        """
    with ws.store() as store:
        if isinstance(store, PostgresStore):
            con = duckdb.connect()
            con.execute(generate)
            store.copy_arrow("xapi_statements", con.execute(statements).to_arrow_reader(100_000))
            store.copy_arrow("xapi_statement_refs", con.execute(refs).to_arrow_reader(100_000))
            store._pg.execute("ANALYZE xapi_statements")
            store._pg.execute("ANALYZE xapi_statement_refs")
            return
        assert isinstance(store, DuckDBStore)
        con = store._con
        con.execute(generate)
        con.execute(f"INSERT INTO xapi_statements BY NAME {statements}")
        con.execute(f"INSERT INTO xapi_statement_refs BY NAME {refs}")


def p95(times: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--store", default=None, help="an empty PostgreSQL database's URL")
    args = parser.parse_args()
    settings = WorkspaceSettings(store=args.store) if args.store else None
    ws = Workspace.create(Path(tempfile.mkdtemp()) / "ws", settings)
    start = time.perf_counter()
    fill(ws, args.statements)
    print(f"filled {args.statements:,} statements in {time.perf_counter() - start:.1f} s")
    new = create_client(ws, "bench", "read")
    token = base64.b64encode(f"{new.key}:{new.secret}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}
    port = free_port()
    proc = serve(ws.path, port)
    rng = random.Random(7)
    results: dict[str, list[float]] = {"agent+verb": [], "first page": [], "more page": []}
    found = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as h:
            h.get("/xapi/statements", params={"limit": "1"})  # warm up
            for _ in range(args.requests):
                agent = json.dumps({"mbox": f"mailto:learner{rng.randrange(LEARNERS)}@example.com"})
                params = {"agent": agent, "verb": rng.choice(VERBS)}
                t = time.perf_counter()
                page = h.get("/xapi/statements", params=params)
                results["agent+verb"].append(time.perf_counter() - t)
                assert page.status_code == 200, page.text
                found.append(len(page.json()["statements"]))
                t = time.perf_counter()
                first = h.get("/xapi/statements", params={"limit": "100"})
                results["first page"].append(time.perf_counter() - t)
                t = time.perf_counter()
                h.get(first.json()["more"])
                results["more page"].append(time.perf_counter() - t)
    finally:
        proc.terminate()
        proc.wait()
    for name, times in results.items():
        print(
            f"{name:>11}: median {statistics.median(times) * 1000:.1f} ms, "
            f"p95 {p95(times) * 1000:.1f} ms over {len(times)} requests"
        )
    print(f"agent+verb pages held {statistics.mean(found):.1f} statements on average; "
          f"load average {os.getloadavg()}")  # fmt: skip


if __name__ == "__main__":
    main()
