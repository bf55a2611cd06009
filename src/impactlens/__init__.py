"""ImpactLens: what corporate learning changes in the business.

Examples:
    >>> import impactlens
    >>> callable(impactlens.open)
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["__version__", "open"]

if TYPE_CHECKING:
    from impactlens.services.workspace import Workspace


def open(path: str | Path) -> Workspace:
    """Open a workspace folder; ``.analyze(PROGRAM)`` returns the analysis result."""
    from impactlens.services.workspace import open_workspace

    return open_workspace(path)
