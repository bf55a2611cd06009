"""`impactlens store export` as a user meets it: files, a manifest, one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXE = [sys.executable, "-m", "impactlens.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True)


def test_export_writes_parquet_and_a_manifest_once(tmp_path: Path) -> None:
    ws, out = tmp_path / "ws", tmp_path / "export"
    assert run("init", str(ws)).returncode == 0
    people = tmp_path / "people.csv"
    people.write_text("person_id,team_id\nE1,T1\nE2,T1\n", encoding="utf-8")
    assert run("import", "people", str(people), "-w", str(ws)).returncode == 0
    done = run("store", "export", "--out", str(out), "-w", str(ws))
    assert done.returncode == 0, done.stderr
    assert f"to {out}" in done.stdout and f'IMPACTLENS_STORE="spark://{out}"' in done.stdout
    manifest = json.loads((out / "_impactlens.json").read_text())
    assert manifest["tables"]["people"] == 2 and manifest["source_engine"] == "duckdb"
    assert (out / "people.parquet").stat().st_size > 0 and not (out / "users.parquet").exists()
    again = run("store", "export", "--out", str(out), "-w", str(ws))
    assert again.returncode == 1 and "exists and is not empty" in again.stderr
    assert "Traceback" not in again.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export.")]  # no leftovers
