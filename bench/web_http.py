"""Benchmark: the pages over real HTTP from ``impactlens serve`` (goal: p95 < 300 ms).

Builds (or reuses) a demo workspace (or bench/analysis_scale.py's), adds a viewer and an
analyst with API tokens, starts ``impactlens serve`` (uvicorn) on 127.0.0.1, opens
every page once so the analyses are cached, then times N requests per page with one
keep-alive httpx client. The baseline is the same page in process (FastAPI's test
client, no sockets) on the same workspace, so the ratio is what HTTP and uvicorn add.
Figures taken while other work runs are pessimistic: the load average is printed.

Run: .venv/bin/python bench/web_http.py [--people 99000] [--requests 50] [--workspace DIR]
     .venv/bin/python bench/web_http.py --scale --people 100000   # one program, 52 weeks
(the demo's organisation stops at 99,000 people; --scale builds bench/analysis_scale.py's)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import httpx

from impactlens.services.demo import run_demo
from impactlens.services.users import add_user
from impactlens.services.workspace import Workspace
from impactlens.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2 for its test client
    from fastapi.testclient import TestClient


def _scale_build() -> Any:
    """bench/analysis_scale.py's builder (benchmarks are scripts, not a package)."""
    path = Path(__file__).with_name("analysis_scale.py")
    spec = importlib.util.spec_from_file_location("analysis_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _time(client: httpx.Client | TestClient, url: str, auth: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        got = client.get(url, headers=auth)
        out.append(time.perf_counter() - started)
        assert got.status_code == 200, (url, got.status_code)
    return out


def _serve(ws: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "impactlens.cli", "serve", "--port", str(port), "-w", str(ws)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("impactlens serve did not start") from None
            time.sleep(0.2)


def _warm(client: httpx.Client | TestClient, tokens: dict[str, str], programs: list[str]) -> None:
    for token in tokens.values():
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/", headers=auth).status_code == 200
        for p in programs:
            assert client.get(f"/programs/{p}", headers=auth).status_code == 200


def main() -> None:
    """Build, serve, warm, time over HTTP and in process, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=99_000)
    parser.add_argument("--teams", type=int, default=0, help="default: people / 17")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--workspace", type=Path, default=None, help="reuse a demo workspace")
    parser.add_argument("--scale", action="store_true", help="bench/analysis_scale.py's workspace")
    args = parser.parse_args()
    ws = args.workspace or Path(tempfile.mkdtemp(prefix="il-http-bench-")) / "demo"
    if not (ws / "impactlens.toml").exists():
        started = time.perf_counter()
        if args.scale:
            _scale_build()(ws, args.people, 52)
        else:
            run_demo(ws, 1, people=args.people, teams=args.teams or max(args.people // 17, 10))
        took = time.perf_counter() - started
        print(f"demo workspace: {args.people:,} people, built in {took:.1f} s")
    stamp = time.time_ns()
    tokens = {
        r: add_user(Workspace(ws), f"bench-{r}-{stamp}", r).token for r in ("viewer", "analyst")
    }
    programs = Workspace(ws).programs()
    pages = ["/", f"/programs/{programs[0]}", f"/programs/{programs[0]}.json"]
    _run(ws, tokens, programs, pages, args.requests)


def _run(ws: Path, tokens: dict[str, str], programs: list[str], pages: list[str], n: int) -> None:
    """Time every page for every role over HTTP, then in process; print the table."""
    timings: dict[tuple[str, str, str], list[float]] = {}
    port = _free_port()
    proc = _serve(ws, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            started = time.perf_counter()
            _warm(client, tokens, programs)
            print(
                f"first views over HTTP (analyse {len(programs)} programs): "
                f"{time.perf_counter() - started:.1f} s"
            )
            for role, token in tokens.items():
                for url in pages:
                    auth = {"Authorization": f"Bearer {token}"}
                    timings[("http", role, url)] = _time(client, url, auth, n)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    app = create_app(ws)  # the server has let go of the store
    try:
        client = TestClient(app)
        _warm(client, tokens, programs)
        for role, token in tokens.items():
            for url in pages:
                auth = {"Authorization": f"Bearer {token}"}
                timings[("asgi", role, url)] = _time(client, url, auth, n)
    finally:
        app.state.dashboard.close()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{n} requests per page; load average {load} on {os.cpu_count()} cores")
    print(f"{'page':<44} {'role':<8} {'HTTP p50':>9} {'HTTP p95':>9} {'ASGI p95':>9} {'ratio':>6}")
    worst = 0.0
    for role in tokens:
        for url in pages:
            http, asgi = timings[("http", role, url)], timings[("asgi", role, url)]
            ratio = _p95(http) / max(_p95(asgi), 1e-9)
            worst = max(worst, _p95(http))
            print(
                f"{url:<44} {role:<8} {statistics.median(http) * 1000:>8.1f}ms "
                f"{_p95(http) * 1000:>8.1f}ms {_p95(asgi) * 1000:>8.1f}ms {ratio:>6.2f}"
            )
    print(f"worst HTTP p95: {worst * 1000:.1f} ms (goal < 300 ms)")


if __name__ == "__main__":
    main()
