"""Benchmark: portfolio and program pages once the analyses are cached (goal: p95 < 300 ms).

Builds the demo workspace at the size asked for, starts the dashboard in process
(FastAPI's test client: the whole ASGI app, no network), signs in a viewer and an
analyst with API tokens, opens every page once (the analyses run and are cached),
then times repeated page loads. Baseline: the JSON twin of the same page, which
skips the HTML rendering, so the ratio shows what the page itself costs.

Run: .venv/bin/python bench/web_pages.py [--people 90000] [--requests 50]
     .venv/bin/python bench/web_pages.py --scale --people 100000   # one program, 52 weeks
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from impactlens.services.demo import run_demo
from impactlens.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2 for its test client
    from fastapi.testclient import TestClient


def _scale_build() -> Any:
    spec = importlib.util.spec_from_file_location(
        "analysis_scale", Path(__file__).with_name("analysis_scale.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _time(client: TestClient, url: str, headers: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        got = client.get(url, headers=headers)
        out.append(time.perf_counter() - started)
        assert got.status_code == 200, (url, got.status_code)
    return out


def main() -> None:
    """Build, warm, time and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=0, help="default: people / 17")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--workspace", type=Path, default=None, help="reuse a demo workspace")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="the one-program workspace of bench/analysis_scale.py (the demo stops at 99,000)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="il-web-bench-"))
    ws = args.workspace
    if ws is None or not (ws / "impactlens.toml").exists():
        ws = ws or tmp / "demo"
        started = time.perf_counter()
        if args.scale:
            _scale_build()(ws, args.people, 52)
        else:
            run_demo(ws, 1, people=args.people, teams=args.teams or max(args.people // 17, 10))
        took = time.perf_counter() - started
        print(f"demo workspace: {args.people:,} people, built in {took:.1f} s")
    app = create_app(ws)
    board = app.state.dashboard
    with board.ws.store():
        tokens = {
            r: board.accounts.add(f"bench-{r}-{time.time_ns()}", r).token
            for r in ("viewer", "analyst")
        }
    client = TestClient(app)
    started = time.perf_counter()
    programs = board.ws.programs()
    for token in tokens.values():
        auth = {"Authorization": f"Bearer {token}"}
        client.get("/", headers=auth)
        for p in programs:
            client.get(f"/programs/{p}", headers=auth)
    print(
        f"first views (analyse {len(programs)} programs, build pages): "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(f"{'page':<44} {'role':<8} {'p50 ms':>8} {'p95 ms':>8}")
    for role, token in tokens.items():
        auth = {"Authorization": f"Bearer {token}"}
        for url in (
            "/",
            "/index.json",
            f"/programs/{programs[0]}",
            f"/programs/{programs[0]}.json",
        ):
            times = _time(client, url, auth, args.requests)
            print(
                f"{url:<44} {role:<8} {statistics.median(times) * 1000:>8.1f} "
                f"{_p95(times) * 1000:>8.1f}"
            )
    board.close()


if __name__ == "__main__":
    main()
