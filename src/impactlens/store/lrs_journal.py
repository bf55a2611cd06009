"""The LRS's statement journal: acknowledged statements made durable before DuckDB has them.

A DuckDB commit costs a few milliseconds whatever its size, so committing every POSTed
batch on its own caps the LRS at a few thousand statements per second. Instead the server
appends each accepted batch's rows (Arrow IPC, the stored time set; the text is stamped
with it when the rows are stored) to a journal file and answers once an ``fdatasync``
covering them returns: many requests share one sync. The rows are moved into DuckDB later
in large transactions. The journal has two files: a move starts by switching appends to
the other (empty) one, so statements keep being accepted while the rows of the first are
stored, and the first is emptied once they are committed. A store opened for writing first
moves in whatever the files still hold (a server that stopped before moving them), the
older file first, skipping statements already stored, so an acknowledged statement
survives a crash either way.

A record is ``MAGIC``, the payload's length and CRC-32, then the payload: two Arrow IPC
streams (statements, references) with their lengths. A torn last record (a crash during
the append, before its sync) fails its check and is ignored: it was never acknowledged.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from impactlens.store.lrs_sql import NewStatements, ipc_bytes, ipc_table

MAGIC = b"ILJ1"
_HEAD = struct.Struct("<4sQI")  # magic, payload length, crc32
_PART = struct.Struct("<Q")
_MARK = "impactlens.stored_mark"  # schema metadata: the mark in the rows' text
_log = logging.getLogger(__name__)


def journal_path(store_path: Path) -> Path:
    """Where the journal of the DuckDB store at ``store_path`` lives (beside it).

    Its second file is :func:`other_file` of it.
    """
    return store_path.with_name(store_path.name + ".xapi-journal")


def other_file(path: Path) -> Path:
    """The journal's second file: appends go there while the first one's rows are moved."""
    return path.with_name(path.name + ".2")


def read_journal(path: Path) -> Iterator[NewStatements]:
    """The complete records of both files of the journal at ``path``, in the order accepted.

    The file a move switched away from holds the older statements: stored times rise
    from one record to the next, so the file whose first record is older comes first.
    """
    files = []
    for file in (path, other_file(path)):
        records = read_records(file)
        first = next(records, None)
        if first is not None:
            files.append((_first_stored(first), first, records))
    for _, first, records in sorted(files, key=lambda f: f[0]):
        yield first
        yield from records


def _first_stored(new: NewStatements) -> Any:
    return new.statements["stored"][0].as_py()


def encode(new: NewStatements) -> bytes:
    """One record holding ``new``: rows with their stored time, stamped or not.

    A record of rows not yet stamped (:meth:`NewStatements.dated`) carries the mark
    their text has in place of the stored time, which differs from process to process.
    """
    statements = new.statements.replace_schema_metadata({_MARK: new.mark})
    parts = [ipc_bytes(statements), ipc_bytes(new.refs)]
    payload = b"".join(_PART.pack(len(p)) + p for p in parts)
    return _HEAD.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def read_records(path: Path) -> Iterator[NewStatements]:
    """The complete records of a journal file, in order (a torn tail is left out)."""
    if not path.exists():
        return
    data = memoryview(path.read_bytes())
    at = 0
    while at + _HEAD.size <= len(data):
        magic, length, crc = _HEAD.unpack_from(data, at)
        payload = data[at + _HEAD.size : at + _HEAD.size + length]
        if magic != MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
            _log.warning("%s: a torn record at byte %d is ignored (never acknowledged)", path, at)
            return
        tables, inner = [], 0
        for _ in range(2):
            (size,) = _PART.unpack_from(payload, inner)
            tables.append(ipc_table(payload[inner + _PART.size : inner + _PART.size + size]))
            inner += _PART.size + size
        mark = (tables[0].schema.metadata or {}).get(_MARK.encode())
        statements = tables[0].replace_schema_metadata(None)
        yield (
            NewStatements(statements, tables[1], mark.decode())
            if mark
            else NewStatements(statements, tables[1])  # written stamped
        )
        at += _HEAD.size + length


class Journal:
    """The two append-only files of one DuckDB store's journal, with group ``fdatasync``.

    Appends go to the active file; :meth:`switch` makes the other one active (before a
    move), :meth:`retire` empties the one switched away from (after the move commits).
    Offsets are logical (bytes ever appended), so a caller waiting for its record to be
    synced is answered correctly after a switch or after the files were emptied: a switch
    syncs the file it leaves, and emptying happens only once the rows are committed in
    DuckDB, which is durable too. Callers append, switch, retire and clear in the order
    the rows are to be stored, under one lock (the statement writer's).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fds = [
            os.open(file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            for file in (path, other_file(path))
        ]
        _sync_directory(path.parent)  # the files' names are durable before any answer
        self._active = 0
        self._written = 0  # logical bytes appended
        self._synced = 0  # logical bytes known durable
        self._lock = threading.Lock()  # _written, _synced, _active
        self._sync_lock = threading.Lock()  # one fdatasync at a time

    @property
    def written(self) -> int:
        """The logical offset of the end of what was appended."""
        with self._lock:
            return self._written

    def append(self, new: NewStatements) -> int:
        """Write a record (not yet synced) to the active file; return the offset covering it."""
        record = encode(new)
        view = memoryview(record)
        fd = self._fds[self._active]
        while view:
            view = view[os.write(fd, view) :]
        with self._lock:
            self._written += len(record)
            return self._written

    def sync(self, upto: int) -> None:
        """Return once everything up to logical offset ``upto`` is durable.

        Concurrent callers share syncs: whoever syncs covers all bytes written before it
        started, so the others find their offset covered and return.
        """
        with self._sync_lock:
            with self._lock:
                if self._synced >= upto:
                    return
            self._sync_active()

    def switch(self) -> None:
        """Sync the active file and make the other (empty) one active."""
        with self._sync_lock:
            self._sync_active()
            with self._lock:
                self._active = 1 - self._active

    def _sync_active(self) -> None:
        """fdatasync the active file: all written so far is durable (under _sync_lock)."""
        with self._lock:
            end, fd = self._written, self._fds[self._active]
        os.fdatasync(fd)
        with self._lock:
            self._synced = max(self._synced, end)

    def retire(self) -> None:
        """Empty the file switched away from: its records are committed in DuckDB."""
        os.ftruncate(self._fds[1 - self._active], 0)

    def clear(self) -> None:
        """Empty both files: every record is committed in DuckDB."""
        with self._sync_lock:
            for fd in self._fds:
                os.ftruncate(fd, 0)
            with self._lock:
                self._synced = self._written

    def close(self) -> None:
        """Close the files (their records stay for the next open to move in)."""
        for fd in self._fds:
            os.close(fd)


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
