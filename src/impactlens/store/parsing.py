"""DuckDB SQL for the contract's parse rules: dates, timestamps, durations, yes/no, enums."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

from impactlens.domain.errors import InputError
from impactlens.store.base import ColumnPlan

SQL_TYPES = {
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "double": "DOUBLE",
    "duration": "DOUBLE",
    "bool": "BOOLEAN",
    "answer": "DOUBLE",
}

_NUM = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
# ISO 8601 durations: P[nD][T[nH][nM][nS]]
_ISO = (
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_HMS = r"^(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$"
_TRUE = ("yes", "y", "true", "t", "1")
_FALSE = ("no", "n", "false", "f", "0")

# Temporary macros: the parse rules of the contract, once per connection.
MACROS = (
    # epoch seconds or milliseconds, told apart by magnitude (1e11 s is year 5138);
    # text without a UTC offset ('+', or '-' after the date) first tries the plain
    # TIMESTAMP cast, several times cheaper than TIMESTAMPTZ and equal to it in a
    # UTC session (the store's); zone names make the plain cast fail, so they fall
    # through to TIMESTAMPTZ. tests/store/test_parsing.py checks it against the
    # TIMESTAMPTZ-only rule.
    f"""CREATE OR REPLACE TEMP MACRO il_ts(x) AS CASE
        WHEN regexp_matches(x, '{_NUM}') THEN CASE
            WHEN abs(TRY_CAST(x AS DOUBLE)) >= 1e11
            THEN make_timestamp(TRY_CAST(TRY_CAST(x AS DOUBLE) * 1000 AS BIGINT))
            ELSE make_timestamp(TRY_CAST(TRY_CAST(x AS DOUBLE) * 1000000 AS BIGINT)) END
        WHEN NOT contains(x, '+') AND NOT contains(substr(x, 11), '-')
        THEN coalesce(TRY_CAST(x AS TIMESTAMP), TRY_CAST(TRY_CAST(x AS TIMESTAMPTZ) AS TIMESTAMP))
        ELSE TRY_CAST(TRY_CAST(x AS TIMESTAMPTZ) AS TIMESTAMP) END""",
    """CREATE OR REPLACE TEMP MACRO il_dur_parts(p) AS
        coalesce(TRY_CAST(p.d AS DOUBLE), 0) * 1440 + coalesce(TRY_CAST(p.h AS DOUBLE), 0) * 60
        + coalesce(TRY_CAST(p.m AS DOUBLE), 0) + coalesce(TRY_CAST(p.s AS DOUBLE), 0) / 60""",
    f"""CREATE OR REPLACE TEMP MACRO il_duration(x) AS CASE
        WHEN regexp_matches(x, '{_NUM}') THEN TRY_CAST(x AS DOUBLE)
        WHEN regexp_matches(x, '{_HMS}')
        THEN il_dur_parts(regexp_extract(x, '{_HMS}', ['h', 'm', 's'])
                          .struct_insert(d := ''))
        WHEN regexp_matches(upper(x), '{_ISO}') AND upper(x) NOT IN ('P', 'PT')
             AND NOT upper(x).ends_with('T')
        THEN il_dur_parts(regexp_extract(upper(x), '{_ISO}', ['d', 'h', 'm', 's']))
        END""",
    # a simple CASE: an IN list becomes a hash join, twice as slow on big files
    f"""CREATE OR REPLACE TEMP MACRO il_bool(x) AS CASE lower(x)
        {" ".join(f"WHEN '{v}' THEN true" for v in _TRUE)}
        {" ".join(f"WHEN '{v}' THEN false" for v in _FALSE)} END""",
)

HINTS = {
    "date": "not a date: {v!r} (expected ISO 8601, e.g. 2024-03-31)",
    "timestamp": "not a timestamp: {v!r} (expected ISO 8601 or epoch seconds/milliseconds)",
    "double": "not a number: {v!r}",
    "duration": "not a duration: {v!r} (expected minutes, H:M:S or ISO 8601 such as PT1H30M)",
    "bool": "not yes/no: {v!r} (expected yes, no, true, false, 1 or 0)",
}


def quote(name: str) -> str:
    """A quoted SQL identifier.

    Examples:
        >>> quote('a"b')
        '"a""b"'
    """
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal.

    Examples:
        >>> literal("it's")
        "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def parse_sql(plan: ColumnPlan, raw: str) -> str:
    """The SQL that parses the text expression ``raw`` as ``plan`` says (NULL if it cannot)."""
    if plan.parse == "date":
        return f"TRY_CAST({raw} AS DATE)"
    if plan.parse == "timestamp":
        return f"il_ts({raw})"
    if plan.parse == "double":
        return f"TRY_CAST({raw} AS DOUBLE)"
    if plan.parse == "duration":
        return f"il_duration({raw})"
    if plan.parse == "bool":
        return f"il_bool({raw})"
    if plan.parse == "answer":
        return f"coalesce(TRY_CAST({raw} AS DOUBLE), il_bool({raw})::DOUBLE)"
    if plan.parse == "enum":
        choices = ", ".join(literal(c) for c in plan.choices)
        return f"CASE WHEN lower({raw}) IN ({choices}) THEN lower({raw}) END"
    return raw


def file_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``json`` from a file name; anything else is an InputError.

    Examples:
        >>> file_format(Path("a.CSV.gz"))
        'csv'
    """
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson")):
        return "json"
    raise InputError(path, "unsupported file type; use .csv, .csv.gz, .parquet, .jsonl or .ndjson")


def first_bad_utf8_line(path: Path) -> int:
    """The 1-based line holding the first byte that is not UTF-8 (0 if none)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return line + chunk.count(b"\n", 0, exc.start)
            line += chunk.count(b"\n")
    return 0
