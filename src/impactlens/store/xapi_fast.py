"""The staging table of a typed file in one scan: the written columns and a ``bad`` flag.

:func:`impactlens.store.xapi_stage.stage_sql` names every value of
:data:`~impactlens.store.xapi_checks.PATHS` as a column; computing ~220 columns for
each statement costs more than parsing it. Most of them belong to parts few statements
have (authority, instructor, team, an Agent or SubStatement object). Here those values
are not columns: their expressions are written into the checks and derived columns
that read them, behind the checks' own guards (``auth_t IS NOT NULL AND ...``) and one
guard for the whole group, so they are evaluated only for the statements that have
such a part. The checks are evaluated in a ``CASE WHEN`` (DuckDB skips the rest of an
``OR`` / ``AND`` there once the outcome is known). Same checks, same columns: only
where the work is done changes.

A JSON Lines file is first read as text, one line per row (:func:`lines_table_sql`):
DuckDB's CSV reader does that on every thread and keeps the file's order, where its
JSON readers keep the order only on one thread. The typed values are then parsed from
each line (``json_transform``, in parallel) and the text stays in the staging table
for the write. ``json_transform`` gives NULL where the typed reader fails (a part of
another shape, say an actor that is a string), so :func:`probe_sql` first finds such
lines, nulls the typed values would hide (both send the file to the JSON path) and
blank or padded lines (the typed reader then). A JSON array, a small file or one the
probe turned away has no text in its staging: the write reads it again from the file
(:func:`lines_sql`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from impactlens.store.xapi_checks import (
    _AGENT_FIELDS,
    CHECKS,
    JSON_LEAVES,
    PATHS,
    _lit,
    vouched_sql,
)
from impactlens.store.xapi_stage import (
    DERIVED,
    DERIVED_FIRST,
    WRITTEN,
    _tree,
    top_keys,
    typed_columns,
    typed_defs,
    typed_paths,
)

# Agents of the rare parts; of the object only its agent fields (an Activity has none).
_RARE_AGENTS = ("auth", "instr", "team", "sactor", "sobj", "sinstr", "steam")
_RARE_OTHER = ("s_verb_id", "s_obj_id", "s_ca", "o_stored", "o_version", "o_authority")
# A statement without any of these parts passes every check that reads a rare value.
_GATE = "auth_t IS NOT NULL OR instr_t IS NOT NULL OR team_t IS NOT NULL OR o_type <> 'Activity'"
_WORD = re.compile(r"(?<![\w.\"])([a-z_][a-z0-9_]*)\b(?!\s*\()")
_QUOTED = re.compile(r"('(?:[^']|'')*')")


def _rare() -> set[str]:
    names = {p + suffix for p in _RARE_AGENTS for suffix in _AGENT_FIELDS}
    names |= {"obj" + suffix for suffix in _AGENT_FIELDS if suffix} | set(_RARE_OTHER)
    return names | {f"{n}_t" for n in names}


def inline(sql: str, defs: dict[str, str]) -> str:
    """``sql`` with each column named in ``defs`` replaced by its expression (not in quotes)."""
    parts = _QUOTED.split(sql)
    for i in range(0, len(parts), 2):
        parts[i] = _WORD.sub(
            lambda m: f"({defs[m.group(1)]})" if m.group(1) in defs else m.group(1), parts[i]
        )
    return "".join(parts)


def narrow_sql(literal: str, fmt: str, table: str, *, lines: str | None = None) -> str:
    """Create ``table``: the ``WRITTEN`` columns and ``bad``, from the typed reader alone.

    Every check but the one of the statement's keys (the typed reader skips unknown
    keys: :func:`keys_sql`, a scan of its own). ``WITH ORDINALITY`` numbers the
    statements in file order (it holds the reader to one thread: DuckDB's parallel JSON
    read does not keep the order). With ``lines`` (a table of :func:`lines_table_sql`
    that :func:`probe_sql` passed) the values come from its text instead, on every
    thread, numbered by its ``rowid``, and ``table`` also keeps each statement's text
    (``line``).
    """
    rare = _rare()
    direct = typed_defs()
    late = {n: e for n, e in typed_defs("j_{}").items() if n in rare}
    tops = ", ".join(f'"{k}" AS j_{k}' for k in top_keys())
    paths = ",\n        ".join(f"{e} AS {n}" for n, e in direct.items() if n not in rare)
    first = ",\n        ".join(f"{inline(e, late)} AS {n}" for n, e in DERIVED_FIRST)
    then = ",\n        ".join(f"{inline(e, late)} AS {n}" for n, e in DERIVED)
    checks = [c for _, _, c in CHECKS if c not in _on_keys()]
    common = " OR ".join(f"({c})" for c in checks if not _reads(c, rare))
    uncommon = " OR ".join(f"({c})" for c in checks if _reads(c, rare))
    bad = inline(f"{common} OR (({_GATE}) AND ({uncommon}))", late)
    written = ", ".join(inline(c, late) + f" AS {c}" for c in WRITTEN)
    raw = typed_paths("j_{}")
    vouched = vouched_sql(lambda c: f"{raw[c]} IS NOT NULL", lambda c: f"{raw[c]}::VARCHAR")
    if lines is None:
        text = ""
        source = (
            f"read_json({literal}, format='{fmt}', columns={{{typed_columns()}}}) WITH ORDINALITY"
        )
    else:
        text = ", line"
        shape = _lit(json.dumps(_shape(_tree())))
        source = (
            f"(SELECT rowid + 1 AS ordinality, line, unnest(json_transform(line, {shape})) "
            f"FROM {lines})"
        )
    return f"""
CREATE OR REPLACE TEMP TABLE {table} AS
SELECT {written}, CASE WHEN {bad} THEN true ELSE false END AS bad,
    {vouched} AS vouched{text} FROM (
    SELECT *, {then} FROM (
        SELECT *, {first} FROM (
            SELECT ordinality AS ln, 'OBJECT' AS jt{text}, {tops},
            {paths}
            FROM {source})))
"""


# one byte that no JSON text holds unescaped: the CSV reader's delimiter, so a line is one value
_NO_DELIMITER = "\x01"


def lines_table_sql(literal: str, table: str) -> str:
    """Create ``table``: each line of a JSON Lines file as it is, its ``rowid`` the line's order.

    A blank line is a NULL ``line``; :func:`probe_sql` counts them, and the lines with
    white space around the statement, which the JSON readers trim (trimming every line
    here would cost three times the read). Raises ``duckdb.Error`` on a line the CSV
    reader cannot take (a stray carriage return, say); the caller then reads the file
    the other way.
    """
    return (
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT line "
        f"FROM read_csv({literal}, columns={{'line': 'VARCHAR'}}, delim='{_NO_DELIMITER}', "
        "quote='', escape='', header=false, auto_detect=false)"
    )


def probe_sql(lines: str) -> str:
    """Over a lines table: (blank or padded lines, lines for the JSON path, bad keys).

    A line for the JSON path is one the typed reader would refuse (not an object, or a
    part the reader takes as an object, actor, result..., holding something else than
    an object or null) or one with a null where a check looks (:func:`has_null`).
    Raises ``duckdb.Error`` when a line is not JSON.
    """
    nodes = "[" + ", ".join(_lit(p) for p in _nodes(_tree())) + "]"
    keys_bad = " OR ".join(f"({c})" for c in _on_keys())
    padded = "line IS NULL OR line = '' OR line[1] IN (' ', '\t') OR line[-1] IN (' ', '\t')"
    return (
        "SELECT count(*) FILTER (WHERE text IS NULL), count(*) FILTER (WHERE text IS NOT NULL "
        "AND (shapes[1] IS DISTINCT FROM 'OBJECT' OR NOT list_bool_and(list_transform(shapes, "
        f"lambda x: x IS NULL OR x IN ('OBJECT', 'NULL'))) OR {has_null('text')})), "
        f"count(*) FILTER (WHERE {keys_bad}) FROM (SELECT text, 'OBJECT' AS jt, "
        f"json_keys(text) AS keys, json_type(text, {nodes}) AS shapes FROM "
        f"(SELECT CASE WHEN {padded} THEN NULL ELSE line END AS text FROM {lines}))"
    )


def has_null(text: str) -> str:
    """Whether the statement JSON ``text`` holds a null at a path the checks read.

    The typed values cannot tell a null from an absent value, and an absent optional
    part passes every check, so such a statement takes the JSON path, whose checks see
    the null (POST refuses it too). Only the texts with ``null`` in them are parsed.
    """
    paths = "[" + ", ".join(_lit(p) for p in PATHS.values()) + "]"
    return (
        f"(CASE WHEN contains({text}, 'null') THEN "  # a CASE: the rest only for those texts
        f"list_contains(json_type({text}, {paths}), 'NULL') ELSE false END)"
    )


def _shape(tree: dict[str, Any], prefix: str = "$") -> dict[str, Any]:
    """``json_transform``'s structure of the typed reader's columns (same types)."""
    return {
        k: _shape(v, f"{prefix}.{k}")
        if v
        else ("JSON" if f"{prefix}.{k}" in JSON_LEAVES else "VARCHAR")
        for k, v in sorted(tree.items())
    }


def _nodes(tree: dict[str, Any], prefix: str = "$") -> list[str]:
    """The paths the typed reader reads as objects, the statement itself first."""
    out = [prefix]
    for key, child in tree.items():
        if child:
            out += _nodes(child, f"{prefix}.{key}")
    return out


def keys_sql(objects: str) -> str:
    """How many statements of ``objects`` have a key the statement does not allow, and
    how many a null the typed values cannot show (:func:`has_null`)."""
    bad = " OR ".join(f"({c})" for c in _on_keys())
    return (
        f"SELECT count(*) FILTER (WHERE {bad}), count(*) FILTER (WHERE {has_null('line')}) "
        f"FROM (SELECT 'OBJECT' AS jt, json_keys(json) AS keys, json::VARCHAR AS line "
        f"FROM {objects})"
    )


def _on_keys() -> list[str]:
    return [c for _, _, c in CHECKS if re.search(r"\bkeys\b", _QUOTED.sub("", c))]


def _reads(cond: str, names: set[str]) -> bool:
    return any(w in names for w in _WORD.findall(_QUOTED.sub("", cond)))


def lines_sql(objects: str) -> str:
    """Each statement's text as read (``line``), by its position in the file (``ln``)."""
    return f"(SELECT ordinality AS ln, json::VARCHAR AS line FROM {objects} WITH ORDINALITY)"
