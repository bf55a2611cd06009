"""``impactlens serve`` for a test: a free port, the server process, its first answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLI = [sys.executable, "-m", "impactlens.cli"]


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    workspace: Path, *, ready: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``impactlens serve -w workspace``; return it and its base URL once ``ready``
    (a path such as ``/login``) answers. The caller stops it and closes its stderr."""
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "-w", str(workspace)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}{ready}", timeout=2).close()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate(timeout=30)
                raise RuntimeError(f"the server did not start: {err.decode()[-2000:]}") from None
            time.sleep(0.2)
