"""The LRS's filter of stored statement ids: never misses a stored id, whatever moved the table."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from tests.store.test_lrs import _rows, _st

from impactlens.store.duckdb import DuckDBStore
from impactlens.store.duckdb_lrs import DuckDBLrs
from impactlens.store.statement_ids import StatementIds, id_key


def test_the_filter_answers_for_loaded_and_recent_ids() -> None:
    stored = [str(uuid.uuid4()) for _ in range(1000)]
    known = StatementIds()
    known.load(np.array([id_key(i) for i in stored], dtype=np.uint64), (1000, 1000))
    fresh = [str(uuid.uuid4()) for _ in range(1000)]
    assert known.candidates(stored[::7] + fresh) == stored[::7]
    known.add(fresh[:3], (1003, 1003))
    assert known.candidates(fresh[:5]) == fresh[:3] and known.version == (1003, 1003)
    assert StatementIds().candidates(fresh[:2]) == []  # empty filter: everything is new


def test_a_large_recent_set_is_folded_into_the_sorted_keys() -> None:
    known = StatementIds()
    known.load(np.empty(0, dtype=np.uint64), (0, 0))
    ids = [str(uuid.uuid4()) for _ in range(60_000)]
    known.add(ids, (60_000, 60_000))
    assert len(known._recent) == 0 and len(known._sorted) == 60_000
    assert known.candidates([*ids[:10], str(uuid.uuid4())]) == ids[:10]


def test_find_sees_every_stored_id_after_inserts_rollbacks_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with DuckDBStore(path) as store:
        lrs = DuckDBLrs(store)
        with lrs.transaction():
            lrs.insert(_rows([_st(i, "ann") for i in range(5)]))
        ids = [_st(i, "ann")["id"] for i in range(8)]
        assert sorted(lrs.find(ids)) == ids[:5]  # loaded from the table
        with lrs.transaction():
            lrs.insert(_rows([_st(5, "ann")], start=5))
        assert sorted(lrs.find(ids)) == ids[:6]  # followed its own insert
        with pytest.raises(RuntimeError), lrs.transaction():
            lrs.insert(_rows([_st(6, "bob")], start=6))
            raise RuntimeError("refused after the insert")
        assert sorted(lrs.find(ids)) == ids[:6]  # the rolled-back id is not stored
        with lrs.transaction():
            lrs.insert(_rows([_st(7, "bob")], start=7))
        assert sorted(lrs.find(ids)) == [*ids[:6], ids[7]]
        # another writer (an import, a retention run) moves the table behind the filter
        store._con.execute("DELETE FROM xapi_statements WHERE seq = 1")
        store._con.execute(
            "INSERT INTO xapi_statements (seq, statement_id, statement, voided) "
            f"VALUES (99, '{ids[6]}', '{{}}', false)"
        )
        assert sorted(lrs.find(ids)) == sorted(ids[1:])
    with DuckDBStore(path) as store:  # a new process: the filter starts empty and loads
        assert sorted(DuckDBLrs(store).find(ids)) == sorted(ids[1:])
