"""Write a program's report and export its figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from impactlens.domain.result import AnalysisResult
from impactlens.reports.html import write_report


def write_program_report(result: AnalysisResult, out: Path) -> Path:
    """Write the self-contained HTML report of an analysed program."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_report(result, out)


def export_result(result: AnalysisResult, out_dir: Path) -> list[Path]:
    """Write estimates, metrics, trend, event study and the ROI ledger as Parquet and CSV."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames: dict[str, pd.DataFrame] = {
        "estimates": result.kpis_frame(),
        "roi_ledger": result.ledger_frame(),
        "roi": pd.DataFrame(
            [result.roi.model_dump(exclude={"ledger", "cost_items", "conventions", "intangibles"})]
        ),
        "trend": pd.DataFrame(
            [{"kpi": k.kpi, **p.model_dump()} for k in result.kpis for p in k.trend]
        ),
        "event_study": pd.DataFrame(
            [{"kpi": k.kpi, **p.model_dump()} for k in result.kpis for p in k.by_event_time]
        ),
        "balance": pd.DataFrame(
            [{"kpi": k.kpi, **b.model_dump()} for k in result.kpis for b in k.balance]
        ),
        "metrics": pd.json_normalize(
            [
                {"tier": t, **({"value": v} if not isinstance(v, dict) else v)}
                for t, v in result.metrics.items()
            ],
            sep=".",
        ).astype("string"),
    }
    written: list[Path] = []
    for name, frame in frames.items():
        for ext in ("parquet", "csv"):
            path = out_dir / f"{name}.{ext}"
            tmp = path.with_suffix(path.suffix + ".tmp")
            if ext == "parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
            tmp.replace(path)
            written.append(path)
    return written
