"""xAPI 1.0.3 (and compatible 2.0.0) statements: validation, agents, rendering. Pure, no I/O.

The modules in :data:`COMPILED` check every POSTed statement and build its rows, the
LRS's hottest Python. ``make compile`` (``scripts/compile-checks.sh``) compiles them with
mypyc into C extensions beside their source, which Python then loads instead of the
``.py``: 1.2-1.5x faster (``bench/lrs_checks.py``); without them the source runs, with the
same answers. An extension older than its source would run stale code, so importing this
package refuses it.
"""

from __future__ import annotations

import sys
import sysconfig
from importlib import machinery
from pathlib import Path
from typing import Any

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


def use_source() -> None:
    """Load this package's modules from their ``.py`` even where an extension is beside them.

    Call it before importing any of :data:`COMPILED` (what an install without the
    extensions runs: the tests and ``bench/lrs_checks.py`` compare the two).
    """
    source = machinery.FileFinder.path_hook((machinery.SourceFileLoader, machinery.SOURCE_SUFFIXES))

    def finder(path: str) -> Any:
        if Path(path) == _HERE:
            return source(path)
        raise ImportError(path)

    sys.path_hooks.insert(0, finder)
    sys.path_importer_cache.pop(str(_HERE), None)


compiled_modules()
