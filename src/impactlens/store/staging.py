"""DuckDB staging: input files read as text, checked and typed with vectorised SQL.

Files are read with DuckDB's own readers (``read_csv`` with ``all_varchar`` so we
own parsing and messages, ``read_parquet``, ``read_ndjson_objects``) into temporary
tables; a table's ``rowid`` is the record's position in the file, which gives the
row numbers in error messages without a window function.

Two paths: :meth:`DuckDBStaging.scan` / :meth:`~DuckDBStaging.parse` /
:meth:`~DuckDBStaging.output` read a CSV or Parquet file once into a typed table
(SQL in :mod:`impactlens.store.typed`); ``load`` / ``first_failure`` / ``build``
stage text and name the first problem exactly, for files the fast path refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from impactlens.domain.errors import InputError
from impactlens.store.base import CheckFailure, ColumnPlan, ParsedFile, StagedFile, Staging
from impactlens.store.parsing import (
    HINTS,
    MACROS,
    SQL_TYPES,
    file_format,
    first_bad_utf8_line,
    literal,
    parse_sql,
    quote,
)
from impactlens.store.typed import (
    hash_sql,
    output_select,
    parse_select,
    ref_source,
    ref_sql,
    untrimmed,
)

# RFC 4180 quoting stated, not sniffed: DuckDB's sniffer looks at the first ~20k rows only, and a
# file whose first quoted field comes later was refused as "cannot read as CSV".
CSV_OPTIONS = "all_varchar = true, header = true, quote = '\"', escape = '\"'"


class DuckDBStaging(Staging):
    """Staged text tables on one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._tables: list[str] = []
        self._views: list[str] = []
        self._found: dict[Path, list[str]] = {}  # scanned files: their header as written
        for macro in MACROS:
            con.execute(macro)

    def _new(self, stem: str, *, view: bool = False) -> str:
        name = f"_stage_{len(self._tables) + len(self._views)}_{stem}"
        (self._views if view else self._tables).append(name)
        return name

    def drop_all(self) -> None:
        """Drop every temporary view and table this staging created."""
        for name in self._views:
            self._con.execute(f"DROP VIEW IF EXISTS {name}")
        for name in self._tables:
            self._con.execute(f"DROP TABLE IF EXISTS {name}")
        self._views.clear()
        self._tables.clear()

    @staticmethod
    def _reader(path: Path, fmt: str) -> str:
        src = literal(str(path))
        if fmt == "csv":
            return f"read_csv({src}, {CSV_OPTIONS})"
        return f"read_parquet({src})"

    def scan(self, path: Path) -> list[str] | None:
        """A CSV or Parquet file's lower-cased column names (None: use the text path)."""
        try:
            fmt = file_format(path)
            if fmt == "json" or not path.is_file() or path.stat().st_size == 0:
                return None
            reader = self._reader(path, fmt)
            found = [r[0] for r in self._con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        except (InputError, OSError, duckdb.Error):
            return None
        names = [c.strip().lower() for c in found]
        # odd headers (empty, repeated, or clashing with our _ columns) take the text path
        if not names or (fmt == "csv" and found == ["column0"]) or len(set(names)) < len(names):
            return None
        if any(n.startswith("_") for n in names):
            return None
        self._found[path] = found
        return names

    def parse(
        self,
        path: Path,
        columns: Sequence[str],
        plans: Sequence[ColumnPlan],
        extras: Mapping[str, str | None],
        *,
        person_ref: Sequence[str] = (),
        person_required: bool = False,
        keep: Sequence[str] = (),
        row_hash: bool = False,
    ) -> ParsedFile | None:
        """Parse, type and check a scanned file in one pass (None: use the text path)."""
        found = self._found.get(path)
        outputs = [p.name for p in plans] + list(extras) + list(keep)
        if found is None or len(set(outputs)) < len(outputs):
            return None
        fmt = file_format(path)
        bare = untrimmed(columns, plans, row_hash=row_hash)
        select = ", ".join(
            f"NULLIF({'' if n in bare else 'trim'}(CAST({quote(f)} AS VARCHAR)), '') AS {quote(n)}"
            for f, n in zip(found, columns, strict=True)
        )
        sql = parse_select(
            f"SELECT {select} FROM {self._reader(path, fmt)}",
            columns,
            plans,
            extras,
            person_ref=person_ref,
            person_required=person_required,
            keep=keep,
            row_hash=row_hash,
        )
        table = self._new("parsed")
        undecided = [c for c, t in extras.items() if t is None]
        aggs = "".join(
            f", bool_and(TRY_CAST({quote(c)} AS DOUBLE) IS NOT NULL) "
            f"FILTER (WHERE {quote(c)} IS NOT NULL)"
            for c in undecided
        )
        try:
            self._con.execute(f"CREATE TEMP TABLE {table} AS {sql}")
            got = self._con.execute(
                f"SELECT count(*), coalesce(bool_or(_bad), false){aggs} FROM {table}"
            ).fetchone()
        except duckdb.Error:  # unreadable rows: the text path names them
            return None
        assert got is not None
        if not got[0]:
            return None
        staged = StagedFile(path, table, list(columns), int(got[0]), 2 if fmt == "csv" else 1)
        numeric = frozenset(c for c, ok in zip(undecided, got[2:], strict=True) if ok)
        return ParsedFile(staged, not got[1], numeric, ref_source(person_ref, columns))

    def output(
        self,
        parsed: ParsedFile,
        plans: Sequence[ColumnPlan],
        extras: Mapping[str, str],
        remaps: Sequence[tuple[str, str, Mapping[str, str]]],
        *,
        row_hash: bool = False,
    ) -> str:
        """A view of the rows to write, remapped through joins; return its name."""
        joins = []
        for column, source, mapping in remaps:
            if mapping:
                values = {"old": list(mapping), "new": list(mapping.values())}
                joins.append((column, source, self.from_columns(values)))
        sql = output_select(
            parsed.staged.table,
            parsed.staged.row_offset,
            plans,
            extras,
            joins,
            row_hash=row_hash,
        )
        view = self._new("rows", view=True)
        self._con.execute(f"CREATE TEMP VIEW {view} AS {sql}")
        return view

    def counts(self, table: str, column: str) -> dict[str, int]:
        """The distinct non-null values of a column and their row counts."""
        col = quote(column)
        rows = self._con.execute(
            f"SELECT {col}, count(*) FROM {table} WHERE {col} IS NOT NULL GROUP BY {col}"
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def has_duplicate(
        self, table: str, key: Sequence[str], *, first_non_null: bool = False
    ) -> bool:
        """Whether two rows may share a key (grouping one hash is far cheaper than the key)."""
        cols = ", ".join(quote(k) for k in key)
        h = f"hash(coalesce({cols}))" if first_non_null else f"hash({cols})"
        got = self._con.execute(
            f"SELECT 1 FROM (SELECT {h} AS h FROM {table}) GROUP BY h HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        return got is not None

    def load(self, path: Path) -> StagedFile:
        """Stage a file as text columns with lower-cased, stripped names."""
        fmt = file_format(path)
        if not path.is_file():
            raise InputError(path, "file not found")
        if path.stat().st_size == 0:
            raise InputError(path, "empty file: no header and no rows")
        src = literal(str(path))
        try:
            if fmt == "json":
                return self._load_json(path, src)
            reader = f"read_csv({src}, {CSV_OPTIONS})" if fmt == "csv" else f"read_parquet({src})"
            found = [r[0] for r in self._con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
            exprs = [f"CAST({quote(c)} AS VARCHAR)" for c in found]
            return self._create(path, reader, found, exprs, 2 if fmt == "csv" else 1)
        except duckdb.Error as exc:
            raise self._read_error(path, fmt, exc) from exc

    def _load_json(self, path: Path, src: str) -> StagedFile:
        reader = f"read_ndjson_objects({src})"
        # the first record's key order, then keys that only appear later (sorted)
        first = self._con.execute(f"SELECT json_keys(json) FROM {reader} LIMIT 1").fetchone()
        every = self._con.execute(
            f"SELECT DISTINCT unnest(json_keys(json)) AS k FROM {reader} ORDER BY k"
        ).fetchall()
        found = list(first[0]) if first else []
        found += [k[0] for k in every if k[0] not in found]
        exprs = [f"json_extract_string(json, {literal('$.' + quote(k))})" for k in found]
        return self._create(path, reader, found, exprs, 1)

    def _create(
        self, path: Path, reader: str, found: list[str], exprs: list[str], offset: int
    ) -> StagedFile:
        names = [c.strip().lower() for c in found]
        if not names or (names == ["column0"] and offset == 2 and found == ["column0"]):
            raise InputError(path, "empty file: no header", row=1)
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise InputError(path, f"column {name!r} appears twice in the header", row=1)
            seen.add(name)
        table = self._new(path.name.split(".")[0][:20].replace("-", "_"))
        select = ", ".join(
            f"NULLIF(trim({e}), '') AS {quote(n)}" for e, n in zip(exprs, names, strict=True)
        )
        self._con.execute(f"CREATE TEMP TABLE {table} AS SELECT {select} FROM {reader}")
        row = self._con.execute(f"SELECT count(*) FROM {table}").fetchone()
        rows = int(row[0]) if row else 0
        if rows == 0:
            raise InputError(path, "empty file: no rows below the header")
        return StagedFile(path, table, names, rows, offset)

    def _read_error(self, path: Path, fmt: str, exc: duckdb.Error) -> InputError:
        text = str(exc)
        if "unicode" in text.lower() or "utf-8" in text.lower() or "utf8" in text.lower():
            line = first_bad_utf8_line(path)
            return InputError(
                path,
                "not UTF-8 text (first bad byte on this line); save the file as UTF-8",
                row=line or None,
            )
        line_match = re.search(r"Line: (\d+)", text)
        first = text.splitlines()[0] if text else type(exc).__name__
        kind = {"csv": "CSV", "parquet": "Parquet", "json": "JSON Lines"}[fmt]
        return InputError(
            path,
            f"cannot read as {kind}: {first}",
            row=int(line_match[1]) if line_match else None,
        )

    def first_failure(self, staged: StagedFile, plans: Sequence[ColumnPlan]) -> CheckFailure | None:
        """The first (by row) empty required value, unparseable or out-of-range value."""
        checks: list[tuple[str, str, str]] = []  # (column, bad condition, problem template)
        for plan in plans:
            if plan.name not in staged.columns or plan.source is not None:
                continue
            raw = quote(plan.name)
            if plan.required:
                checks.append((plan.name, f"{raw} IS NULL", "empty value; every row needs one"))
            parsed = parse_sql(plan, raw)
            if plan.parse == "enum":
                problem = "invalid value {v!r}; expected one of: " + ", ".join(plan.choices)
                checks.append((plan.name, f"{raw} IS NOT NULL AND {parsed} IS NULL", problem))
            elif plan.parse != "text":
                hint = HINTS[plan.parse]
                checks.append((plan.name, f"{raw} IS NOT NULL AND {parsed} IS NULL", hint))
            if plan.low is not None and plan.high is not None:
                checks.append(
                    (
                        plan.name,
                        f"NOT ({parsed} BETWEEN {plan.low} AND {plan.high})",
                        f"{{v!r}} is outside {plan.low:g}-{plan.high:g}",
                    )
                )
        if not checks:
            return None
        aggs = ", ".join(
            f"min(rowid) FILTER (WHERE {cond}), arg_min({quote(col)}, rowid) FILTER (WHERE {cond})"
            for col, cond, _ in checks
        )
        got = self._con.execute(f"SELECT {aggs} FROM {staged.table}").fetchone()
        assert got is not None
        best: CheckFailure | None = None
        for i, (col, _, problem) in enumerate(checks):
            row, value = got[2 * i], got[2 * i + 1]
            if row is not None and (best is None or row + staged.row_offset < best.row):
                best = CheckFailure(row + staged.row_offset, col, value, problem.format(v=value))
        return best

    def numeric_columns(self, staged: StagedFile, columns: Sequence[str]) -> set[str]:
        """The columns whose every non-empty value parses as a number (and has one)."""
        if not columns:
            return set()
        aggs = ", ".join(
            f"bool_and(TRY_CAST({quote(c)} AS DOUBLE) IS NOT NULL) FILTER "
            f"(WHERE {quote(c)} IS NOT NULL)"
            for c in columns
        )
        got = self._con.execute(f"SELECT {aggs} FROM {staged.table}").fetchone()
        assert got is not None
        return {c for c, ok in zip(columns, got, strict=True) if ok}

    def build(
        self,
        staged: StagedFile,
        plans: Sequence[ColumnPlan],
        extras: Mapping[str, str],
        *,
        person_ref: Sequence[str] = (),
        row_hash: bool = False,
    ) -> str:
        """Create the typed table of a staged file; return its name."""
        select = [f"rowid + {staged.row_offset} AS _row"]
        for plan in plans:
            sql_type = SQL_TYPES[plan.parse]
            column = plan.source or plan.name
            if column in staged.columns:
                expr = parse_sql(plan, quote(column))
                if plan.default is not None:
                    expr = f"coalesce({expr}, CAST({literal(plan.default)} AS {sql_type}))"
            else:
                default = "NULL" if plan.default is None else literal(plan.default)
                expr = f"CAST({default} AS {sql_type})"
            select.append(f"{expr} AS {quote(plan.name)}")
        for name, sql_type in extras.items():
            select.append(f"TRY_CAST({quote(name)} AS {sql_type}) AS {quote(name)}")
        ref = ref_sql(person_ref, staged.columns)
        if ref is not None:
            select.append(f"{ref} AS _ref")
        source = staged.table
        if row_hash:
            # the raw values, and the occurrence among identical rows so repeats stay distinct
            source = (
                f"(SELECT *, sha256(h || ':' || row_number() OVER (PARTITION BY h ORDER BY rowid))"
                f" AS _hash FROM (SELECT *, rowid, {hash_sql(staged.columns)} AS h "
                f"FROM {staged.table}))"
            )
            select.append("_hash AS row_hash")
        table = self._new("typed")
        self._con.execute(f"CREATE TEMP TABLE {table} AS SELECT {', '.join(select)} FROM {source}")
        return table

    def distinct(self, table: str, column: str) -> list[str]:
        """The distinct non-null values of a column."""
        rows = self._con.execute(
            f"SELECT DISTINCT {quote(column)} FROM {table} WHERE {quote(column)} IS NOT NULL"
        ).fetchall()
        return [r[0] for r in rows]

    def remap(self, table: str, column: str, mapping: Mapping[str, str], source: str) -> None:
        """Set ``column`` to ``mapping[source]`` on every row whose source is mapped."""
        if not mapping:
            return
        self._con.register("_map", pa.table({"old": list(mapping), "new": list(mapping.values())}))
        col, src = quote(column), quote(source)
        try:
            # rebuilding with a hash join is several times faster than UPDATE on big tables
            self._con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT t.* REPLACE "
                f"(coalesce(m.new, t.{col}) AS {col}) FROM {table} t "
                f"LEFT JOIN _map m ON t.{src} = m.old"
            )
        finally:
            self._con.unregister("_map")

    def duplicate(
        self, table: str, key: Sequence[str], *, first_non_null: bool = False
    ) -> tuple[int, int] | None:
        """The first two ``_row`` numbers that share a key, if any."""
        cols = [quote(k) for k in key]
        group = f"coalesce({', '.join(cols)})" if first_non_null else ", ".join(cols)
        # cheap aggregates first; the second row is looked up only when there is a clash
        got = self._con.execute(
            f"SELECT min(_row), max(_row) FROM {table} GROUP BY {group} "
            "HAVING count(*) > 1 ORDER BY min(_row) LIMIT 1"
        ).fetchone()
        if got is None:
            return None
        match = " AND ".join(f"t.{c} IS NOT DISTINCT FROM f.{c}" for c in cols)
        second = self._con.execute(
            f"SELECT min(t._row) FROM {table} t, (SELECT * FROM {table} WHERE _row = ?) f "
            f"WHERE t._row > f._row AND "
            + (
                f"coalesce({', '.join('t.' + c for c in cols)}) = "
                f"coalesce({', '.join('f.' + c for c in cols)})"
                if first_non_null
                else match
            ),
            [got[0]],
        ).fetchone()
        return int(got[0]), int(second[0] if second and second[0] is not None else got[1])

    def first_null(self, table: str, column: str) -> int | None:
        """The ``_row`` of the first row of a typed table where ``column`` is null."""
        got = self._con.execute(
            f"SELECT min(_row) FROM {table} WHERE {quote(column)} IS NULL"
        ).fetchone()
        return None if got is None or got[0] is None else int(got[0])

    def fetch(self, staged: StagedFile, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """(row number, values...) of every staged row (for small files only)."""
        cols = ", ".join(quote(c) for c in columns)
        return self._con.execute(
            f"SELECT rowid + {staged.row_offset}, {cols} FROM {staged.table} ORDER BY rowid"
        ).fetchall()

    def from_columns(self, columns: Mapping[str, Sequence[object]]) -> str:
        """A staged table from Python columns; return its name."""
        table = self._new("py")
        self._con.register("_cols", pa.table({k: list(v) for k, v in columns.items()}))
        try:
            self._con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM _cols")
        finally:
            self._con.unregister("_cols")
        return table

    def count_prefixed(self, table: str, column: str, prefix: str) -> int:
        """Rows of a staged table whose ``column`` starts with ``prefix``."""
        got = self._con.execute(
            f"SELECT count(*) FROM {table} WHERE starts_with({quote(column)}, ?)", [prefix]
        ).fetchone()
        return int(got[0]) if got else 0


@contextmanager
def staged(con: duckdb.DuckDBPyConnection) -> Iterator[Staging]:
    """A :class:`DuckDBStaging` on ``con`` for one import call; its tables dropped after."""
    staging = DuckDBStaging(con)
    try:
        yield staging
    finally:
        staging.drop_all()
