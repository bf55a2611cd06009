"""The SQL that stages a file of xAPI statements: one typed read, the derived columns.

:func:`stage_sql` builds a view over a file: DuckDB's typed JSON reader (a STRUCT per
statement part, built from :data:`impactlens.store.xapi_checks.PATHS`) positionally
joined to the objects reader for each statement's text and keys (:func:`typed_source`)
or, for a file with values of unexpected shapes, the objects reader with one
multi-path extract. Either way the view has the same columns: the statement text
(``line``), every path's value and JSON type, and the values ``xapi_statements`` and
``xapi_statement_refs`` store (canonical IFIs, typed result, UTC timestamp, context
activity ids, the agents each statement mentions).
"""

from __future__ import annotations

from typing import Any

from impactlens.store.xapi_checks import (
    AGENTS,
    JSON_LEAVES,
    PATHS,
    ifi_json_sql,
    ifi_sql,
    timestamp_sql,
)

# ISO 8601 duration: PnYnMnWnDTnHnMnS, any part optional, decimals allowed
_PART = r"(\d+(?:[.,]\d+)?)"
DURATION_RE = (
    rf"^P(?:{_PART}Y)?(?:{_PART}M)?(?:{_PART}W)?(?:{_PART}D)?"
    rf"(?:T(?:{_PART}H)?(?:{_PART}M)?(?:{_PART}S)?)?$"
)
# seconds in each part; years and months at their mean Gregorian length (ISO 8601 leaves them open)
_SECONDS = (31_556_952, 2_629_746, 604_800, 86_400, 3_600, 60, 1)


def _duration_seconds(col: str) -> str:
    names = ["y", "mo", "w", "d", "h", "mi", "s"]
    parts = " + ".join(
        f"coalesce(nullif(replace(m.{n}, ',', '.'), '')::DOUBLE, 0) * {sec}"
        for n, sec in zip(names, _SECONDS, strict=True)
    )
    # one regex match per value (a struct of the parts, empty when absent)
    matched = f"regexp_extract({col}, '{DURATION_RE}', {names})"
    return (
        f"CASE WHEN regexp_matches({col}, '{DURATION_RE}') THEN "
        f"list_transform([{matched}], lambda m: {parts})[1] END"
    )


def _context_ids(ca: str) -> str:
    """The ids of a contextActivities JSON (each category an array, or a single object)."""
    return (
        f"CASE WHEN {ca}_t = 'OBJECT' THEN list_concat(json_extract_string({ca}, '$.*[*].id'), "
        f"list_filter(json_extract_string({ca}, '$.*.id'), lambda x: x IS NOT NULL)) END"
    )


def _members(p: str) -> str:
    return f"CASE WHEN {p}_member_t = 'ARRAY' THEN json_extract({p}_member, '$[*]') ELSE [] END"


def _leaf(path: str) -> str:
    return "JSON" if path in JSON_LEAVES else "VARCHAR"


def _struct_type(tree: dict[str, Any], prefix: str = "$") -> str:
    """A DuckDB STRUCT type for a tree of JSON keys (leaves VARCHAR, or JSON where typed)."""
    fields = []
    for key, child in sorted(tree.items()):
        path = f"{prefix}.{key}"
        fields.append(f'"{key}" ' + (_struct_type(child, path) if child else _leaf(path)))
    return f"STRUCT({', '.join(fields)})"


def _tree() -> dict[str, Any]:
    """The keys of :data:`PATHS` as a tree (a node with children becomes a STRUCT)."""
    root: dict[str, Any] = {}
    for path in PATHS.values():
        node = root
        for part in path.removeprefix("$.").split("."):
            node = node.setdefault(part, {})
    return root


def typed_paths(top: str = '"{}"') -> dict[str, str]:
    """Each PATHS value as the typed reader has it: a STRUCT, a VARCHAR or a JSON leaf.

    NULL exactly where the statement has no such key (or a null there). ``top`` as in
    :func:`typed_defs`.
    """
    out = {}
    for name, path in PATHS.items():
        parts = path.removeprefix("$.").split(".")
        expr = top.format(parts[0])
        for part in parts[1:]:
            expr = f"struct_extract({expr}, '{part}')"
        out[name] = expr
    return out


def typed_defs(top: str = '"{}"') -> dict[str, str]:
    """Each PATHS column (value, and ``_t``: its JSON type) as an expression over the typed reader.

    Only the values whose JSON type a check needs (numbers, booleans, objects kept as
    text) are read as JSON; other leaves are read as text, which the reader converts
    without a second parse (a non-string there fails the value's own pattern check).
    ``top`` names a top-level column of the reader (``{}``: the statement's key).
    """
    tree = _tree()
    out = {}
    for name, expr in typed_paths(top).items():
        path = PATHS[name]
        node = tree
        for part in path.removeprefix("$.").split("."):
            node = node[part]
        if node:  # an object with known keys: only its presence is read
            value, kind = "NULL::VARCHAR", "'OBJECT'"
        elif path in JSON_LEAVES:
            value, kind = f"{expr}->>'$'", f"json_type({expr})"
        else:
            value, kind = expr, "'VARCHAR'"
        out[name] = value
        out[f"{name}_t"] = f"CASE WHEN {expr} IS NOT NULL THEN {kind} END"
    return out


def path_columns() -> str:
    """The PATHS columns (value and type) as a select list over the typed reader."""
    return ",\n        ".join(f"{expr} AS {name}" for name, expr in typed_defs().items())


def top_keys() -> list[str]:
    """The statement keys the typed reader reads (its top-level columns)."""
    return sorted(_tree())


def typed_columns() -> str:
    """The reader's ``columns`` argument (a STRUCT type per statement part)."""
    return ", ".join(
        f"'{k}': '{_struct_type(v, '$.' + k) if v else _leaf('$.' + k)}'"
        for k, v in sorted(_tree().items())
    )


def typed_source(literal: str, fmt: str) -> str:
    """Each statement of a file parsed once into typed columns, beside its text.

    DuckDB's typed JSON reader (a STRUCT per statement part) fails on a value of an
    unexpected shape (an actor that is a string, say); the caller then takes the JSON
    path, whose checks name the value. The objects reader gives each statement's text
    as read (``line``, stored as is) and its keys (the typed reader skips unknown
    ones). Both read the file in order and skip the same blank lines, so a positional
    join pairs them without a hash join.
    """
    columns = typed_columns()
    return (
        f"SELECT ln, line, 'OBJECT' AS jt, keys, r.* FROM (SELECT ordinality AS ln, "
        f"json::VARCHAR AS line, json_keys(json) AS keys FROM read_json_objects({literal}, "
        f"format='{fmt}') WITH ORDINALITY) POSITIONAL JOIN "
        f"read_json({literal}, format='{fmt}', columns={{{columns}}}) r"
    )


def stage_sql(reader: str, table: str, *, typed: bool) -> str:
    """The staging query over ``reader`` (:func:`typed_source`, or a JSON objects reader)."""
    if typed:
        source = f"SELECT ln, line, jt, keys,\n        {path_columns()}\n    FROM ({reader})"
    else:
        paths = ", ".join(_lit(path) for path in PATHS.values())
        columns = ",\n        ".join(
            f"v[{i}] AS {name}, t[{i}] AS {name}_t" for i, name in enumerate(PATHS, start=1)
        )
        source = f"""SELECT ln, line, jt, keys, {columns} FROM (
        -- one parse per statement for all values, one for their types, one for the keys
        SELECT ordinality AS ln, json::VARCHAR AS line, json_type(json) AS jt,
            json_extract_string(json, [{paths}]) AS v, json_type(json, [{paths}]) AS t,
            CASE WHEN json_type(json) = 'OBJECT' THEN json_keys(json) END AS keys
        FROM {reader} WITH ORDINALITY)"""
    first = ",\n        ".join(f"{expr} AS {name}" for name, expr in DERIVED_FIRST)
    then = ",\n    ".join(f"{expr} AS {name}" for name, expr in DERIVED)
    return f"""
CREATE OR REPLACE TEMP VIEW {table}_src AS
WITH q AS ({source}
), r AS (
    SELECT *, {first}
    FROM q
)
SELECT *,
    {then}
FROM r
"""


def _score(k: str) -> str:
    return f"CASE WHEN {k}_t IN ('DOUBLE', 'UBIGINT', 'BIGINT') THEN {k}::DOUBLE END"


_RELATED = ["auth", "instr", "team", "sactor", "sinstr", "steam"]
# Derived columns over the PATHS columns: a first layer, then the ones that use it.
DERIVED_FIRST: list[tuple[str, str]] = [
    ("o_type", "coalesce(o_type_raw, 'Activity')"),
    ("ctx_ids", _context_ids("ca")),
    ("result_duration_s", _duration_seconds("duration")),
    ("ts", timestamp_sql("ts_raw")),
    ("actor_ifi", ifi_sql("actor")),
    (
        "object_id",
        f"CASE WHEN o_type_raw IN ('Agent', 'Group') THEN {ifi_sql('obj')} "
        "WHEN o_type_raw = 'StatementRef' THEN lower(o_id) "
        "WHEN coalesce(o_type_raw, 'Activity') = 'Activity' THEN o_id END",
    ),
]
DERIVED: list[tuple[str, str]] = [
    # no id: a UUID derived from what the statement says, so re-importing it is a no-op
    (
        "statement_id",
        "CASE WHEN id IS NOT NULL THEN lower(id) WHEN jt = 'OBJECT' THEN "
        "regexp_replace(md5(concat_ws('|', actor_ifi, verb_id, o_type, object_id, ts_raw, "
        "reg, scaled, raw, success, completion, duration, ca)), "
        "'^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\\1-\\2-\\3-\\4-\\5') END",
    ),
    ("object_type", "o_type"),
    ("registration", "lower(reg)"),
    ("result_score_scaled", _score("scaled")),
    ("result_score_raw", _score("raw")),
    ("result_score_min", _score("min")),
    ("result_score_max", _score("max")),
    ("result_success", "CASE WHEN success_t = 'BOOLEAN' THEN success::BOOLEAN END"),
    ("result_completion", "CASE WHEN completion_t = 'BOOLEAN' THEN completion::BOOLEAN END"),
    # agents in the actor / object position (related false), and everywhere else
    (
        "agents_main",
        "list_distinct([actor_ifi, CASE WHEN o_type IN ('Agent', 'Group') THEN "
        f"{ifi_sql('obj')} END])",
    ),
    # list_distinct drops the NULLs; only where some related agent is there at all
    (
        "agents_related",
        f"CASE WHEN {' OR '.join(f'{p}_t IS NOT NULL' for p in [*_RELATED, 'sobj'])} OR "
        f"{' OR '.join(f'{p}_member IS NOT NULL' for p in AGENTS)} THEN list_distinct(list_concat("
        f"[{', '.join(ifi_sql(a) for a in _RELATED)}, CASE WHEN sobj_type IN ('Agent', 'Group') "
        f"THEN {ifi_sql('sobj')} END], "
        f"CASE WHEN {' OR '.join(f'{p}_member IS NOT NULL' for p in AGENTS)} THEN "
        f"list_transform(list_concat({', '.join(_members(p) for p in AGENTS)}), "
        f"lambda a: {ifi_json_sql('a')}) END)) END",
    ),
    (
        "sub_activities",
        f"CASE WHEN o_type = 'SubStatement' THEN list_filter(list_concat({_context_ids('s_ca')}, "
        "[CASE WHEN coalesce(sobj_type, 'Activity') = 'Activity' THEN s_obj_id END]), "
        "lambda x: x IS NOT NULL) END",
    ),
]


# The staged columns the conflict checks and the write read (the text is read again).
WRITTEN = (
    "ln",
    "statement_id",
    "actor_ifi",
    "verb_id",
    "object_type",
    "object_id",
    "registration",
    "result_score_scaled",
    "result_score_raw",
    "result_score_min",
    "result_score_max",
    "result_success",
    "result_completion",
    "result_duration_s",
    "ts",
    "ts_raw",
    "ts_raw_t",
    "version",
    "version_t",
    "auth_t",
    "id_t",
    "stored_raw_t",
    "ctx_ids",
    "agents_main",
    "agents_related",
    "sub_activities",
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
