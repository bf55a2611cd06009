"""``surveys``: one answer per row; anonymous rows are keyed by a hash of their values."""

from impactlens.ingest.base import ImportKind, register, text
from impactlens.store.base import ColumnPlan

LEVELS = ("reaction", "relevance", "confidence", "intent", "application", "preference")

SURVEYS = register(
    ImportKind(
        name="surveys",
        table="surveys",
        plans=(
            text("response_id"),
            text("program", required=True),
            text("question_id", required=True),
            text("response", required=True),
            ColumnPlan("response_num", "answer", source="response"),
            ColumnPlan("submitted_at", "timestamp", required=True),
            text("person_id"),
            ColumnPlan("level", "enum", choices=LEVELS),
            text("comment"),
        ),
        # response_id when given, else row_hash (the store keys on the first non-null)
        key=("response_id", "row_hash"),
        person="person_id",
        person_required=False,
        row_hash=True,
    )
)
