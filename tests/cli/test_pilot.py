"""`impactlens pilot ...` as a user meets it: a real subprocess, JSON on stdout, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXE = [sys.executable, "-m", "impactlens.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory, pilot_org: ModuleType) -> dict[str, Any]:
    return {**pilot_org.run(tmp_path_factory.mktemp("cli-pilot"), -0.8), "org": pilot_org}


@pytest.mark.slow
def test_design_json_has_the_contract_keys(pilot: dict[str, Any]) -> None:
    res = run("pilot", "design", "tidy-pilot", "--json", "-w", str(pilot["ws"].path))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) >= pilot["org"].DESIGN_KEYS
    assert doc["teams"] == 60 and doc["unit"] == "team"
    text = run("pilot", "design", "tidy-pilot", "--teams", "8", "-w", str(pilot["ws"].path))
    assert "With 8 teams you could only see a" in text.stdout


@pytest.mark.slow
def test_assign_register_decide(pilot: dict[str, Any], tmp_path: Path) -> None:
    ws = str(pilot["ws"].path)
    reg = run("pilot", "register", "tidy-pilot", "--json", "-w", ws)
    assert reg.returncode == 0, reg.stderr
    assert json.loads(reg.stdout)["sha256"] == pilot["registration"].sha256
    decided = run("pilot", "decide", "tidy-pilot", "-w", ws)
    assert "Decision: SCALE" in decided.stdout
    assert "shrunken estimate" in decided.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["design", "tidy-pilot", "--power", "0.01"], "power (0.01) must be above alpha (0.05)"),
        (["design", "tidy-pilot", "--share", "1.5"], "share must be between 0 and 1"),
        (["design", "nope"], "no plan for program 'nope'"),
        (["design", "tidy-pilot", "--kpi", "csat"], "has no KPI 'csat'"),
        (["assign", "tidy-pilot", "--out", "x.csv", "--waves", "40"], "cannot fill two arms"),
    ],
)
def test_bad_input_is_one_line(pilot: dict[str, Any], args: list[str], message: str) -> None:
    res = run("pilot", *args, "-w", str(pilot["ws"].path))
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and message in res.stderr
