"""The store seam: what the rest of ImpactLens may ask of any storage engine.

Readers use :meth:`Store.table` (Ibis expressions run on every engine), the import
log and the fingerprint. The import pipeline also uses the staging and write
primitives below; their SQL is engine-specific and lives beside each engine.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import ibis
import pandas as pd

# How a raw (text) value is parsed into its stored type.
Parse = Literal["text", "date", "timestamp", "double", "duration", "bool", "enum", "answer"]


@dataclass(frozen=True)
class ColumnPlan:
    """How one staged column becomes a stored one.

    ``choices`` lists the allowed values of an ``enum`` (compared lower-cased);
    ``low``/``high`` bound a number; ``required`` rejects empty values; ``source``
    derives the column from another one (an ``answer``: a number, yes/no as 1/0,
    else null; never an error).
    """

    name: str
    parse: Parse = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    default: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class StagedFile:
    """One input file loaded as text into a temporary table.

    ``row_offset`` turns the staged ``_row`` (0-based record) into the number the
    user sees: 2 for CSV (the header is row 1), 1 for JSON Lines and Parquet.
    """

    path: Path
    table: str
    columns: list[str]
    rows: int
    row_offset: int


@dataclass(frozen=True)
class ParsedFile:
    """One input file read once into a typed temporary table, every row checked.

    ``staged.table`` is the typed table (its ``rowid`` is the record's position);
    ``clean`` is False when some row failed a check, and the caller then takes the
    text path, which finds and names the first problem. ``numeric`` lists the
    undecided extra columns whose every non-empty value is a number.
    """

    staged: StagedFile
    clean: bool
    numeric: frozenset[str]
    ref: tuple[str, str] | None = None  # person references: (column, prefix to add)


@dataclass(frozen=True)
class CheckFailure:
    """The first value of a staged file that does not parse."""

    row: int
    column: str
    value: str | None
    problem: str


@dataclass(frozen=True)
class UpsertCount:
    """Rows a write added and replaced (unchanged rows count in neither)."""

    inserted: int
    replaced: int
    unchanged: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Staging(abc.ABC):
    """Temporary tables of one import call; dropped when the call ends."""

    @abc.abstractmethod
    def load(self, path: Path) -> StagedFile:
        """Stage a CSV (.csv, .csv.gz), Parquet or JSON Lines file as text columns."""

    @abc.abstractmethod
    def scan(self, path: Path) -> list[str] | None:
        """A file's lower-cased column names, or None when only the text path can read it."""

    @abc.abstractmethod
    def parse(
        self,
        path: Path,
        columns: Sequence[str],
        plans: Sequence[ColumnPlan],
        extras: Mapping[str, str | None],
        *,
        person_ref: Sequence[str] = (),
        person_required: bool = False,
        keep: Sequence[str] = (),
        row_hash: bool = False,
    ) -> ParsedFile | None:
        """The fast path: parse, type and check a file in one pass (None: use the text path).

        ``extras`` maps extra columns to their SQL type, or None when undecided (kept
        as text; :attr:`ParsedFile.numeric` says which are numbers). ``keep`` are raw
        text columns kept for the caller (identity values). :attr:`ParsedFile.ref`
        names the column of person references (``_ref``, or the id column when it is
        the only one); with ``row_hash`` the table holds ``_h``, the raw values' hash.
        """

    @abc.abstractmethod
    def output(
        self,
        parsed: ParsedFile,
        plans: Sequence[ColumnPlan],
        extras: Mapping[str, str],
        remaps: Sequence[tuple[str, str, Mapping[str, str]]],
        *,
        row_hash: bool = False,
    ) -> str:
        """A view of the rows to write: ``_row``, plan columns, typed extras; return its name.

        Each remap ``(column, source, mapping)`` sets ``column`` to ``mapping[source]``
        where mapped (a join, so the typed table is never rewritten).
        """

    @abc.abstractmethod
    def counts(self, table: str, column: str) -> dict[str, int]:
        """The distinct non-null values of a column and their row counts."""

    @abc.abstractmethod
    def has_duplicate(
        self, table: str, key: Sequence[str], *, first_non_null: bool = False
    ) -> bool:
        """Whether two rows may share a key (a hash check: True can be a rare false alarm)."""

    @abc.abstractmethod
    def first_failure(self, staged: StagedFile, plans: Sequence[ColumnPlan]) -> CheckFailure | None:
        """The first (by row) empty required value, unparseable or out-of-range value."""

    @abc.abstractmethod
    def numeric_columns(self, staged: StagedFile, columns: Sequence[str]) -> set[str]:
        """The columns whose every non-empty value parses as a number."""

    @abc.abstractmethod
    def build(
        self,
        staged: StagedFile,
        plans: Sequence[ColumnPlan],
        extras: Mapping[str, str],
        *,
        person_ref: Sequence[str] = (),
        row_hash: bool = False,
    ) -> str:
        """Create the typed table of a staged file; return its name.

        ``extras`` maps extra columns to their SQL type. ``person_ref`` (id column,
        then identity columns) adds a text column ``_ref``: ``id:<raw>`` or
        ``<column>:<lower-cased value>`` from the first non-empty of them.
        ``row_hash`` adds ``row_hash``: a sha256 of the raw values and the row's
        occurrence among identical rows.
        """

    @abc.abstractmethod
    def distinct(self, table: str, column: str) -> list[str]:
        """The distinct non-null values of a column."""

    @abc.abstractmethod
    def remap(self, table: str, column: str, mapping: Mapping[str, str], source: str) -> None:
        """Set ``column`` to ``mapping[source]`` on every row (``source`` may equal column)."""

    @abc.abstractmethod
    def duplicate(
        self, table: str, key: Sequence[str], *, first_non_null: bool = False
    ) -> tuple[int, int] | None:
        """The first two ``_row`` numbers that share a key, if any.

        ``first_non_null`` keys on the first non-null of the key columns (surveys).
        """

    @abc.abstractmethod
    def first_null(self, table: str, column: str) -> int | None:
        """The ``_row`` of the first row of a typed table where ``column`` is null."""

    @abc.abstractmethod
    def fetch(self, staged: StagedFile, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """(row number, values...) of every staged row (for small files only)."""

    @abc.abstractmethod
    def from_columns(self, columns: Mapping[str, Sequence[object]]) -> str:
        """A staged table from Python columns; return its name."""

    @abc.abstractmethod
    def count_prefixed(self, table: str, column: str, prefix: str) -> int:
        """Rows of a staged table whose ``column`` starts with ``prefix``."""


class Store(abc.ABC):
    """A place where imported data lives; a context manager."""

    engine: str
    location: str
    read_only: bool = False  # an engine that only reads (Spark over an export)

    @abc.abstractmethod
    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the store."""

    @abc.abstractmethod
    def columns(self, name: str) -> dict[str, str]:
        """A table's columns and their SQL types, in order."""

    @abc.abstractmethod
    def fingerprint(self) -> str:
        """A sha256 hex of the stored data: same data, same fingerprint."""

    @abc.abstractmethod
    def imports(self) -> pd.DataFrame:
        """The import log, oldest first."""

    @abc.abstractmethod
    def staging(self) -> AbstractContextManager[Staging]:
        """Temporary tables for one import call."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all."""

    @abc.abstractmethod
    def add_columns(self, name: str, columns: Mapping[str, str]) -> None:
        """Add columns (name -> SQL type) to a stored table."""

    @abc.abstractmethod
    def upsert(self, name: str, source: str, key: Sequence[str]) -> UpsertCount:
        """Write a typed staged table into ``name``: same key replaces, new key inserts.

        The surveys table keys on the first non-null of response_id, row_hash.
        """

    @abc.abstractmethod
    def remap_stored(self, name: str, column: str, mapping: Mapping[str, str]) -> int:
        """Replace values of a stored column by ``mapping``; return rows changed."""

    @abc.abstractmethod
    def delete_where(
        self, name: str, column: str, values: Sequence[str], *, clear: bool = False
    ) -> int:
        """Delete the rows whose ``column`` is one of ``values``; return how many.

        With ``clear`` the rows stay and only that column becomes null (a reference
        to an erased person). Run it inside :meth:`transaction` to erase atomically.
        """

    def values(self, name: str, column: str, *, prefix: str | None = None) -> list[str]:
        """Distinct non-null values of a stored column (optionally starting with ``prefix``)."""
        t = self.table(name)
        kept = t.filter(t[column].notnull())
        if prefix is not None:
            kept = kept.filter(kept[column].startswith(prefix))
        return kept.select(column).distinct().to_pyarrow()[column].to_pylist()

    @abc.abstractmethod
    def log_import(self, entry: Mapping[str, object]) -> int:
        """Append an entry to the import log; return its import_id."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store (and its write lock)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def iter_tables(self) -> Iterator[str]:
        """The data tables, in a fixed order."""
        from impactlens.store.schema import DATA_TABLES

        yield from DATA_TABLES

    def statements_version(self) -> tuple[int, int]:
        """(stored statements, last arrival seq): changes whenever the LRS writes.

        The analysis counts LRS statements as activity, so a cached analysis is stale
        once this changes. Voiding appends a voiding statement, so it moves both; one
        aggregate (about 3 ms over 1M statements on DuckDB) is cheap enough per page.
        """
        t = self.table("xapi_statements")
        row = t.aggregate(n=t.count(), last=t.seq.max().fill_null(0)).to_pyarrow()
        return int(row["n"][0].as_py()), int(row["last"][0].as_py())
