"""The store interface on every engine: the same tables, columns, values and answers.

One small workspace (people, costs, xAPI statements) is imported on DuckDB and on
PostgreSQL; Spark reads the DuckDB one exported to Parquet (``store export``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ingest.xapi_statements import statement, write_lines
from tests.postgres_server import database

from impactlens.domain.errors import WorkspaceError
from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.importing import import_data
from impactlens.services.store_export import EXPORTED, export_store
from impactlens.services.workspace import Workspace
from impactlens.store.base import Store
from impactlens.store.registry import open_store
from impactlens.store.schema import TABLES

ENGINES = [
    "duckdb",
    pytest.param("postgresql", marks=[pytest.mark.engine, pytest.mark.xdist_group("postgres")]),
    pytest.param("spark", marks=[pytest.mark.engine, pytest.mark.xdist_group("spark")]),
]
PEOPLE = "person_id,team_id,persona\nE1,T1,agent\nE2,T2,lead\nE3,T1,agent\n"
COSTS = "program,item,amount\nsx,design,1000\nsx,delivery,250.5\n"


def _fill(ws: Workspace, folder: Path) -> None:
    (folder / "people.csv").write_text(PEOPLE, encoding="utf-8")
    (folder / "costs.csv").write_text(COSTS, encoding="utf-8")
    import_data(ws, "people", [folder / "people.csv"])
    import_data(ws, "costs", [folder / "costs.csv"])
    statements = write_lines(folder / "s.jsonl", [statement(n) for n in range(1, 6)])
    import_data(ws, "xapi", [statements])


@pytest.fixture(params=ENGINES)
def filled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Workspace, Store]]:
    """The workspace and its open store on one engine."""
    engine = request.param
    settings = WorkspaceSettings()
    if engine == "postgresql":
        settings = WorkspaceSettings(store=database(request.getfixturevalue("postgres_server")))
    ws = Workspace.create(tmp_path / "ws", settings)
    _fill(ws, tmp_path)
    if engine == "spark":
        export = export_store(ws, tmp_path / "export")
        with open_store(f"spark://{export.path}?driver_memory=2g", read_only=True) as store:
            yield ws, store
        return
    with ws.store() as store:
        yield ws, store


def test_every_table_has_the_schemas_columns_in_its_words(filled: tuple[Workspace, Store]) -> None:
    _, store = filled
    names = EXPORTED if store.read_only else tuple(TABLES)
    for name in names:
        assert list(store.columns(name)) == list(TABLES[name].columns), name
    people = store.columns("people")
    assert people["person_id"] == "VARCHAR"
    assert store.columns("costs")["amount"] == "DOUBLE"
    with pytest.raises(WorkspaceError, match="no table 'nope' in the store"):
        store.table("nope")


def test_values_counts_and_the_statements_version(filled: tuple[Workspace, Store]) -> None:
    _, store = filled
    assert sorted(store.values("people", "team_id")) == ["T1", "T2"]
    assert store.values("people", "persona", prefix="ag") == ["agent"]
    assert store.table("people").count().to_pyarrow().as_py() == 3
    costs = store.table("costs")
    assert costs.amount.sum().to_pyarrow().as_py() == pytest.approx(1250.5)
    assert store.statements_version() == (5, 5)
    verbs = store.table("xapi_statements").verb_id.value_counts().to_pyarrow().to_pylist()
    assert verbs == [{"verb_id": "http://adlnet.gov/expapi/verbs/completed", "verb_id_count": 5}]
    log = store.imports()
    assert list(log.columns)[:6] == ["import_id", "kind", "files", "rows", "inserted", "replaced"]
    assert sorted(log["kind"]) == ["costs", "people", "xapi"]


def test_the_fingerprint_is_stable_and_moves_with_the_data(
    filled: tuple[Workspace, Store], tmp_path: Path
) -> None:
    ws, store = filled
    first = store.fingerprint()
    assert len(first) == 64 and first == store.fingerprint()
    if store.read_only:
        with pytest.raises(WorkspaceError, match="read-only"):
            store.add_columns("costs", {"note": "VARCHAR"})
        return
    (tmp_path / "more.csv").write_text("program,item,amount\nsx,venue,90\n", encoding="utf-8")
    store.close()  # the import opens the store itself
    import_data(ws, "costs", [tmp_path / "more.csv"])
    with ws.store() as again:
        assert again.fingerprint() != first
        assert again.table("costs").count().to_pyarrow().as_py() == 3
