"""Bulk xAPI statements in DuckDB: parse a file columnar, check it in SQL, write it.

A JSON Lines file is read as lines of text (on every thread, in file order) and each
line parsed into the columns ``xapi_statements`` needs and one ``bad`` flag (every check
of :mod:`impactlens.store.xapi_checks` in that scan, :mod:`impactlens.store.xapi_fast`),
the text kept beside them, and a count of the keys those checks answer for, which
:func:`unvouched` compares with the statement's own; a file the lines cannot take (a
JSON array, blank lines, a part of an unexpected shape) is read by DuckDB's typed JSON
reader instead, and the write reads its text again. The messages are built only for
the first failing statements. The write stores the text as read (no re-serialising),
continues ``seq`` (for a file of new ids straight from the line order, without a
window), fills ``xapi_statement_refs`` with UNNEST and applies voiding.

On PostgreSQL the file is parsed and checked the same way in the store's staging
DuckDB (same SQL, same messages); the stored statements with the file's ids are
brought over for the conflict checks, and the new rows cross over through ``COPY``,
all under the LRS write lock so ``seq`` stays one sequence with concurrent servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from impactlens.store.base import Store
from impactlens.store.lrs import lrs_for
from impactlens.store.postgres_lrs import lock_writes
from impactlens.store.schema import TABLES
from impactlens.store.xapi_checks import CHECKS, NULL_CHECKS, line_key_count, vouched_sql
from impactlens.store.xapi_fast import keys_sql, lines_sql, lines_table_sql, narrow_sql, probe_sql
from impactlens.store.xapi_stage import WRITTEN, stage_sql, typed_source

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
_ARROW = {
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}
STAGE = "_xapi_stage"
# told the name of each long step as it begins (for a progress bar: query_progress.py)
Step = Callable[[str], None]


def no_step(name: str) -> None:
    """No progress to tell."""


# DuckDB scans a table on one thread per row group of 122,880 rows: a file of one row
# group's lines gains nothing from the lines path, which then costs more than the typed
# reader (100,000 statements: 16,500-19,700/s against 20,400-21,800/s)
LINES_FROM = 122_881

# The columns two statements with one id must share to be the same statement.
SAME = (
    "actor_ifi",
    "verb_id",
    "object_type",
    "object_id",
    "registration",
    "result_score_scaled",
    "result_score_raw",
    "result_success",
    "result_completion",
    "result_duration_s",
)


@dataclass(frozen=True)
class Problem:
    """One invalid statement: its position in the file (1-based), the field and why."""

    index: int
    field: str
    problem: str


@dataclass(frozen=True)
class Conflict:
    """A statement id used for different content: by two statements of the file, or stored."""

    index: int
    statement_id: str
    other_index: int | None = None


@dataclass(frozen=True)
class BulkCount:
    """What a write did: statements in the file, inserted, already stored, targets voided."""

    statements: int
    inserted: int
    unchanged: int
    voided: int


def connection(store: Store) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection that parses and checks files (DuckDB's JSON reader).

    The store's own on DuckDB; on PostgreSQL, the store's in-memory staging DuckDB.
    """
    from impactlens.store.duckdb import DuckDBStore
    from impactlens.store.postgres import PostgresStore

    if isinstance(store, DuckDBStore):
        return store._con
    if isinstance(store, PostgresStore):
        return store._stage
    raise NotImplementedError(f"bulk xAPI import needs DuckDB or PostgreSQL, not {store.engine}")


def _stored(store: Store, staged: Staged) -> str:
    """The relation, in :func:`connection`, of the stored statements the file may meet.

    On DuckDB the stored table itself. On PostgreSQL the stored rows with the file's
    ids, copied into the staging DuckDB once per transaction (after the LRS write
    lock, so no other writer adds one in between).
    """
    from impactlens.store.postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        return "xapi_statements"
    con, known = store._stage, f"{staged.table}_known"
    if con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [known]
    ).fetchone() == (1,):
        return known
    lock_writes(store._pg)
    ids = con.execute(f"SELECT DISTINCT statement_id FROM {staged.table}").to_arrow_table()
    store._pg.execute("CREATE TEMP TABLE _xapi_ids (statement_id TEXT) ON COMMIT DROP")
    store.copy_arrow("_xapi_ids", ids)
    columns = ["seq", "statement_id", "timestamp", *SAME]
    rows = store._pg.execute(
        f"SELECT {', '.join(columns)} FROM xapi_statements JOIN _xapi_ids USING (statement_id)"
    ).fetchall()
    store._pg.execute("DROP TABLE _xapi_ids")
    types = TABLES["xapi_statements"].columns
    found = pa.table(
        {c: pa.array([r[i] for r in rows], _ARROW[types[c]]) for i, c in enumerate(columns)}
    )
    con.register(f"{known}_arrow", found)
    try:
        con.execute(f"CREATE TEMP TABLE {known} AS SELECT * FROM {known}_arrow")
    finally:
        con.unregister(f"{known}_arrow")
    return known


@dataclass(frozen=True)
class Staged:
    """A staged file: its statements, the reader of its raw JSON objects, which path read it.

    ``text``: the staging table holds each statement's text (``line``), so the write
    need not read the file again.
    """

    rows: int
    objects: str
    typed: bool
    table: str
    text: bool = False


def stage(
    store: Store, path: Path, *, array: bool, number: int = 0, step: Step = no_step
) -> Staged:
    """Parse a JSON Lines file (or one JSON array) into the staging table.

    The lines of a JSON Lines file are parsed straight into columns, the text kept;
    a JSON array or a file the lines path cannot take goes through the typed reader,
    and a file with a value of an unexpected shape (an actor that is a string, say)
    takes the slower JSON path, whose checks then name it. Raises ``duckdb.Error`` when
    some line is not JSON. Run it outside a transaction (a failed typed read would
    abort it); ``number`` keeps the staging tables of the files of one call apart;
    ``step`` is told ``reading``, ``probing`` and ``checking`` as they begin.
    """
    con = connection(store)
    t = f"{STAGE}{number}"
    literal = "'" + str(path).replace("'", "''") + "'"
    fmt = "array" if array else "newline_delimited"
    objects = f"read_json_objects({literal}, format='{fmt}')"
    any_bad = " OR ".join(f"({cond})" for _, _, cond in CHECKS + NULL_CHECKS)
    narrow = (
        f"CREATE OR REPLACE TEMP TABLE {t} AS SELECT {', '.join(WRITTEN)}, "
        f"({any_bad}) IS TRUE AS bad, {vouched_sql()} AS vouched FROM {t}_src"
    )
    if array or _has_bom(path):
        way, bad_keys = "typed", False
    else:
        way, bad_keys = _read_lines(con, literal, t, step)
    step("checking")
    typed, text = way != "json", way == "lines"
    try:
        if typed:
            con.execute(stage_sql(typed_source(literal, fmt), t, typed=True))  # for messages
            if text:
                con.execute(narrow_sql(literal, fmt, t, lines=f"{t}_lines"))
            else:
                con.execute(narrow_sql(literal, fmt, t))
                row = con.execute(keys_sql(objects)).fetchone()
                bad_keys, typed = bool(row and row[0]), not (row and row[1])
            if typed and bad_keys:  # the full staging names them
                con.execute(narrow)
                text = False
    except duckdb.Error:
        typed = False
    finally:
        con.execute(f"DROP TABLE IF EXISTS {t}_lines")
    if not typed:  # the JSON path, which takes any JSON (raises when a line is not)
        text = False
        con.execute(stage_sql(objects, t, typed=False))
        con.execute(narrow)
    row = con.execute(f"SELECT count(*) FROM {t}").fetchone()
    return Staged(int(row[0]) if row else 0, objects, typed, t, text)


def _read_lines(
    con: duckdb.DuckDBPyConnection, literal: str, t: str, step: Step
) -> tuple[str, bool]:
    """Read a JSON Lines file into ``{t}_lines`` (:func:`.xapi_fast.lines_table_sql`).

    Returns the way to stage it and whether some statement has a key it may not have:
    ``lines`` (the table is there), ``typed`` when the file has fewer than
    :data:`LINES_FROM` lines, the CSV reader or ``json_type`` refuses a line or a line
    is blank or padded (positions would count it, the JSON readers do not), ``json``
    for a part of another shape than the typed reader's or a null it would hide
    (:func:`.xapi_fast.probe_sql`).
    """
    table = f"{t}_lines"
    try:
        step("reading")
        con.execute(lines_table_sql(literal, table))
        count = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        few = count is not None and count[0] < LINES_FROM
        step("probing")
        row = None if few else con.execute(probe_sql(table)).fetchone()
    except duckdb.Error:
        row = None
    if row is None or row[0] or row[1]:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        return ("typed" if row is None or row[0] else "json"), False
    return "lines", bool(row[2])


def _has_bom(path: Path) -> bool:
    """Whether a file starts with a UTF-8 byte order mark (the JSON readers refuse it)."""
    with path.open("rb") as fh:
        return fh.read(3) == b"\xef\xbb\xbf"


def problems(store: Store, staged: Staged, limit: int = 20) -> tuple[int, list[Problem]]:
    """The invalid statements of the staging table: how many, and the first ``limit`` problems."""
    con, t = connection(store), staged.table
    row = con.execute(f"SELECT count(*) FROM {t} WHERE bad").fetchone()
    bad = int(row[0]) if row else 0
    if not bad:
        return 0, []
    cases = ", ".join(
        f"CASE WHEN {cond} THEN {_lit(field + chr(31) + msg)} END"
        for field, msg, cond in CHECKS + NULL_CHECKS
    )
    rows = con.execute(
        f"SELECT ln, unnest(found) FROM (SELECT ln, "
        f"list_filter([{cases}], lambda x: x IS NOT NULL) "
        f"AS found FROM {t}_src WHERE ln IN (SELECT ln FROM {t} WHERE bad ORDER BY ln "
        f"LIMIT {limit})) ORDER BY ln"
    ).fetchall()
    found = [(int(ln), *text.partition(chr(31))[::2]) for ln, text in rows]
    # by statement, each statement's problems in the order of the checks
    merged = sorted(dict.fromkeys(found), key=lambda p: p[0])[:limit]
    return bad, [Problem(ln, f, m) for ln, f, m in merged]


def unvouched(
    store: Store, staged: Staged, batch: int = 10_000, *, bad: bool = False
) -> Iterator[list[tuple[int, str]]]:
    """The statements the checks do not answer for (``ln``, ``line``), in file order.

    The checks pass them, but they hold a part the checks do not read (attachments, a
    group's members, a SubStatement...): the caller runs POST's checks on each. The
    count of their keys (:func:`.xapi_checks.line_key_count`) tells them apart from
    the ones whose every key the checks read. With ``bad`` the same among those the
    checks refused (a repeated property name, say: the checks read its first value).
    """
    con, t = connection(store), staged.table
    if bad:  # usually none: then no read of the file's text below
        row = con.execute(f"SELECT count(*) FROM {t} WHERE bad").fetchone()
        if not (row and row[0]):
            return
    which = "" if bad else "NOT "
    if staged.text:
        rows = f"SELECT ln, line, vouched FROM {t} WHERE {which}bad"
    else:
        rows = f"SELECT s.ln, o.line, s.vouched FROM {t} s JOIN {lines_sql(staged.objects)} o "
        rows += f"USING (ln) WHERE {which}s.bad"
    # (counting in the lines path's own scan cost more: 11 -> 17 us per statement there)
    result = con.execute(
        f"SELECT ln, line FROM ({rows}) "
        f"WHERE NOT coalesce(vouched = {line_key_count('line')}, false) ORDER BY ln"
    )
    while found := result.fetchmany(batch):
        yield [(int(ln), str(line)) for ln, line in found]


def unrefuse(store: Store, staged: Staged, positions: list[int]) -> None:
    """Take back the checks' refusal of the statements at ``positions`` (POST judges them)."""
    if positions:
        connection(store).execute(
            f"UPDATE {staged.table} SET bad = false WHERE ln IN (SELECT unnest($1))", [positions]
        )


def conflicts(store: Store, staged: Staged, limit: int = 5) -> list[Conflict]:
    """Ids given to different statements within the file or against the stored ones."""
    con, t, known = connection(store), staged.table, _stored(store, staged)
    if _all_new(con, t, known):  # the common case, without the joins below
        return []
    same = " AND ".join(f"a.{c} IS NOT DISTINCT FROM b.{c}" for c in SAME)
    # the statement's own timestamp must match; a missing one was set from `stored`
    same_ts = "(a.ts_raw IS NULL OR a.ts = b.ts)"
    inner = con.execute(
        f"SELECT b.ln, a.statement_id, a.ln FROM {t} a JOIN {t} b "
        f"ON a.statement_id = b.statement_id AND a.ln < b.ln "
        f"WHERE NOT ({same} AND a.ts IS NOT DISTINCT FROM b.ts) ORDER BY b.ln LIMIT {limit}"
    ).fetchall()
    outer = con.execute(
        f"SELECT a.ln, a.statement_id FROM {t} a JOIN {known} b "
        f"ON a.statement_id = b.statement_id "
        f"WHERE NOT ({same} AND {same_ts.replace('b.ts', 'b.timestamp')}) "
        f"ORDER BY a.ln LIMIT {limit}"
    ).fetchall()
    found = [Conflict(int(r[0]), r[1], int(r[2])) for r in inner]
    found += [Conflict(int(r[0]), r[1]) for r in outer]
    return sorted(found, key=lambda c: c.index)[:limit]


def write(
    store: Store,
    staged: Staged,
    *,
    stored: datetime,
    authority: str,
    authority_ifi: str,
    step: Step = no_step,
) -> BulkCount:
    """Insert the staged statements not stored yet; fill refs; apply voiding.

    ``stored`` is the naive UTC time of this import; ``authority`` the Agent JSON
    set on statements that have none (``authority_ifi`` its canonical IFI, for the
    refs). Run it inside the store's transaction. ``step`` is told ``storing`` and
    ``indexing`` as they begin.
    """
    con, t, known = connection(store), staged.table, _stored(store, staged)
    iso = stored.isoformat(timespec="milliseconds") + "Z"
    first = lrs_for(store).last_seq()
    if _all_new(con, t, known):
        # the common case (a new file): every statement is new and ln numbers them
        # 1..n in file order already, so no window; in that order the text read
        # again (when the staging has none) pairs with the staged rows by position
        new = f"(SELECT {first} + ln AS seq, * FROM {t})"
        texts = (
            new
            if staged.text
            else (
                f"(SELECT {first} + ln AS seq, * FROM {t} ORDER BY ln) POSITIONAL JOIN "
                f"(SELECT json::VARCHAR AS line FROM {staged.objects})"
            )
        )
        inserted = staged.rows
    else:
        # the first occurrence of each id not stored yet, numbered in file order
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {t}_new AS "
            f"SELECT {first} + row_number() OVER (ORDER BY ln) AS seq, ln FROM ("
            f"SELECT ln, statement_id FROM {t} QUALIFY row_number() OVER (PARTITION BY "
            f"statement_id ORDER BY ln) = 1) s ANTI JOIN {known} x "
            f"ON x.statement_id = s.statement_id"
        )
        new = f"({t}_new JOIN {t} USING (ln))"
        texts = new if staged.text else f"{new} JOIN {lines_sql(staged.objects)} USING (ln)"
        row = con.execute(f"SELECT count(*) FROM {t}_new").fetchone()
        inserted = int(row[0]) if row else 0
    # The statement as stored: the file's text as is, with the properties the LRS
    # sets put first (a JSON merge only where the file already had `stored`). The
    # text is not re-serialised: key order and spacing stay the file's, and JSON
    # readers see the same statement. ltrim drops the opening brace only, as a valid
    # statement's next character is a quote or white space.
    added = (
        "'\"stored\":' || to_json($1::VARCHAR)"
        " || CASE WHEN id_t IS NULL THEN ',\"id\":' || to_json(statement_id) ELSE '' END"
        " || CASE WHEN ts_raw_t IS NULL THEN ',\"timestamp\":' || to_json($1::VARCHAR) ELSE '' END"
        " || CASE WHEN version_t IS NULL THEN ',\"version\":\"1.0.0\"' ELSE '' END"
        " || CASE WHEN auth_t IS NULL THEN ',\"authority\":' || $2 ELSE '' END"
    )
    spliced = (
        f"CASE WHEN stored_raw_t IS NOT NULL THEN "
        f"json_merge_patch(line, ('{{' || {added} || '}}')::JSON)::VARCHAR "
        f"ELSE '{{' || {added} || ',' || ltrim(ltrim(line), '{{') END"
    )
    step("storing")
    _append(
        store,
        "xapi_statements",
        f"""
        SELECT seq, statement_id, $3::TIMESTAMP AS stored,
            coalesce(ts, $3::TIMESTAMP) AS timestamp,
            actor_ifi, verb_id, object_type, object_id, registration,
            false AS voided,
            CASE WHEN verb_id = '{VOIDED}' THEN object_id END AS voids,
            result_score_scaled, result_score_raw, result_score_min, result_score_max,
            result_success, result_completion, result_duration_s,
            to_json(ctx_ids)::VARCHAR AS context_activities,
            coalesce(version, '1.0.0') AS version,
            {spliced} AS statement
        FROM {texts}
        """,
        [iso, authority, stored],
    )
    step("indexing")
    _append(
        store,
        "xapi_statement_refs",
        f"""
        WITH n AS NOT MATERIALIZED (SELECT * FROM {new})
        SELECT seq, kind, ref, related FROM (
            -- distinct within each kind and position, so no DISTINCT over all the rows
            SELECT seq, 'agent' AS kind, unnest(agents_main) AS ref, false AS related FROM n
            UNION ALL SELECT seq, 'agent', unnest(list_distinct(list_concat(agents_related,
                CASE WHEN auth_t IS NULL THEN [$1] END))), true FROM n
            UNION ALL SELECT seq, 'activity', object_id, false FROM n
                WHERE object_type = 'Activity'
            UNION ALL SELECT seq, 'activity',
                unnest(list_distinct(list_concat(ctx_ids, sub_activities))), true FROM n
        ) r WHERE ref IS NOT NULL
        """,
        [authority_ifi],
    )
    statements = staged.rows
    return BulkCount(
        statements=statements,
        inserted=inserted,
        unchanged=statements - inserted,
        voided=_apply_voiding(store),
    )


def _append(store: Store, table: str, select: str, params: list[object]) -> None:
    """Append the rows of ``select`` (DuckDB SQL over the staging tables) to ``table``."""
    from impactlens.store.postgres import PostgresStore

    con = connection(store)
    if isinstance(store, PostgresStore):
        store.copy_arrow(table, con.execute(select, params).to_arrow_reader(100_000))
    else:
        con.execute(f"INSERT INTO {table} BY NAME {select}", params)


def _apply_voiding(store: Store) -> int:
    """Mark the targets of stored voiding statements voided; return how many changed."""
    from impactlens.store.postgres import PostgresStore

    sql = f"""
        UPDATE xapi_statements SET voided = true
        WHERE NOT voided AND verb_id IS DISTINCT FROM '{VOIDED}' AND statement_id IN (
            SELECT voids FROM xapi_statements WHERE voids IS NOT NULL AND verb_id = '{VOIDED}')
        """
    if isinstance(store, PostgresStore):
        with store._pg.cursor() as cur:
            cur.execute(sql)
            return max(cur.rowcount, 0)
    row = connection(store).execute(sql).fetchone()
    return int(row[0]) if row else 0


def _all_new(con: duckdb.DuckDBPyConnection, t: str, known: str) -> bool:
    """Whether no statement id of the staging table repeats or is stored already."""
    row = con.execute(
        f"SELECT (SELECT count(DISTINCT statement_id) FROM {t}) = (SELECT count(*) FROM {t}) "
        f"AND NOT EXISTS (SELECT 1 FROM {t} s SEMI JOIN {known} x "
        f"ON x.statement_id = s.statement_id)"
    ).fetchone()
    return bool(row and row[0])


def drop(store: Store, staged: Staged) -> None:
    """Drop a file's staging tables."""
    con, t = connection(store), staged.table
    for suffix in ("", "_new", "_known", "_lines"):
        con.execute(f"DROP TABLE IF EXISTS {t}{suffix}")
    con.execute(f"DROP VIEW IF EXISTS {t}_src")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def pull_cursor(store: Store, endpoint: str) -> str | None:
    """The last ``stored`` a pull from ``endpoint`` copied (None: never pulled)."""
    t = store.table("xapi_pull_state")
    rows = (
        t.filter(t.endpoint == endpoint)
        .order_by(t.pulled_at.desc())
        .limit(1)
        .select("last_stored")
        .to_pyarrow()
        .to_pylist()
    )
    return str(rows[0]["last_stored"]) if rows else None


def save_pull_cursor(
    store: Store, endpoint: str, last_stored: str, statements: int, at: datetime
) -> None:
    """Record where a pull from ``endpoint`` got to (append-only)."""
    row = pa.table(
        {
            "endpoint": pa.array([endpoint], pa.string()),
            "last_stored": pa.array([last_stored], pa.string()),
            "statements": pa.array([statements], pa.int64()),
            "pulled_at": pa.array([at], pa.timestamp("us")),
        }
    )
    store.table("xapi_pull_state").get_backend().insert("xapi_pull_state", row)
