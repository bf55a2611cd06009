"""Benchmark: statements/s POSTed to a real ``impactlens serve`` (goal: >= 10,000/s).

Creates a fresh workspace and an xAPI client, starts ``impactlens serve`` (uvicorn) on
127.0.0.1, then C concurrent clients (threads, one keep-alive httpx client each) POST
batches of B statements. Every 200 means the batch is committed (one DuckDB
transaction per request). Figures taken while other work runs are pessimistic: the
load average is printed.

With ``--baseline`` the same clients then POST the same batches to the floor server of
``bench/lrs_floor_app.py`` (parse, one DuckDB insert and commit per request, nothing
else), and the ratio of the two is printed.

With ``--store postgresql://...`` the workspace's store is that (empty) PostgreSQL
database and ``--workers N`` starts N server processes sharing it; the server CPU is
then the workers' (PostgreSQL's own processes are not counted).

With ``--readers R`` R more threads GET the statements of one learner and verb (the
``agent`` + ``verb`` filter) while the clients POST, each pausing ``--read-every``
seconds between requests, as dashboards and reports reading a busy LRS do; a GET first
stores what is journaled, so its latency (printed: p50, p95, max) includes that wait.

With ``--stages`` the server also records where its time went (``bench/stages``: the
wait for and the hold of the store's lock, checks, judging, journal, moves) and the
table is printed after the run.

Run: .venv/bin/python bench/lrs_post.py [--clients 4] [--batch 100] [--batches 50]
     [--store URL] [--workers N] [--baseline] [--stages] [--readers R]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from impactlens.domain.settings import WorkspaceSettings
from impactlens.services.lrs import create_client
from impactlens.services.workspace import Workspace

HERE = Path(__file__).resolve().parent
VERBS = [f"http://adlnet.gov/expapi/verbs/{v}" for v in ("attempted", "completed", "passed")]


def statement(n: int) -> dict[str, Any]:
    """A realistic statement: actor, verb, activity with a definition, a result, a context."""
    return {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "name": f"Learner {n % 5000}",
            "mbox": f"mailto:learner{n % 5000}@example.com",
        },
        "verb": {"id": VERBS[n % 3], "display": {"en-US": VERBS[n % 3].rsplit("/", 1)[1]}},
        "object": {
            "id": f"http://example.com/course/{n % 40}",
            "definition": {
                "name": {"en-US": f"Course {n % 40}"},
                "type": "http://adlnet.gov/expapi/activities/course",
            },
        },
        "result": {"score": {"scaled": (n % 100) / 100}, "completion": True, "duration": "PT12M"},
        "context": {"contextActivities": {"parent": [{"id": "http://example.com/program"}]}},
        "timestamp": "2024-03-01T10:00:00.000Z",
    }


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    workspace: Path, port: int, workers: int = 1, stages: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``impactlens serve`` and wait until /xapi/about answers.

    With ``stages``, the server records its stage timings there (``bench/stages``).
    """
    exe = Path(sys.executable).with_name("impactlens")
    env = dict(os.environ)
    if stages is not None:
        path = [str(HERE / "stages"), *filter(None, [env.get("PYTHONPATH")])]
        env.update(PYTHONPATH=os.pathsep.join(path), IMPACTLENS_BENCH_STAGES=str(stages))
    proc = subprocess.Popen(
        [str(exe), "serve", "--workspace", str(workspace), "--port", str(port)]
        + (["--workers", str(workers)] if workers > 1 else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    return _wait(proc, port)


def _wait(proc: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/xapi/about").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"the server on port {port} did not start")


@dataclass
class Run:
    """What one load run measured."""

    elapsed: float
    server_cpu: float
    client_cpu: float
    failures: list[str]
    main_cpu: float  # the server process alone (the rest: its checking processes)
    reads: list[float]  # seconds of each GET made during the load


def reader(
    port: int,
    headers: dict[str, str],
    r: int,
    every: float,
    stop: threading.Event,
    failures: list[str],
) -> list[float]:
    """GET one learner's statements of one verb until ``stop``; each request's seconds.

    A GET answered with anything but 200 goes to ``failures`` (printed with the POSTs').
    """
    spent: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as h:
        while not stop.is_set():
            n = len(spent) * 7 + r
            agent = json.dumps({"mbox": f"mailto:learner{n % 5000}@example.com"})
            began = time.perf_counter()
            got = h.get("/xapi/statements", params={"agent": agent, "verb": VERBS[n % 3]})
            spent.append(time.perf_counter() - began)
            if got.status_code != 200:
                failures.append(f"GET {got.status_code}: {got.text}")
            stop.wait(every)
    return spent


def drive(
    proc: subprocess.Popen[bytes],
    port: int,
    headers: dict[str, str],
    bodies: list[bytes],
    clients: int,
    batches: int,
    readers: int = 0,
    every: float = 0.1,
) -> Run:
    """C client threads POST their batches to the server on ``port``; stop the server.

    ``readers`` threads GET meanwhile (:func:`reader`), until the last POST is answered.
    """
    failures: list[str] = []
    reads: list[list[float]] = [[] for _ in range(readers)]
    stop = threading.Event()

    def read(r: int) -> None:
        reads[r] = reader(port, headers, r, every, stop, failures)

    def work(c: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as h:
            for b in range(batches):
                done = h.post("/xapi/statements", content=bodies[c * batches + b])
                if done.status_code != 200:
                    failures.append(done.text)

    server = psutil.Process(proc.pid)

    def server_cpu_s() -> float:
        procs = [server, *server.children(recursive=True)]
        return sum(sum(p.cpu_times()[:2]) for p in procs)

    def main_cpu_s() -> float:
        return float(sum(server.cpu_times()[:2]))

    try:
        threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
        readings = [threading.Thread(target=read, args=(r,)) for r in range(readers)]
        server_cpu, client_cpu, main_cpu = server_cpu_s(), time.process_time(), main_cpu_s()
        start = time.perf_counter()
        for t in threads + readings:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        stop.set()
        for t in readings:
            t.join()
        server_cpu = server_cpu_s() - server_cpu
        main_cpu = main_cpu_s() - main_cpu
        client_cpu = time.process_time() - client_cpu
    finally:
        proc.terminate()
        proc.wait()
    return Run(
        elapsed, server_cpu, client_cpu, failures, main_cpu, sorted(x for r in reads for x in r)
    )


def serve_floor(db: Path, port: int) -> subprocess.Popen[bytes]:
    """Start the floor server (:mod:`lrs_floor_app`) and wait until it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "lrs_floor_app:app", "--app-dir", str(HERE),
         "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "FLOOR_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return _wait(proc, port)


def print_stages(stages: Path, elapsed: float) -> None:
    """The server's stage timings (bench/stages/sitecustomize.py), warm-up included."""
    time.sleep(1.5)  # the server writes them every second
    found = json.loads(stages.read_text())
    print(f"server stages (calls, mean ms, seconds; the run took {elapsed:.2f} s):")
    for name, (calls, seconds) in found.items():
        if calls:
            print(f"  {name:<42} {calls:>6,.0f} {seconds / calls * 1e3:>8.2f} {seconds:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batches", type=int, default=50, help="batches per client")
    parser.add_argument("--store", default=None, help="an empty PostgreSQL database's URL")
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL)")
    parser.add_argument(
        "--baseline", action="store_true", help="then the same load on bench/lrs_floor_app.py"
    )
    parser.add_argument(
        "--stages", action="store_true", help="print where the server's time went (DuckDB)"
    )
    parser.add_argument("--readers", type=int, default=0, help="GET threads during the load")
    parser.add_argument("--read-every", type=float, default=0.1, help="a reader's pause (s)")
    args = parser.parse_args()
    settings = WorkspaceSettings(store=args.store) if args.store else None
    ws = Workspace.create(Path(tempfile.mkdtemp()) / "ws", settings)
    new = create_client(ws, "bench", "all")
    token = base64.b64encode(f"{new.key}:{new.secret}".encode()).decode()
    headers = {
        "Authorization": f"Basic {token}",
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    port = free_port()
    stages = Path(tempfile.mkdtemp()) / "stages.json" if args.stages else None
    proc = serve(ws.path, port, args.workers, stages)
    # encoded before the clock starts, as a client sending what it has recorded would
    bodies = [
        json.dumps(
            [statement(c * 10_000_000 + b * args.batch + i) for i in range(args.batch)]
        ).encode()
        for c in range(args.clients)
        for b in range(args.batches)
    ]
    # warm up (a server's first large batch starts its checking processes)
    warm = [statement(99_000_000 + i) for i in range(args.batch)]
    httpx.post(f"http://127.0.0.1:{port}/xapi/statements", json=warm, headers=headers, timeout=60)
    real = drive(
        proc, port, headers, bodies, args.clients, args.batches, args.readers, args.read_every
    )
    total = args.clients * args.batches * args.batch
    print(
        f"{total:,} statements in {real.elapsed:.2f} s by {args.clients} clients, "
        f"{args.workers} server process(es) on {ws.store_url.split(':')[0]} "
        f"(batches of {args.batch}): {total / real.elapsed:,.0f} statements/s; "
        f"failures: {len(real.failures)}; load average {os.getloadavg()}"
    )
    # who is the bottleneck: CPU per statement of the server and of the clients' process
    print(
        f"CPU per statement: server {real.server_cpu / total * 1e6:.0f} us "
        f"({real.main_cpu / total * 1e6:.0f} us in the server process), "
        f"clients {real.client_cpu / total * 1e6:.0f} us (2 cores: "
        f"{2e6 / total * real.elapsed:.0f} us of CPU per statement available)"
    )
    if real.reads:
        ms = [x * 1e3 for x in real.reads]
        print(
            f"GET agent+verb during the load: {len(ms)} requests by {args.readers} readers, "
            f"p50 {ms[len(ms) // 2]:.1f} ms, p95 {ms[int(len(ms) * 0.95)]:.1f} ms, "
            f"max {ms[-1]:.1f} ms"
        )
    if stages is not None:
        print_stages(stages, real.elapsed)
    if args.baseline:
        db = Path(tempfile.mkdtemp()) / "floor.duckdb"
        port = free_port()
        floor_proc = serve_floor(db, port)
        floor = drive(floor_proc, port, headers, bodies, args.clients, args.batches)
        print(
            f"floor (bench/lrs_floor_app.py: orjson parse + one DuckDB insert and commit per "
            f"request, no framework, no checks): {total / floor.elapsed:,.0f} statements/s, "
            f"server CPU {floor.server_cpu / total * 1e6:.0f} us per statement; "
            f"ImpactLens / floor = {floor.elapsed / real.elapsed:.2f}"
        )
        failures = real.failures + floor.failures
    else:
        failures = real.failures
    if failures:
        print(failures[0][:300])


if __name__ == "__main__":
    main()
