"""The PostgreSQL engine against a real server: the same imports, errors and answers as DuckDB."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from impactlens.domain.errors import InputError, WorkspaceError
from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.demo import run_demo
from impactlens.services.importing import import_data
from impactlens.services.workspace import Workspace
from impactlens.store.lrs import lrs_for
from impactlens.store.postgres import PostgresStore
from impactlens.store.registry import open_store
from impactlens.store.schema import SCHEMA_VERSION

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group("postgres")]
PSEUDONYM = re.compile(r"^[pu]_[0-9a-f]{24}$")


def _workspace(tmp_path: Path, name: str, url: str | None) -> Workspace:
    settings = WorkspaceSettings(store=url) if url else None
    return Workspace.create(tmp_path / name, settings)


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_database_is_migrated_once_by_two_stores(postgres_url: str) -> None:
    first, second = open_store(postgres_url), open_store(postgres_url)
    try:
        assert first.engine == "postgresql" and first.table("people").count().execute() == 0
        with psycopg.connect(postgres_url) as con:
            versions = con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        assert [v[0] for v in versions] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        first.close()
        second.close()


def test_imports_replace_refuse_and_read_as_on_duckdb(tmp_path: Path, postgres_url: str) -> None:
    people = _csv(
        tmp_path / "people.csv", "person_id,team_id,persona,tenure\nE1,T1,rep,2.5\nE2,T1,lead,4\n"
    )
    again = _csv(tmp_path / "again.csv", "person_id,team_id,persona,tenure\nE1,T2,rep,2.5\n")
    bad = _csv(tmp_path / "bad.csv", "person_id,team_id,hire_date\nE3,T1,2024-13-01\n")
    seen: dict[str, Any] = {}
    for engine, url in (("duckdb", None), ("postgresql", postgres_url)):
        ws = _workspace(tmp_path, engine, url)
        first = import_data(ws, "people", [people])
        second = import_data(ws, "people", [again])
        with pytest.raises(InputError) as refused:
            import_data(ws, "people", [bad])
        with ws.store() as store:
            assert store.engine == engine
            rows = store.table("people").order_by("team_id").to_pyarrow().to_pylist()
            seen[engine] = (
                (first.inserted, second.replaced, second.inserted),
                str(refused.value).replace(str(ws.path), "WS"),
                [(r["team_id"], r["persona"], r["tenure"]) for r in rows],
                store.imports()["kind"].tolist(),
            )
    assert seen["duckdb"] == seen["postgresql"]
    counts, message, rows, log = seen["postgresql"]
    assert counts == (2, 1, 0) and rows == [("T1", "lead", 4.0), ("T2", "rep", 2.5)]
    assert "row 2, column 'hire_date'" in message and log == ["people", "people"]


def test_deletes_remaps_values_and_fingerprint(postgres_url: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "ws", postgres_url)
    import_data(ws, "people", [_csv(tmp_path / "p.csv", "person_id,team_id\nE1,T1\nE2,T2\n")])
    with ws.store() as store:
        before = store.fingerprint()
        assert before == store.fingerprint()  # same data, same fingerprint
        assert sorted(store.values("people", "team_id")) == ["T1", "T2"]
        assert store.remap_stored("people", "team_id", {"T1": "T9"}) == 1
        with store.transaction():
            assert store.delete_where("people", "team_id", ["T2"]) == 1
        assert store.values("people", "team_id", prefix="T") == ["T9"]
        assert store.fingerprint() != before
        with pytest.raises(RuntimeError), store.transaction():
            store.delete_where("people", "team_id", ["T9"])
            raise RuntimeError("rolled back")
        assert store.values("people", "team_id") == ["T9"]
        assert lrs_for(store).shared  # the LRS writes here too, under its shared lock


def test_a_bad_url_says_what_to_check(postgres_server: str) -> None:
    url = postgres_server.replace("postgresql://postgres@/", "postgresql://nobody:pw@/missing")
    with pytest.raises(WorkspaceError) as caught:
        PostgresStore(url)
    message = str(caught.value)
    assert message.startswith("cannot open the store postgresql://nobody:***@/missing")
    assert "check that the server is running" in message and ":pw@" not in message


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two result documents differ beyond float rounding and workspace pseudonyms."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in
                _differences(x, y, f"{path}[{i}]")]  # fmt: skip
    if isinstance(a, float) and isinstance(b, float):
        # figures rounded to 6 decimals may land on either side of a rounding step
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=2e-6) else [path]
    if isinstance(a, str) and isinstance(b, str) and PSEUDONYM.match(a) and PSEUDONYM.match(b):
        return []  # each workspace has its own pseudonym key
    return [] if a == b else [path]


@pytest.mark.slow
def test_the_demo_gives_the_same_numbers_on_postgresql(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_demo(tmp_path / "duckdb", 3, people=800, teams=60)
    monkeypatch.setenv("IMPACTLENS_STORE", postgres_url)
    run_demo(tmp_path / "postgresql", 3, people=800, teams=60)
    for program in Workspace(tmp_path / "postgresql").programs():
        on_pg = Workspace(tmp_path / "postgresql").analyze(program).to_dict()
        monkeypatch.delenv("IMPACTLENS_STORE")
        on_duck = Workspace(tmp_path / "duckdb").analyze(program).to_dict()
        monkeypatch.setenv("IMPACTLENS_STORE", postgres_url)
        assert on_pg["provenance"]["engine"] == "postgresql"
        for doc in (on_pg, on_duck):
            doc.pop("provenance")
            doc["data_health"].pop("imports")  # file paths and times
        assert _differences(on_duck, on_pg) == [], program
        assert json.dumps(on_pg["kpis"][0]["effect"]) == json.dumps(on_duck["kpis"][0]["effect"])


def _statement(n: int, actor: str = "ann") -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:{actor}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": f"http://example.com/course/{n % 7}"},
    }


@pytest.mark.slow
def test_two_server_workers_share_the_store_sessions_and_the_lrs(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two worker processes behind one port write the LRS at once under its rules."""
    import subprocess
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from impactlens.services.lrs import create_client
    from impactlens.services.users import add_user

    ws = _workspace(tmp_path, "served", postgres_url)
    import_data(ws, "people", [_csv(tmp_path / "p.csv", "person_id,team_id\nE1,T1\n")])
    token = add_user(ws, "ann", "analyst").token
    client = create_client(ws, "bench", "all")
    port = 18000 + int(time.time()) % 1000
    cmd = [sys.executable, "-m", "impactlens.cli", "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen([*cmd, "-w", str(ws.path)], stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.25)
        auth = {"Authorization": f"Bearer {token}"}
        # a new connection per request: the kernel spreads them over the two workers
        got = [httpx.get(f"{base}/data.json", headers=auth, timeout=60) for _ in range(6)]
        assert all(r.status_code == 200 for r in got)
        assert got[0].json() == got[-1].json()

        xapi = {"X-Experience-API-Version": "1.0.3"}
        basic = (client.key, client.secret)

        def post(batch: list[dict[str, Any]]) -> httpx.Response:
            return httpx.post(
                f"{base}/xapi/statements", json=batch, headers=xapi, auth=basic, timeout=60
            )

        # 4 writers x 8 batches: every writer sends the same 200 statements (same ids and
        # content) in its own order; a repeat is a no-op, so each id lands exactly once
        everything = [_statement(n) for n in range(1, 201)]
        orders = [random.Random(k).sample(everything, len(everything)) for k in range(4)]
        batches = [order[i : i + 25] for order in orders for i in range(0, 200, 25)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(post, batches))
        assert [r.status_code for r in answers] == [200] * len(batches), answers[0].text
        # six writers race one id with six different contents: one wins, five get 409
        rivals = [[_statement(10_000, actor=f"rival{k}")] for k in range(6)]
        with ThreadPoolExecutor(6) as pool:
            raced = list(pool.map(post, rivals))
        assert sorted(r.status_code for r in raced) == [200] + [409] * 5
        winner = next(k for k, r in enumerate(raced) if r.status_code == 200)
        with psycopg.connect(postgres_url) as con:
            rows = con.execute(
                "SELECT seq, statement_id, stored, actor_ifi FROM xapi_statements ORDER BY seq"
            ).fetchall()
        assert len(rows) == 201 and len({r[1] for r in rows}) == 201
        assert [r[0] for r in rows] == list(range(1, 202))  # one gap-free sequence
        assert all(a[2] <= b[2] for a, b in itertools.pairwise(rows))  # stored in order
        assert rows[-1][3] == f"mbox:mailto:rival{winner}@example.com"
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()
