"""`impactlens store export` as a user meets it: files, a manifest, one-line refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.postgres_server import database

EXE = [sys.executable, "-m", "impactlens.cli"]


def run(*args: str, store: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IMPACTLENS_STORE": store} if store else None
    return subprocess.run([*EXE, *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    "engine",
    [
        "duckdb",
        pytest.param("postgresql", marks=[pytest.mark.engine, pytest.mark.xdist_group("postgres")]),
    ],
)
def test_export_writes_parquet_and_a_manifest_once(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    ws, out = tmp_path / "ws", tmp_path / "export"
    url = database(request.getfixturevalue("postgres_server")) if engine == "postgresql" else None
    assert run("init", str(ws), store=url).returncode == 0
    people = tmp_path / "people.csv"
    people.write_text("person_id,team_id\nE1,T1\nE2,T1\n", encoding="utf-8")
    assert run("import", "people", str(people), "-w", str(ws), store=url).returncode == 0
    done = run("store", "export", "--out", str(out), "-w", str(ws), store=url)
    assert done.returncode == 0, done.stderr
    assert f"to {out}" in done.stdout and f'IMPACTLENS_STORE="spark://{out}"' in done.stdout
    manifest = json.loads((out / "_impactlens.json").read_text())
    assert manifest["tables"]["people"] == 2 and manifest["source_engine"] == engine
    assert (out / "people.parquet").stat().st_size > 0 and not (out / "users.parquet").exists()
    again = run("store", "export", "--out", str(out), "-w", str(ws), store=url)
    assert again.returncode == 1 and "exists and is not empty" in again.stderr
    assert "Traceback" not in again.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export.")]  # no leftovers
