"""``assessments``: skill scores, before and after the program."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

PHASES = ("pre", "post", "followup")

ASSESSMENTS = register(
    ImportKind(
        name="assessments",
        table="assessments",
        plans=(
            text("person_id", required=True),
            text("skill", required=True),
            ColumnPlan("taken_at", "timestamp", required=True),
            ColumnPlan("score", "double", required=True),
            ColumnPlan("min_score", "double"),
            ColumnPlan("max_score", "double"),
            ColumnPlan("phase", "enum", choices=PHASES),
            ColumnPlan("confidence", "double", low=1, high=5),
            text("program"),
        ),
        key=("person_id", "skill", "taken_at"),
        person="person_id",
    )
)
