"""``activity``: learning events (one per person, asset, verb and moment)."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

ACTIVITY = register(
    ImportKind(
        name="activity",
        table="activity",
        plans=(
            text("person_id", required=True),
            text("asset_id", required=True),
            text("verb", required=True),
            ColumnPlan("timestamp", "timestamp", required=True),
            text("program"),
            ColumnPlan("duration_minutes", "duration"),
            ColumnPlan("score", "double"),
            ColumnPlan("max_score", "double"),
            ColumnPlan("success", "bool"),
            ColumnPlan("progress_pct", "double"),
            text("attempt_id"),
        ),
        key=("person_id", "asset_id", "verb", "timestamp"),
        person="person_id",
    )
)
