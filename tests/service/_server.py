"""A real ``bayesmmm serve`` process on loopback, for end-to-end and fault tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

QUICK_FORM = {"date_column": "date_week", "y_column": "y", "channel_columns": "x1,x2",
              "control_columns": "event_1,event_2,t"}
FINAL = ("completed", "failed", "cancelled")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m bayesmmm serve`` in its own process group, state under ``home``."""

    def __init__(self, home: Path, port: int | None = None, **env: str) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BAYESMMM_HOME": str(home), **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home / "server.log"

    def start(self, timeout: float = 90, degraded_ok: bool = False) -> Server:
        """Start and wait until health answers 200 (``degraded_ok``: any answer)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bayesmmm", "serve", "--port", str(self.port),
                 "--log-level", "warning"], env=self.env, stdout=log, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                code = httpx.get(f"{self.url}/v1/health", timeout=2).status_code
                if code == 200 or (degraded_ok and code == 503):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the server and everything it started (its process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` to the server's process group (as systemd does) and wait for the
        server to exit by itself; return its exit code."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            self.kill()
        return code

    def worker_pids(self) -> list[int]:
        """Dask worker processes the server's embedded cluster started."""
        import psutil

        assert self.process is not None
        out = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                cmd = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "spawn_main" in cmd or "forkserver" in cmd:
                out.append(child.pid)
        return out

    def submit(self, files: dict[str, Any] | None = None, **fields: Any) -> str:
        r = httpx.post(f"{self.url}/v1/tasks", files=files,
                       data=None if files is None else fields,
                       json=fields if files is None else None, timeout=60)
        assert r.status_code == 202, r.text
        return str(r.json()["task_id"])

    def status(self, task_id: str) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/v1/tasks/{task_id}", timeout=30)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait(self, task_id: str, timeout: float = 240, until: tuple[str, ...] = FINAL
             ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(task_id)
            if status["status"] in until:
                return status
            time.sleep(0.2)
        raise AssertionError(f"task {task_id} still {status} after {timeout} s; server log: "
                             f"{self.log.read_text()[-3000:]}")
