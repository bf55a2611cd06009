"""``kpis``: one value per KPI, unit and period end; person units are pseudonymised."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

KPIS = register(
    ImportKind(
        name="kpis",
        table="kpis",
        plans=(
            text("kpi", required=True),
            text("unit_id", required=True),
            ColumnPlan("period", "date", required=True),
            ColumnPlan("value", "double", required=True),
            ColumnPlan("weight", "double"),
        ),
        key=("kpi", "unit_id", "period"),
    )
)
