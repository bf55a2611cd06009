"""Text clean-up in Ibis expressions that gives the same answer on every engine."""

from __future__ import annotations

import ibis.expr.types as ir


def trimmed(value: ir.StringValue) -> ir.StringValue:
    """``value`` without surrounding whitespace.

    Ibis' ``strip()`` becomes ``TRIM(' \\t\\n\\r\\v\\f' FROM x)``; Spark SQL reads the
    escapes it does not know (``\\v``, ``\\f``) as the letters v and f and trims those
    too, so a pseudonym ending in ``f`` lost it there. A regular expression means the
    same everywhere.

    Examples:
        >>> import ibis
        >>> ibis.duckdb.connect().execute(trimmed(ibis.literal(" p_0f\\t")))
        'p_0f'
    """
    return value.re_replace(r"^\s+|\s+$", "")
