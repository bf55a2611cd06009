"""How fast ``import xapi`` could be with no checks at all: the store's floor beside the import.

``import xapi`` must read each line, store the statement as the LRS returns it (the
text with ``stored`` and ``authority`` added) beside its columns, and fill
``xapi_statement_refs``. This times that work alone, with no check of any kind and
the columns taken by one multi-path extract per line (no canonical IFIs, durations or
derived ids; the refs read back from the stored columns), into a fresh store in one
transaction: the rate no version of the checks can beat on this machine. Then the
real import of the same file into a fresh workspace, alternated ``--rounds`` times
in this process, and the ratio. The difference is what every check, derived column,
probe and conflict test may cost together. CPU time (all threads) is printed beside
the wall time: divided by the target's 10 us per statement, it is the number of cores
that rate would need. Last, the overhead a design that checks each repeating part of
the statements (actor, verb, object, context activities) once per distinct value could
not avoid: each part's text taken from every line and the verdicts joined back.

Run: .venv/bin/python bench/import_xapi_floor.py [--statements 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from impactlens.store.duckdb import DuckDBStore
from impactlens.store.xapi_fast import lines_table_sql
from import_xapi import write_statements

# one extract per line: every column the floor stores, by position
PATHS = [
    "$.id",
    "$.timestamp",
    "$.actor.mbox",
    "$.actor.account.homePage",
    "$.actor.account.name",
    "$.verb.id",
    "$.object.objectType",
    "$.object.id",
    "$.context.registration",
    "$.result.score.scaled",
    "$.result.score.raw",
    "$.result.score.min",
    "$.result.score.max",
    "$.result.success",
    "$.result.completion",
    "$.version",
]
AUTHORITY = '{"objectType":"Agent","account":{"homePage":"https://x.org","name":"bench"}}'


def timed(
    con: duckdb.DuckDBPyConnection,
    spent: dict[str, float],
    name: str,
    sql: str,
    params: list[object] | None = None,
) -> None:
    """Run ``sql``, adding its seconds to ``spent[name]``."""
    began = time.perf_counter()
    con.execute(sql, params or [])
    spent[name] = spent.get(name, 0.0) + time.perf_counter() - began


def floor(path: Path, folder: Path) -> dict[str, float]:
    """Seconds of each step of the check-free import of ``path`` into a fresh store."""
    store = DuckDBStore(folder / "floor.duckdb")
    con, spent = store._con, {}
    literal = "'" + str(path).replace("'", "''") + "'"
    paths = "[" + ", ".join(f"'{p}'" for p in PATHS) + "]"

    def step(name: str, sql: str, params: list[object] | None = None) -> None:
        timed(con, spent, name, sql, params)

    step("lines", lines_table_sql(literal, "_lines"))
    cols = (
        "(SELECT rowid + 1 AS seq, line, "
        f"json_extract_string(line, {paths}) AS v, "
        "json_extract_string(line, '$.context.contextActivities.*[*].id') AS ctx FROM _lines)"
    )
    con.execute("BEGIN")
    step(
        "statements",
        f"""INSERT INTO xapi_statements BY NAME SELECT seq, v[1] AS statement_id,
            $1::TIMESTAMP AS stored, coalesce(v[2]::TIMESTAMPTZ AT TIME ZONE 'UTC',
            $1::TIMESTAMP) AS timestamp,
            coalesce('mbox:' || v[3], 'account:' || v[4] || '|' || v[5]) AS actor_ifi,
            v[6] AS verb_id, coalesce(v[7], 'Activity') AS object_type, v[8] AS object_id,
            v[9] AS registration, false AS voided, v[10]::DOUBLE AS result_score_scaled,
            v[11]::DOUBLE AS result_score_raw, v[12]::DOUBLE AS result_score_min,
            v[13]::DOUBLE AS result_score_max, v[14]::BOOLEAN AS result_success,
            v[15]::BOOLEAN AS result_completion, to_json(ctx)::VARCHAR AS context_activities,
            coalesce(v[16], '1.0.0') AS version,
            '{{"stored":' || to_json($2::VARCHAR) || ',"authority":' || $3 || ','
                || ltrim(line, '{{') AS statement
        FROM {cols}""",
        [datetime(2026, 1, 1), "2026-01-01T00:00:00.000Z", AUTHORITY],
    )
    step(
        "refs",
        """INSERT INTO xapi_statement_refs BY NAME
        WITH s AS NOT MATERIALIZED (SELECT seq, actor_ifi, object_id, context_activities
            FROM xapi_statements)
        SELECT seq, 'agent' AS kind, actor_ifi AS ref, false AS related FROM s
        UNION ALL SELECT seq, 'agent', 'account:https://x.org|bench', true FROM s
        UNION ALL SELECT seq, 'activity', object_id, false FROM s
        UNION ALL SELECT seq, 'activity', unnest(json_extract_string(context_activities,
            '$[*]')), true FROM s""",
    )
    step("commit", "COMMIT")
    store.close()
    return spent


# the parts of a statement that repeat across a file, checked once per distinct value
PARTS = {
    "actor": "$.actor",
    "verb": "$.verb",
    "object": "$.object",
    "ca": "$.context.contextActivities",
}


def by_part(path: Path) -> dict[str, float]:
    """Seconds of what checking each repeating part once would add per statement.

    Each part's text taken from every line (with the values a per-statement check still
    needs: id, timestamp, result, registration, extensions), the distinct values of each
    part in a table of their own (where their checks would run), and those tables joined
    back to the statements by text, in memory. Not the import: the overhead that design
    could not avoid.
    """
    con, spent = duckdb.connect(), {}
    literal = "'" + str(path).replace("'", "''") + "'"
    per_row = ["$.id", "$.timestamp", "$.result", "$.context.registration", "$.context.extensions"]
    paths = [*PARTS.values(), *per_row]
    names = [*PARTS, "id", "ts", "result", "reg", "ext"]
    listed = "[" + ", ".join(f"'{p}'" for p in paths) + "]"

    def step(name: str, sql: str) -> None:
        timed(con, spent, name, sql)

    step("lines", lines_table_sql(literal, "_lines"))
    cols = ", ".join(f"x[{i}] AS {n}" for i, n in enumerate(names, start=1))
    step(
        "parts",
        f"CREATE TABLE _parts AS SELECT rowid + 1 AS ln, line, {cols} "
        f"FROM (SELECT rowid, line, json_extract(line, {listed}) AS x FROM _lines)",
    )
    for part in PARTS:
        step("distinct", f"CREATE TABLE _d_{part} AS SELECT DISTINCT {part} AS v FROM _parts")
    joins = " ".join(f"LEFT JOIN _d_{p} ON _parts.{p} = _d_{p}.v" for p in PARTS)
    seen = " AND ".join(f"_d_{p}.v IS NOT DISTINCT FROM _parts.{p}" for p in PARTS)
    step("join back", f"CREATE TABLE _joined AS SELECT ln, line, {seen} AS ok FROM _parts {joins}")
    con.close()
    return spent


def real(path: Path, folder: Path) -> float:
    """Seconds of ``import_data`` of ``path`` into a fresh workspace."""
    from impactlens.services.importing import import_data
    from impactlens.services.setup import init_workspace
    from impactlens.services.workspace import open_workspace

    init_workspace(folder / "ws", None)
    ws = open_workspace(folder / "ws")
    began = time.perf_counter()
    import_data(ws, "xapi", [path])
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    n = args.statements
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "statements.jsonl"
        write_statements(path, n)
        print(f"{n:,} statements, {path.stat().st_size / n:.0f} bytes each", flush=True)
        for r in range(1, args.rounds + 1):
            cpu = time.process_time()
            steps = floor(path, Path(tempfile.mkdtemp(dir=tmp)))
            cpu, total = time.process_time() - cpu, sum(steps.values())
            parts = ", ".join(f"{k} {v / n * 1e6:.1f}" for k, v in steps.items())
            print(
                f"round {r} floor:  {n / total:9,.0f}/s  {total / n * 1e6:5.1f} us "
                f"(CPU {cpu / n * 1e6:.1f} us; {parts})"
            )
            cpu = time.process_time()
            spent = real(path, Path(tempfile.mkdtemp(dir=tmp)))
            cpu = time.process_time() - cpu
            print(
                f"round {r} import: {n / spent:9,.0f}/s  {spent / n * 1e6:5.1f} us "
                f"(CPU {cpu / n * 1e6:.1f} us), {spent / total:.2f}x the floor",
                flush=True,
            )
        steps = by_part(path)
        parts = ", ".join(f"{k} {v / n * 1e6:.1f}" for k, v in steps.items())
        total = sum(steps.values())
        print(f"checks by distinct part, their overhead: {total / n * 1e6:.1f} us ({parts})")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
