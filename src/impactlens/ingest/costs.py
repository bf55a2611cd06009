"""``costs``: what a program cost, item by item, and the share charged to it."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

CATEGORIES = (
    "needs_assessment",
    "development",
    "delivery",
    "participant_time",
    "evaluation",
    "overhead",
)

COSTS = register(
    ImportKind(
        name="costs",
        table="costs",
        plans=(
            text("program", required=True),
            text("item", required=True),
            ColumnPlan("amount", "double", required=True),
            ColumnPlan("category", "enum", choices=CATEGORIES),
            ColumnPlan("prorate_share", "double", low=0, high=1, default="1.0"),
            text("currency"),
        ),
        key=("program", "item"),
    )
)
