"""A batch's rows as Arrow: built before the store is held, numbered when it is."""

from __future__ import annotations

import json
import pickle
import uuid
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from impactlens.domain.xapi.rows import STORED_MARK, pending_row
from impactlens.store.lrs_sql import COLUMNS, REF_COLUMNS, NewStatements

AUTH = {"objectType": "Agent", "mbox": "mailto:lrs@example.com"}
AT = datetime(2024, 5, 6, 7, 8, 9, 123000)


def _st(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "actor": {"mbox": f"mailto:p{n}@example.com"},
        "verb": {"id": "http://v/did"},
        "object": {"id": f"http://example.com/act/{n}"},
        **extra,
    }


def test_pending_rows_get_seq_stored_time_and_timestamp_when_numbered() -> None:
    timed = _st(1, timestamp="2024-01-01T00:00:00Z")
    untimed = _st(2)
    new = NewStatements.of([pending_row(s, authority=AUTH) for s in (timed, untimed)])
    assert STORED_MARK in new.statements["statement"][0].as_py()

    table, refs = new.numbered(41, AT)

    assert table.column_names == list(COLUMNS)
    assert refs.column_names == list(REF_COLUMNS)
    assert table["seq"].to_pylist() == [41, 42]
    assert table["stored"].to_pylist() == [AT, AT]
    assert table["timestamp"].to_pylist() == [datetime(2024, 1, 1), AT]
    texts = [json.loads(t) for t in table["statement"].to_pylist()]
    assert [t["stored"] for t in texts] == ["2024-05-06T07:08:09.123Z"] * 2
    assert [t.get("timestamp") for t in texts] == [
        "2024-01-01T00:00:00Z",
        "2024-05-06T07:08:09.123Z",
    ]
    assert not any(STORED_MARK in t for t in table["statement"].to_pylist())
    # each statement's actor, object and authority, under its own seq
    assert sorted(zip(refs["seq"].to_pylist(), refs["ref"].to_pylist(), strict=True)) == sorted(
        [
            (41, "mbox:mailto:p1@example.com"),
            (41, "http://example.com/act/1"),
            (41, "mbox:mailto:lrs@example.com"),
            (42, "mbox:mailto:p2@example.com"),
            (42, "http://example.com/act/2"),
            (42, "mbox:mailto:lrs@example.com"),
        ]
    )


def test_taking_and_joining_batches_keeps_each_statement_with_its_refs() -> None:
    first = NewStatements.of([pending_row(_st(n), authority=AUTH) for n in (1, 2, 3)])
    second = NewStatements.of([pending_row(_st(n), authority=AUTH) for n in (4, 5)])

    joined = NewStatements.concat([first.take([2, 0]), second.take([1])])
    table, refs = joined.numbered(10, AT)

    ids = [i[-1] for i in table["statement_id"].to_pylist()]
    assert ids == ["3", "1", "5"]
    by_seq: dict[int, set[str]] = {}
    for seq, ref in zip(refs["seq"].to_pylist(), refs["ref"].to_pylist(), strict=True):
        by_seq.setdefault(seq, set()).add(ref)
    assert by_seq == {
        10: {
            "mbox:mailto:p3@example.com",
            "http://example.com/act/3",
            "mbox:mailto:lrs@example.com",
        },
        11: {
            "mbox:mailto:p1@example.com",
            "http://example.com/act/1",
            "mbox:mailto:lrs@example.com",
        },
        12: {
            "mbox:mailto:p5@example.com",
            "http://example.com/act/5",
            "mbox:mailto:lrs@example.com",
        },
    }
    assert len(first.take([0, 1, 2])) == 3 and len(first.take([])) == 0


def test_batches_built_in_other_processes_bring_their_own_stored_mark() -> None:
    here = NewStatements.of([pending_row(_st(1), authority=AUTH)])
    built = NewStatements.of([pending_row(_st(2), authority=AUTH)])
    other = "stored-pending-another-process"
    text = pc.replace_substring(built.statements["statement"], STORED_MARK, other)
    there = NewStatements(
        built.statements.set_column(
            built.statements.column_names.index("statement"), "statement", text
        ),
        built.refs,
        other,
    )

    table, _ = NewStatements.concat([there, here]).numbered(1, AT)

    stored = [json.loads(t)["stored"] for t in table["statement"].to_pylist()]
    assert stored == ["2024-05-06T07:08:09.123Z"] * 2


def test_dated_rows_are_stamped_when_finished_and_keep_their_context_ids_as_sent() -> None:
    untimed = _st(3, context={"contextActivities": {"parent": {"id": "http://example.com/café"}}})
    new = NewStatements.of([pending_row(untimed, authority=AUTH)])
    # as the DuckDB import writes it: compact JSON, the IRI as sent (the activity mapping
    # finds a program's activities in it by their quoted IRI)
    assert new.statements["context_activities"].to_pylist() == ['["http://example.com/café"]']

    dated = new.dated(AT)
    assert dated.statements["stored"].to_pylist() == [AT]
    assert STORED_MARK in dated.statements["statement"][0].as_py()  # not stamped yet
    done = dated.finished()
    text = json.loads(done.statements["statement"][0].as_py())
    assert text["stored"] == text["timestamp"] == "2024-05-06T07:08:09.123Z"
    assert done.statements["timestamp"].to_pylist() == [AT]
    assert done.statements["timestamp_pending"].to_pylist() == [False]


def test_a_batch_crosses_processes_as_arrow_ipc_with_its_mark() -> None:
    rows = [pending_row(_st(n, context={"registration": str(uuid.UUID(int=n))}), authority=AUTH)
            for n in range(1, 4)]  # fmt: skip
    dated = NewStatements.of(rows).dated(AT)
    new = NewStatements(dated.statements, dated.refs, "stored-pending-elsewhere")

    data = pickle.dumps(new)
    back = pickle.loads(data)

    assert back.statements.equals(new.statements) and back.refs.equals(new.refs)
    assert back.statements.schema == new.statements.schema
    assert back.mark == "stored-pending-elsewhere"
    # as Arrow IPC, not column by column: the pickle holds the streams
    streams = new.__reduce__()[1]
    assert pa.ipc.open_stream(streams[0]).read_all().num_rows == 3
    assert streams[0] in data and streams[1] in data
