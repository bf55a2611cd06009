"""``participation``: who took part in which program, from when, in which arm."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

STATUSES = ("assigned", "enrolled", "completed", "dropped", "exempt")
ARMS = ("treatment", "control")

PARTICIPATION = register(
    ImportKind(
        name="participation",
        table="participation",
        plans=(
            text("person_id", required=True),
            text("program", required=True),
            ColumnPlan("start_date", "date", required=True),
            ColumnPlan("end_date", "date"),
            text("cohort"),
            ColumnPlan("status", "enum", choices=STATUSES),
            ColumnPlan("arm", "enum", choices=ARMS),
            ColumnPlan("trained_from", "date"),
        ),
        key=("person_id", "program"),
        person="person_id",
    )
)
