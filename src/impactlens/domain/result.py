"""The analysis result: the contract's JSON document as typed objects.

``AnalysisResult.to_dict()`` is exactly what ``impactlens analyze --json`` prints.
Chart series (trend, event study, balance) ride along under extra keys, which the
contract welcomes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Evidence = Literal["strong", "moderate", "weak", "none"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class TrendPoint(_Frozen):
    """Mean KPI of one group in one period (calendar time)."""

    period: str
    group: Literal["treated", "comparison"]
    mean: float | None
    n: int


class EventStudyPoint(_Frozen):
    """Effect at one event time (periods since each cohort's first exposed period)."""

    event_time: int
    effect: float | None
    ci_low: float | None
    ci_high: float | None


class BalanceRow(_Frozen):
    """Standardised mean difference of one covariate before and after weighting."""

    covariate: str
    mean_treated: float | None
    mean_comparison: float | None
    smd_before: float | None
    smd_after: float | None


class KpiResult(_Frozen):
    """One KPI's estimate, as the contract's ``kpis[]`` entry plus diagnostics."""

    kpi: str
    direction: Literal["increase", "decrease"]
    unit: Literal["person", "team"] = "person"
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    relative_effect: float | None
    method: str
    n_treated: int
    n_comparison: int
    evidence: Evidence
    evidence_reasons: list[str]
    target_met: bool | None
    baseline: float | None = None
    target: float | None = None
    primary: bool = False
    pre_mean_treated: float | None = None
    naive_effect: float | None = None
    diagnostics: dict[str, Any] = Field(default_factory=dict)
    trend: list[TrendPoint] = Field(default_factory=list)
    by_event_time: list[EventStudyPoint] = Field(default_factory=list)
    balance: list[BalanceRow] = Field(default_factory=list)


class LedgerLine(_Frozen):
    """One step of the ROI calculation."""

    step: str
    value: float | None
    detail: str = ""


class RoiResult(_Frozen):
    """Phillips ROI with its range from the effect's interval."""

    benefits: float | None
    costs: float | None
    roi_pct: float | None
    roi_pct_low: float | None
    roi_pct_high: float | None
    bcr: float | None
    benefits_low: float | None = None
    benefits_high: float | None = None
    break_even_months: float | None = None
    currency: str = "EUR"
    kpi: str | None = None
    conventions: list[str] = Field(default_factory=list)
    intangibles: list[str] = Field(default_factory=list)
    ledger: list[LedgerLine] = Field(default_factory=list)
    cost_items: list[dict[str, Any]] = Field(default_factory=list)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    sensitivity: list[dict[str, Any]] = Field(default_factory=list)
    conservative: dict[str, Any] | None = None
    participant_estimate: dict[str, Any] | None = None


class Provenance(_Frozen):
    """Where the numbers come from."""

    version: str
    plan_sha256: str
    data_sha256: str
    engine: str
    computed_at: str


class AnalysisResult(_Frozen):
    """The whole analysis of one program."""

    program: str
    kpis: list[KpiResult]
    metrics: dict[str, Any]
    roi: RoiResult
    provenance: Provenance
    warnings: list[str]
    title: str | None = None
    verdict: str = ""
    next_step: str = ""
    plan: dict[str, Any] = Field(default_factory=dict)
    segments: list[dict[str, Any]] = Field(default_factory=list)
    data_health: dict[str, Any] = Field(default_factory=dict)
    # analyst-only ("visibility": "analyst"): pseudonymised best and worst trained units
    success_cases: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON document."""
        return self.model_dump(mode="json")

    def kpis_frame(self) -> Any:
        """The KPI estimates as a pandas DataFrame (one row per KPI)."""
        import pandas as pd

        cols = [
            "kpi",
            "direction",
            "effect",
            "ci_low",
            "ci_high",
            "p_value",
            "relative_effect",
            "method",
            "n_treated",
            "n_comparison",
            "evidence",
            "target_met",
        ]
        return pd.DataFrame([k.model_dump(include=set(cols)) for k in self.kpis], columns=cols)

    def ledger_frame(self) -> Any:
        """The ROI ledger as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([line.model_dump() for line in self.roi.ledger])

    def _repr_html_(self) -> str:
        head = f"<h3>{self.title or self.program}</h3><p>{self.verdict}</p>"
        return head + self.kpis_frame().to_html(index=False, na_rep="–")
