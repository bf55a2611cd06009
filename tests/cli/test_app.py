"""The command line as a user meets it: a real subprocess, exit codes, stdout purity."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = [sys.executable, "-m", "impactlens.cli"]


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    full_env = {**os.environ, **(env or {})}
    full_env.pop("IMPACTLENS_WORKSPACE", None)
    full_env.pop("IMPACTLENS_STORE", None)
    full_env.update(env or {})
    return subprocess.run([*EXE, *args], capture_output=True, text=True, cwd=cwd, env=full_env)


def test_init_lists_templates_and_creates_a_workspace(tmp_path: Path) -> None:
    listed = run("init", "--list-templates")
    assert listed.returncode == 0
    for name in (
        "sales-enablement",
        "customer-care",
        "new-manager-leadership",
        "onboarding",
        "safety-compliance",
    ):
        assert name in listed.stdout
    target = tmp_path / "a" / "b" / "ws"
    made = run("init", str(target), "--template", "customer-care")
    assert made.returncode == 0, made.stderr
    assert (target / "impactlens.toml").exists()
    assert (target / "plans" / "customer-care.yaml").exists()
    again = run("init", str(target))
    assert again.returncode == 1 and "already a workspace" in again.stderr


def test_user_errors_exit_1_with_one_line_and_usage_errors_exit_2(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    bad = tmp_path / "people.csv"
    bad.write_text("person_id,hire_date\nE1,2024-01-01\nE2,2024-13-40\n")
    res = run("import", "people", str(bad), "--workspace", str(ws))
    assert res.returncode == 1
    assert "people.csv" in res.stderr and "row 3" in res.stderr and "hire_date" in res.stderr
    assert "Traceback" not in res.stderr
    unknown = run("analyze", "nope", "-w", str(ws))
    assert unknown.returncode == 1 and "no plan for program 'nope'" in unknown.stderr
    assert run("analyze").returncode == 2
    assert run("frobnicate").returncode == 2
    not_ws = run("analyze", "x", "-w", str(tmp_path / "missing"))
    assert not_ws.returncode == 1 and "impactlens init" in not_ws.stderr


@pytest.mark.slow
def test_small_demo_end_to_end_and_json_on_stdout_only(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    res = run("demo", str(demo), "--seed", "3", "--people", "800", "--teams", "60")
    assert res.returncode == 0, res.stderr
    assert "estimated vs true" in res.stdout
    truth = json.loads((demo / "truth.json").read_text())
    for program in truth:
        assert (demo / "reports" / f"{program}.html").exists()
        out = run("analyze", program, "--json", "-w", str(demo))
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)  # stdout carries only the document
        assert doc["program"] == program
        for key in ("kpis", "metrics", "roi", "provenance", "warnings"):
            assert key in doc
        for k in doc["kpis"]:
            for key in (
                "kpi",
                "direction",
                "effect",
                "ci_low",
                "ci_high",
                "p_value",
                "relative_effect",
                "method",
                "n_treated",
                "n_comparison",
                "evidence",
                "evidence_reasons",
                "target_met",
            ):
                assert key in k
            assert k["evidence"] in {"strong", "moderate", "weak", "none"}
        assert set(doc["metrics"]) >= {"operational", "learner", "business"}
        assert doc["provenance"]["engine"] == "duckdb"
    # workspace given before the subcommand works too, and check runs on every plan
    chk = run("--workspace", str(demo), "check", "--json")
    assert chk.returncode in (0, 1)
    assert set(json.loads(chk.stdout)) == set(truth)
    exp = run("export", next(iter(truth)), "--out", str(tmp_path / "exp"), "-w", str(demo))
    assert exp.returncode == 0, exp.stderr
    assert (tmp_path / "exp" / "estimates.parquet").exists()
    assert (tmp_path / "exp" / "roi_ledger.csv").exists()


def test_analyze_on_a_workspace_without_data_still_emits_the_document(tmp_path: Path) -> None:
    """Contract: analyze exits 0 whenever it emits a document, however weak the evidence."""
    ws = tmp_path / "ws"
    assert run("init", str(ws), "--template", "onboarding").returncode == 0
    res = run("analyze", "onboarding", "--json", "-w", str(ws))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["kpis"] and all(k["evidence"] == "none" and k["effect"] is None for k in doc["kpis"])
    assert any("comparison.eligible" in w for w in doc["warnings"])
    assert doc["roi"]["roi_pct"] is None


def test_people_forget_erases_once_then_says_nothing_was_found(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    people = tmp_path / "people.csv"
    people.write_text("person_id,email,team_id\nE1,a@x.org,T1\nE2,b@x.org,T1\n")
    assert run("import", "people", str(people), "-w", str(ws)).returncode == 0
    first = run("people", "forget", "a@x.org", "--by", "email", "--json", "-w", str(ws))
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["removed"]["people"] == 1 and doc["person"].startswith("p_")
    again = run("people", "forget", "E1", "-w", str(ws))
    assert again.returncode == 1 and "nothing was changed" in again.stderr


def test_people_expire_dry_run_then_expire_with_json(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    none = run("people", "expire", "-w", str(ws))
    assert none.returncode == 0 and "No retention set" in none.stdout
    toml = ws / "impactlens.toml"
    toml.write_text(toml.read_text().replace("# retention_months = 36", "retention_months = 1"))
    activity = tmp_path / "activity.csv"
    activity.write_text(
        "person_id,asset_id,verb,timestamp,program\n"
        "E1,a1,completed,2020-01-05T10:00:00,p\nE1,a1,completed,2999-01-05T10:00:00,p\n"
    )
    assert run("import", "activity", str(activity), "-w", str(ws)).returncode == 0
    dry = run("people", "expire", "--dry-run", "-w", str(ws))
    assert dry.returncode == 0, dry.stderr
    assert "Would expire 1 person-level rows before" in dry.stdout and "activity: 1" in dry.stdout
    done = run("people", "expire", "--json", "-w", str(ws))
    doc = json.loads(done.stdout)
    assert doc["removed"] == {"activity": 1} and doc["aggregated"] == 1 and not doc["dry_run"]
    assert json.loads(run("people", "expire", "--json", "-w", str(ws)).stdout)["removed"] == {}


def test_serve_expires_old_records_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from impactlens.cli.app import app

    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    toml = ws / "impactlens.toml"
    toml.write_text(toml.read_text().replace("# retention_months = 36", "retention_months = 3"))
    activity = tmp_path / "activity.csv"
    activity.write_text("person_id,asset_id,verb,timestamp\nE1,a1,completed,2020-01-05T10:00:00\n")
    assert run("import", "activity", str(activity), "-w", str(ws)).returncode == 0
    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **_: started.append(target))
    # serve hands the workspace to uvicorn through the environment: restore it afterwards
    monkeypatch.setenv("IMPACTLENS_WORKSPACE", "")
    monkeypatch.setenv("IMPACTLENS_MAX_UPLOAD_MB", "")
    got = CliRunner().invoke(app, ["serve", "-w", str(ws)])
    assert got.exit_code == 0, got.output
    assert "Expired 1 person-level rows before" in got.output
    assert started == ["impactlens.web.app:app_from_env"]


def test_serve_refuses_several_workers_on_the_embedded_store(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    res = run("serve", "--workers", "2", "-w", str(ws))
    assert res.returncode == 1
    assert "--workers 2 needs a PostgreSQL store; this workspace's store is duckdb" in res.stderr
    assert "Traceback" not in res.stderr
