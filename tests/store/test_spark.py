"""The read-only Spark engine over an exported store: the same analysis, no writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.store.test_postgres import _differences

from impactlens.domain.errors import WorkspaceError
from impactlens.services.demo import run_demo
from impactlens.services.importing import import_data
from impactlens.services.store_export import EXPORTED, MANIFEST, export_store
from impactlens.services.workspace import Workspace
from impactlens.store import spark
from impactlens.store.lrs import lrs_for
from impactlens.store.registry import open_store

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Path]]:
    root = tmp_path_factory.mktemp("spark")
    run_demo(root / "demo", 3, people=800, teams=60)
    ws = Workspace(root / "demo")
    export_store(ws, root / "export")
    yield ws, root / "export"


def test_the_export_holds_every_analysis_table_and_no_secret(
    exported: tuple[Workspace, Path],
) -> None:
    ws, folder = exported
    manifest = json.loads((folder / MANIFEST).read_text())
    with ws.store(read_only=True) as store:
        assert manifest["data_sha256"] == store.fingerprint()
        for name in EXPORTED:
            assert manifest["tables"][name] == store.table(name).count().to_pyarrow().as_py()
    assert {p.stem for p in folder.glob("*.parquet")} == set(EXPORTED)
    assert not {"users", "api_tokens", "sessions", "lrs_clients"} & set(manifest["tables"])
    with pytest.raises(WorkspaceError, match="exists and is not empty"):
        export_store(ws, folder)


@pytest.mark.slow
def test_analyze_on_spark_gives_the_duckdb_figures(
    exported: tuple[Workspace, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, folder = exported
    on_duck = ws.analyze("packaging-pilot").to_dict()
    # the same workspace (plans, key) with its store swapped, as `IMPACTLENS_STORE=...` does
    monkeypatch.setenv("IMPACTLENS_STORE", f"spark://{folder}")
    remote = Workspace(ws.path)
    on_spark = remote.analyze("packaging-pilot").to_dict()
    assert on_spark["provenance"]["engine"] == "spark"
    assert on_spark["provenance"]["data_sha256"] == on_duck["provenance"]["data_sha256"]
    for doc in (on_duck, on_spark):
        doc.pop("provenance")
    assert _differences(on_duck, on_spark) == []
    with pytest.raises(WorkspaceError, match=r"the Spark store spark://.* is read-only"):
        import_data(remote, "costs", [ws.path / "data" / "costs.csv"])
    with remote.store(read_only=True) as store, pytest.raises(WorkspaceError, match="read-only"):
        lrs_for(store)  # no LRS on Spark: its tables are an export


def test_a_machine_without_java_is_told_what_to_install(
    exported: tuple[Workspace, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spark, "_SESSIONS", {})
    monkeypatch.setattr(spark.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(WorkspaceError) as caught:
        open_store(f"spark://{exported[1]}")
    assert "apt-get install -y openjdk-17-jre-headless" in str(caught.value)


def test_an_export_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps({"schema_version": 99, "data_sha256": "x"}))
    with pytest.raises(WorkspaceError, match="schema version 99, newer than this ImpactLens"):
        open_store(f"spark://{tmp_path}")


@pytest.mark.slow
def test_a_plan_changed_after_the_export_is_analysed_without_writing(
    exported: tuple[Workspace, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, folder = exported
    plan = ws.path / "plans" / "packaging-pilot.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text + "\n# edited after the export\n", encoding="utf-8")
    try:
        monkeypatch.setenv("IMPACTLENS_STORE", f"spark://{folder}")
        result = Workspace(ws.path).analyze("packaging-pilot")  # no plan-history write
        assert result.provenance.engine == "spark" and result.kpis[0].effect is not None
    finally:
        plan.write_text(text, encoding="utf-8")
