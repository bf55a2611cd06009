"""The import-kind seam: what one kind of file holds, and the registry of kinds.

Each kind module declares an :class:`ImportKind` (columns, how they parse, the key,
who the person is) and registers it; the pipeline does the rest the same way for all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from impactlens.store.base import ColumnPlan


@dataclass(frozen=True)
class ImportKind:
    """One import kind.

    ``person``: the column naming a person that may be given through an identity
    column instead and is resolved against people (None: no such column).
    ``pseudonymised``: columns whose raw ids are always replaced by pseudonyms.
    """

    name: str
    table: str
    plans: tuple[ColumnPlan, ...]
    key: tuple[str, ...]
    person: str | None = None
    person_required: bool = True
    pseudonymised: tuple[str, ...] = ()
    row_hash: bool = False

    @property
    def row_plans(self) -> tuple[ColumnPlan, ...]:
        """The plans checked on each row (a missing person is checked after resolution)."""
        return tuple(replace(p, required=False) if p.name == self.person else p for p in self.plans)

    @property
    def required(self) -> list[str]:
        """Columns every file must have (the person column may come as an identity)."""
        return [p.name for p in self.plans if p.required and p.name != self.person]


@dataclass(frozen=True)
class ImportSummary:
    """What one import call did."""

    kind: str
    files: list[str]
    rows: int
    inserted: int
    replaced: int
    unknown_people: int = 0
    warnings: list[str] = field(default_factory=list)


KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    """Add a kind to the registry (the kind modules call this at import)."""
    KINDS[kind.name] = kind
    return kind


def text(name: str, *, required: bool = False) -> ColumnPlan:
    """A text column.

    Examples:
        >>> text("role").parse
        'text'
    """
    return ColumnPlan(name, "text", required=required)
