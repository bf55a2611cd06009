"""``people``: one row per person; identity columns go to ``identities`` hashed."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

PEOPLE = register(
    ImportKind(
        name="people",
        table="people",
        plans=(
            text("person_id", required=True),
            text("team_id"),
            text("manager_id"),
            text("role"),
            text("location"),
            text("persona"),
            ColumnPlan("hire_date", "date"),
            ColumnPlan("termination_date", "date"),
        ),
        key=("person_id",),
        pseudonymised=("person_id", "manager_id"),
    )
)
