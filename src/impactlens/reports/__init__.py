"""The reports layer: the self-contained HTML impact report and its chart specs."""

from impactlens.reports.format import next_step_sentence, verdict_sentence
from impactlens.reports.html import render_report, write_report

__all__ = ["next_step_sentence", "render_report", "verdict_sentence", "write_report"]
