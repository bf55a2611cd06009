"""The SQL of the fast path: one pass from a file to a typed table with a per-row check.

The text path stages a file as text, checks it, then builds the typed table (three
passes over the data and two materialised copies). Here one ``CREATE TABLE AS``
reads the file, trims, parses and folds every check of the text path into one
``_bad`` flag; a problem sends the caller back to the text path for the message.
Layers, innermost first::

    raw    : NULLIF(trim(value), '') per column, as the text path stages it
    parsed : plan columns parsed (no defaults yet), extras and kept columns as
             text, _ref, _h, and the raw values the checks need as _raw<i>
    flagged: defaults applied, _raw<i> dropped, _bad = any check failed
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from impactlens.store.base import ColumnPlan
from impactlens.store.parsing import SQL_TYPES, literal, parse_sql, quote


def ref_sql(person_ref: Sequence[str], columns: Sequence[str]) -> str | None:
    """The ``_ref`` expression: ``id:<raw>`` or ``<column>:<lower value>``, first non-empty.

    Examples:
        >>> print(ref_sql(["person_id", "email"], ["email"]))
        CASE WHEN "email" IS NOT NULL THEN 'email:' || lower("email") END
        >>> ref_sql(["person_id"], ["x"])
        'CAST(NULL AS VARCHAR)'
    """
    if not person_ref:
        return None
    refs = [c for c in person_ref if c in columns]
    if not refs:
        return "CAST(NULL AS VARCHAR)"
    whens = []
    for c in refs:
        q = quote(c)
        tag = f"'id:' || {q}" if c == person_ref[0] else f"{literal(c + ':')} || lower({q})"
        whens.append(f"WHEN {q} IS NOT NULL THEN {tag}")
    return f"CASE {' '.join(whens)} END"


def ref_source(person_ref: Sequence[str], columns: Sequence[str]) -> tuple[str, str] | None:
    """Where the person references of a typed table are: ``(column, prefix)``.

    With only the id column present a reference is ``'id:' || id``: the raw column
    serves, and the table is spared a second copy of every id (``_ref``).

    Examples:
        >>> ref_source(["person_id", "email"], ["person_id", "x"])
        ('person_id', 'id:')
        >>> ref_source(["person_id", "email"], ["person_id", "email"])
        ('_ref', '')
    """
    if not person_ref:
        return None
    if [c for c in person_ref if c in columns] == [person_ref[0]]:
        return person_ref[0], "id:"
    return "_ref", ""


def untrimmed(
    columns: Sequence[str],
    plans: Sequence[ColumnPlan],
    *,
    row_hash: bool = False,
) -> set[str]:
    """Columns read only by checked parses, which need not be trimmed first.

    Trimming is a third of the pass. A parse that tolerates the padding gives the
    trimmed value's result; one that does not fails the row's check, and the
    text path (which trims) takes over. Text, source (never checked) and hashed
    columns are always trimmed.

    Examples:
        >>> plans = [ColumnPlan("a", "double"), ColumnPlan("b"), ColumnPlan("c", "date")]
        >>> sorted(untrimmed(["a", "b", "c", "d"], plans))
        ['a', 'c']
    """
    if row_hash:
        return set()
    parsed = {p.name for p in plans if p.source is None and p.parse != "text"}
    text = {p.name for p in plans if p.source is None and p.parse == "text"}
    text |= {p.source for p in plans if p.source is not None}
    return {c for c in columns if c in parsed and c not in text}


def hash_sql(columns: Sequence[str]) -> str:
    """The sha256 of a row's raw values (name, value pairs, sorted by name)."""
    parts = ", ".join(f"{literal(c)}, coalesce({quote(c)}, chr(0))" for c in sorted(columns))
    return f"sha256(concat_ws(chr(31), {parts}))"


def _plan_sql(plan: ColumnPlan, columns: Sequence[str]) -> str:
    """The parsed value of a plan, without its default (checks need the bare parse)."""
    column = plan.source or plan.name
    if column in columns:
        return parse_sql(plan, quote(column))
    default = "NULL" if plan.default is None else literal(plan.default)
    return f"CAST({default} AS {SQL_TYPES[plan.parse]})"


def _checks(plan: ColumnPlan, parsed: str, raw: str) -> list[str]:
    """The conditions under which the text path's ``first_failure`` reports this plan."""
    out = []
    if plan.required:
        out.append(f"{raw} IS NULL")
    if plan.parse != "text":
        out.append(f"({raw} IS NOT NULL AND {parsed} IS NULL)")
    if plan.low is not None and plan.high is not None:
        out.append(f"coalesce(NOT ({parsed} BETWEEN {plan.low} AND {plan.high}), false)")
    return out


def parse_select(
    raw: str,
    columns: Sequence[str],
    plans: Sequence[ColumnPlan],
    extras: Mapping[str, str | None],
    *,
    person_ref: Sequence[str] = (),
    person_required: bool = False,
    keep: Sequence[str] = (),
    row_hash: bool = False,
) -> str:
    """The one-pass SELECT over ``raw`` (a query of trimmed text columns ``columns``)."""
    select: list[str] = []
    raws: list[str] = []
    checks: list[str] = []
    for plan in plans:
        parsed = _plan_sql(plan, columns)
        select.append(f"{parsed} AS {quote(plan.name)}")
        if plan.name in columns and plan.source is None:
            alias = f"_raw{len(raws)}"
            found = _checks(plan, quote(plan.name), alias)
            if found:
                raws.append(f"{quote(plan.name)} AS {alias}")
                checks += found
    select += [quote(c) for c in [*extras, *keep]]
    for name, sql_type in extras.items():
        if sql_type == "DOUBLE":  # earlier imports made it a number column
            checks.append(
                f"({quote(name)} IS NOT NULL AND TRY_CAST({quote(name)} AS DOUBLE) IS NULL)"
            )
    source = ref_source(person_ref, columns)
    if source is not None:
        if source[0] == "_ref":
            select.append(f"{ref_sql(person_ref, columns)} AS _ref")
        if person_required:
            checks.append(f"{quote(source[0])} IS NULL")
    if row_hash:
        select.append(f"{hash_sql(columns)} AS _h")
    defaults = [
        f"coalesce({quote(p.name)}, CAST({literal(p.default)} AS {SQL_TYPES[p.parse]})) "
        f"AS {quote(p.name)}"
        for p in plans
        if p.default is not None and (p.source or p.name) in columns
    ]
    exclude = f" EXCLUDE ({', '.join(r.split(' AS ')[-1] for r in raws)})" if raws else ""
    replace = f" REPLACE ({', '.join(defaults)})" if defaults else ""
    bad = " OR ".join(checks) or "false"
    parsed_layer = f"SELECT {', '.join(select + raws)} FROM ({raw})"
    return f"SELECT *{exclude}{replace}, ({bad}) AS _bad FROM ({parsed_layer})"


def output_select(
    table: str,
    offset: int,
    plans: Sequence[ColumnPlan],
    extras: Mapping[str, str],
    joins: Sequence[tuple[str, str, str]],
    *,
    row_hash: bool = False,
) -> str:
    """The rows to write: ``_row``, plans (remapped through ``joins``), typed extras.

    ``joins`` are ``(column, source, mapping table)``; a mapping table has ``old``
    and ``new``.
    """
    mapped = {column: i for i, (column, _, _) in enumerate(joins)}
    select = [f"t.rowid + {offset} AS _row"]
    for plan in plans:
        col = f"t.{quote(plan.name)}"
        if plan.name in mapped:
            col = f"coalesce(m{mapped[plan.name]}.new, {col})"
        select.append(f"{col} AS {quote(plan.name)}")
    for name, sql_type in extras.items():
        select.append(f"TRY_CAST(t.{quote(name)} AS {sql_type}) AS {quote(name)}")
    if row_hash:
        # the occurrence among identical rows keeps repeated anonymous answers distinct
        select.append(
            "sha256(t._h || ':' || row_number() OVER (PARTITION BY t._h ORDER BY t.rowid)) "
            "AS row_hash"
        )
    sql = f"SELECT {', '.join(select)} FROM {table} t"
    for i, (_, source, mapping) in enumerate(joins):
        sql += f" LEFT JOIN {mapping} m{i} ON t.{quote(source)} = m{i}.old"
    return sql
