"""A real PostgreSQL server for the engine tests: started once per test session.

Debian's binaries (package ``postgresql``, installed by ``make system-deps``) run a
throw-away cluster in a temporary folder, on a unix socket and a free port, with
``fsync`` off (test data). ``initdb`` refuses to run as root, so as root the cluster
belongs to the ``postgres`` user. Each test gets a fresh database. Missing binaries
fail the tests (never skip them), naming the command that installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.served import free_port

APT = "apt-get install -y --no-install-recommends postgresql"


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        pytest.fail(f"PostgreSQL is not installed: run `make system-deps` (or `{APT}`)")
    return Path(candidates[-1]).parent


def _run(args: list[str], as_postgres: bool) -> None:
    cmd = ["runuser", "-u", "postgres", "--", *args] if as_postgres else args
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.fail(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The base URL of a running throw-away server (append a database name)."""
    bindir = _bindir()
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="impactlens-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], as_postgres)
    options = f"-k {root} -p {port} -c listen_addresses='' -F -c shared_buffers=64MB"
    log = root / "server.log"
    _run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
        as_postgres,
    )
    try:
        yield f"postgresql://postgres@/?host={root}&port={port}"
    finally:
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], as_postgres)
        shutil.rmtree(root, ignore_errors=True)


def database(server: str) -> str:
    """A new, empty database on ``server``; its store URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("/?", "/postgres?"), autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    return server.replace("/?", f"/{name}?")


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The store URL of a fresh database for one test."""
    return database(postgres_server)
