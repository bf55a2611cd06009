"""Hand-made xAPI statements for the LRS import and analysis tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
COURSE = "https://courses.example.com/au/"


def statement(n: int, **changes: Any) -> dict[str, Any]:
    """A valid statement number ``n`` (id, actor, verb, object, result, context, timestamp)."""
    base: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "actor": {"objectType": "Agent", "mbox": f"mailto:p{n % 4:02d}@x.org", "name": "P"},
        "verb": {"id": ADL + "completed", "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": COURSE + str(n % 3)},
        "result": {
            "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
            "success": True,
            "completion": True,
            "duration": "PT1H30M",
        },
        "context": {
            "registration": "AAAAAAAA-0000-4000-8000-000000000001",
            "platform": "LMS",
            "instructor": {"mbox": "mailto:coach@x.org"},
            "contextActivities": {
                "parent": {"id": "https://courses.example.com/course"},
                "grouping": [{"id": "https://courses.example.com/program"}],
            },
        },
        "timestamp": f"2024-03-{1 + n % 28:02d}T10:00:00+02:00",
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def write_lines(path: Path, statements: list[Any], *, blank_after: int | None = None) -> Path:
    """JSON Lines, with an empty line after statement ``blank_after`` (1-based) if given."""
    lines = []
    for i, s in enumerate(statements, start=1):
        lines.append(s if isinstance(s, str) else json.dumps(s))
        if blank_after == i:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
