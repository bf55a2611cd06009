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
where the work is done changes. The statement text is not kept; the write reads it
again from the file (:func:`lines_sql`).
"""

from __future__ import annotations

import re

from impactlens.store.xapi_checks import _AGENT_FIELDS, CHECKS
from impactlens.store.xapi_stage import (
    DERIVED,
    DERIVED_FIRST,
    WRITTEN,
    top_keys,
    typed_columns,
    typed_defs,
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


def narrow_sql(literal: str, fmt: str, table: str) -> str:
    """Create ``table``: the ``WRITTEN`` columns and ``bad``, from the typed reader alone.

    Every check but the one of the statement's keys (the typed reader skips unknown
    keys: :func:`keys_sql`, a scan of its own). ``WITH ORDINALITY`` numbers the
    statements in file order (it holds the reader to one thread: DuckDB's parallel JSON
    read does not keep the order, and nothing else gives a statement's position).
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
    return f"""
CREATE OR REPLACE TEMP TABLE {table} AS
SELECT {written}, CASE WHEN {bad} THEN true ELSE false END AS bad FROM (
    SELECT *, {then} FROM (
        SELECT *, {first} FROM (
            SELECT ordinality AS ln, 'OBJECT' AS jt, {tops},
            {paths}
            FROM read_json({literal}, format='{fmt}', columns={{{typed_columns()}}})
            WITH ORDINALITY)))
"""


def keys_sql(objects: str) -> str:
    """How many statements of ``objects`` have a key the statement does not allow."""
    bad = " OR ".join(f"({c})" for c in _on_keys())
    return (
        f"SELECT count(*) FILTER (WHERE {bad}) FROM "
        f"(SELECT 'OBJECT' AS jt, json_keys(json) AS keys FROM {objects})"
    )


def _on_keys() -> list[str]:
    return [c for _, _, c in CHECKS if re.search(r"\bkeys\b", _QUOTED.sub("", c))]


def _reads(cond: str, names: set[str]) -> bool:
    return any(w in names for w in _WORD.findall(_QUOTED.sub("", cond)))


def lines_sql(objects: str) -> str:
    """Each statement's text as read (``line``), by its position in the file (``ln``)."""
    return f"(SELECT ordinality AS ln, json::VARCHAR AS line FROM {objects} WITH ORDINALITY)"
