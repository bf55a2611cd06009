"""What the Learning Record Store needs from a store: statements, attachments, documents,
clients. :mod:`.duckdb_lrs` and :mod:`.postgres_lrs` implement it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from impactlens.domain.errors import WorkspaceError
from impactlens.store.base import Store

if TYPE_CHECKING:
    from impactlens.store.lrs_sql import NewStatements


@dataclass(frozen=True)
class StatementQuery:
    """The filters of GET /statements (Communication 2.1.3) plus the paging cursor.

    ``agent`` is a canonical IFI string; ``after_seq`` continues a page (exclusive, in
    the query's order); ``through_seq`` caps the result at what existed when the first
    page was read, so paging is stable while statements arrive.
    """

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    ascending: bool = False
    limit: int = 100
    after_seq: int | None = None
    through_seq: int | None = None


@dataclass(frozen=True)
class StoredStatement:
    """A statement as stored: its order key, id, JSON text and whether it is voided."""

    seq: int
    statement_id: str
    text: str
    voided: bool
    stored: datetime


@dataclass(frozen=True)
class Document:
    """A state, activity profile or agent profile document."""

    document_id: str
    content_type: str
    content: bytes
    etag: str
    updated: datetime


@dataclass(frozen=True)
class DocumentKey:
    """Where a document lives: its kind (state | activity_profile | agent_profile) and owners.

    Unused parts are empty strings (never NULL), so keys compare with plain equality.
    """

    kind: str
    activity_id: str = ""
    agent_ifi: str = ""
    registration: str = ""


@dataclass(frozen=True)
class Client:
    """An xAPI client's credentials as stored."""

    key: str
    name: str
    scope: str
    secret_hash: str


class LrsStore(ABC):
    """The LRS tables of one store."""

    # True when other processes write the same tables (PostgreSQL): what this process
    # last wrote is then no guide to what is stored
    shared: bool = False

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all."""

    # -- statements --------------------------------------------------------------

    @abstractmethod
    def find(self, ids: Sequence[str]) -> dict[str, StoredStatement]:
        """Stored statements by (lower-case) id."""

    @abstractmethod
    def insert(self, new: NewStatements, stored: datetime | None = None) -> None:
        """Append statements in order (``seq`` continues) with their references.

        ``stored`` is the stored time of pending rows; None keeps the rows' own.
        """

    @abstractmethod
    def void(self, ids: Sequence[str]) -> None:
        """Mark statements voided (voiding statements themselves are never voided)."""

    @abstractmethod
    def query(self, q: StatementQuery) -> list[StoredStatement]:
        """Statements matching ``q``, voided ones left out, at most ``q.limit + 1``."""

    @abstractmethod
    def last_seq(self) -> int:
        """The highest ``seq`` stored (0: none)."""

    @abstractmethod
    def last_stored(self) -> datetime | None:
        """The latest ``stored`` time (None: no statements)."""

    @abstractmethod
    def activity_statements(self, activity_id: str, limit: int) -> list[str]:
        """The JSON of the latest statements mentioning an activity, oldest first."""

    # -- attachments -------------------------------------------------------------

    @abstractmethod
    def put_attachments(self, parts: dict[str, tuple[str, bytes]]) -> None:
        """Store attachment content by sha2 (content type, bytes); known ones are kept."""

    @abstractmethod
    def attachments(self, hashes: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """Stored attachment content by sha2."""

    # -- documents ---------------------------------------------------------------

    @abstractmethod
    def document(self, key: DocumentKey, document_id: str) -> Document | None:
        """One document, or None."""

    @abstractmethod
    def document_ids(self, key: DocumentKey, since: datetime | None) -> list[str]:
        """The ids of the documents under ``key`` (updated after ``since``)."""

    @abstractmethod
    def put_document(self, key: DocumentKey, doc: Document) -> None:
        """Create or replace a document."""

    @abstractmethod
    def delete_documents(self, key: DocumentKey, document_id: str | None) -> None:
        """Delete one document, or every document under ``key`` (None)."""

    # -- clients -----------------------------------------------------------------

    @abstractmethod
    def add_client(self, client: Client, at: datetime) -> None:
        """Record new credentials."""

    @abstractmethod
    def client(self, key: str) -> Client | None:
        """Live (not revoked) credentials by key."""


def batched(items: Sequence[str], size: int = 1000) -> Iterator[Sequence[str]]:
    """Slices of at most ``size`` items (keeps IN lists short).

    Examples:
        >>> [list(b) for b in batched(["a", "b", "c"], 2)]
        [['a', 'b'], ['c']]
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lrs_for(store: Store) -> LrsStore:
    """The LRS tables of an open store (DuckDB or PostgreSQL; Spark stores are read-only)."""
    if store.engine == "duckdb":
        from impactlens.store.duckdb_lrs import DuckDBLrs

        return DuckDBLrs(store)
    if store.engine == "postgresql":
        from impactlens.store.postgres_lrs import PostgresLrs

        return PostgresLrs(store)
    raise WorkspaceError(
        f"the Learning Record Store needs a DuckDB or PostgreSQL store; this workspace's "
        f"store is {store.engine} ({store.location}), which is read-only"
    )
