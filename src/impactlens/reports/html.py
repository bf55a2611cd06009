"""The self-contained HTML impact report: one file, inline CSS and SVG, no network.

Layout follows docs/report.md: the sponsor's first screen, then the analyst's detail.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from impactlens.domain.result import AnalysisResult
from impactlens.reports.context import report_context


@cache
def _environment() -> Environment:
    # autoescape everything: program titles, KPI ids and warnings come from user files.
    return Environment(
        loader=PackageLoader("impactlens.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _css() -> Markup:
    # Our own stylesheet, inlined so the file needs nothing else.
    return Markup(files("impactlens.reports").joinpath("templates/report.css").read_text("utf-8"))


def render_report(result: AnalysisResult) -> str:
    """Render one self-contained HTML document for an analysis result."""
    template = _environment().get_template("report.html.j2")
    return template.render(css=_css(), **report_context(result))


def write_report(result: AnalysisResult, out: Path) -> Path:
    """Write the report to ``out`` atomically (a temp file in the same folder, then rename).

    A reader never sees a half-written report, and a failed render leaves the old
    file in place.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = render_report(result)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
