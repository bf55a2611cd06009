"""JSON in and out of the LRS: orjson on the hot path, the standard library where it is exact.

Parsing and writing statements cost about 30 and 20 us per statement with ``json``
and 3-4 us with orjson (bench/lrs_post.py's statements), a large share of a POST. orjson
is not exact everywhere: it reads integers beyond 64 bits as floats and cannot write
them, so a body with a run of 19 or more digits is parsed by ``json`` (statements must
come back as they were sent), and a value orjson cannot write is written by ``json``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# every digit to "0", every other byte to " ": a run of 19 digits is then a substring
# search, ten times faster than the regular expression \d{19,} on a statement batch
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_RUN = b"0" * 19


def loads(body: bytes | str) -> Any:
    """Parse JSON; raises ``ValueError`` (``json.JSONDecodeError`` is one) when invalid.

    Unlike ``json.loads`` it refuses ``NaN`` and ``Infinity``, which are not JSON.

    Examples:
        >>> loads(b'{"n": 123456789012345678901}')["n"]
        123456789012345678901
        >>> loads('{"a": [1, 2.5]}')
        {'a': [1, 2.5]}
    """
    raw = body.encode() if isinstance(body, str) else body
    if _LONG_RUN in raw.translate(_DIGITS):
        return json.loads(raw, parse_constant=_refuse)
    return orjson.loads(raw)


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is (what ``json.dumps`` gives with
    ``separators=(",", ":"), ensure_ascii=False``).

    Examples:
        >>> dumps({"a": "é", "n": 2**70})
        '{"a":"é","n":1180591620717411303424}'
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# a name's closing quote, white space, then its colon: the fast count below misses that name
_SPACED_COLON = re.compile(r'"\s+:')


def repeated_name(text: str, parsed: Any) -> str | None:
    """A property name some object of the JSON ``text`` gives twice, or None.

    ``parsed`` is ``loads(text)``, which keeps the last of repeated names (as POST does).
    Without an escaped quote or a spaced colon in the text, every ``":`` ends a name, so
    counting them against the names ``parsed`` holds settles it; otherwise the standard
    library parses the text again and looks at each object's names.

    Examples:
        >>> text = '{"verb": {"id": "a"}, "verb": {"id": "b"}}'
        >>> repeated_name(text, loads(text)), repeated_name('{"a": {"a": 1}}', {"a": {"a": 1}})
        ('verb', None)
    """
    plain = '\\"' not in text and not _SPACED_COLON.search(text)
    if plain and text.count('":') == _names(parsed):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for name, _ in items:
            if name in seen and not found:
                found.append(name)
            seen.add(name)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs, parse_constant=_refuse)
    return found[0] if found else None


def _names(value: Any) -> int:
    """How many names the objects in ``value`` hold, nested ones included."""
    total, todo = 0, [value]
    while todo:  # a loop, not recursion: a third of the time on a statement
        item = todo.pop()
        if type(item) is dict:
            total += len(item)
            todo.extend(item.values())
        elif type(item) is list:
            todo.extend(item)
    return total


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
