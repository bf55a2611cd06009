"""xAPI 1.0.3 (and compatible 2.0.0) statements: validation, agents, rendering. Pure, no I/O.

The modules in :data:`COMPILED` check every POSTed statement and build its rows, the
LRS's hottest Python. ``make compile`` (``scripts/compile-checks.sh``) compiles them with
mypyc into C extensions beside their source, which Python then loads instead of the
``.py``: 1.2-1.5x faster (``bench/lrs_checks.py``); without them the source runs, with the
same answers. An extension older than its source would run stale code, so importing this
package refuses it.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

COMPILED = ("agents", "formats", "rows", "validation", "values")

_HERE = Path(__file__).parent
_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))


def compiled_modules() -> dict[str, bool]:
    """Whether each of :data:`COMPILED` has a C extension beside its source.

    Raises ``ImportError`` when an extension is older than its source.
    """
    found = {}
    for name in COMPILED:
        ext, source = _HERE / f"{name}{_SUFFIX}", _HERE / f"{name}.py"
        found[name] = ext.exists()
        if found[name] and source.exists() and ext.stat().st_mtime < source.stat().st_mtime:
            raise ImportError(
                f"{ext} was compiled before {source} last changed: run `make compile` "
                "(or delete the extension to run the source)"
            )
    return found


compiled_modules()
