"""A local BayesMMM service for the MCP server: ``bayesmmm serve`` in a child process on a
free loopback port.

Why a child process rather than a thread: the service runs an embedded Dask cluster
(worker processes of its own) and uvicorn, both of which want to own their process
(signals, logging, stdout); over stdio the MCP server's stdout *is* the protocol, and a
stray line from either would corrupt it. A child gets no stdin and writes its output to
a log file. It keeps its job store and artifacts where ``bayesmmm serve`` does
(``BAYESMMM_HOME``), so a task started in one assistant session can be read in the next.

It stops with the MCP server: SIGTERM (the service hands its unfinished jobs back to the
queue; the next start runs them), SIGKILL if it does not go within the grace period; a
job whose hand-back is cut short is taken over by the next service after its lease
(``BAYESMMM_LEASE_SECONDS``). No accepted job is lost either way. On
Linux the child also gets SIGTERM if the MCP server dies without cleaning up
(``PR_SET_PDEATHSIG``); and it stays in the MCP server's process group, so a client
that kills the group (as the MCP SDK's stdio client does) stops it too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

from bayesmmm.mcp._client import ServiceError

__all__ = ["LocalService"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM this process when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalService:
    """``python -m bayesmmm serve`` on ``127.0.0.1:<free port>``.

    Parameters
    ----------
    api_key : str, optional
        Require this key (the child gets ``BAYESMMM_API_KEYS=<key>``); default none (the
        service listens on loopback only).
    startup_timeout : float
        Seconds the first tool call waits for the service to answer its health check.
    """

    def __init__(self, api_key: str | None = None, startup_timeout: float = 180.0) -> None:
        self.api_key = api_key
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._folder = Path(tempfile.mkdtemp(prefix="bayesmmm-mcp-"))
        self.log = self._folder / "service.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start the child on :attr:`port`, chosen when this object was made (it answers
        some seconds later: :meth:`wait_ready`); its URL.

        Call it from the thread that lives as long as the server (Linux ties the
        parent-death signal to the thread that started the child)."""
        env = {k: v for k, v in os.environ.items() if k != "BAYESMMM_API_KEYS"}
        if self.api_key:
            env["BAYESMMM_API_KEYS"] = self.api_key
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bayesmmm", "serve", "--host", "127.0.0.1", "--port",
                 str(self.port), "--log-level", "warning"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        return self.url

    def _tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:].strip()
        except OSError:
            return ""

    async def wait_ready(self, http: httpx.AsyncClient) -> None:
        """Wait until the service answers ``/v1/health`` (``ServiceError`` naming the
        cause if it exits or stays silent)."""
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServiceError(0, "service_not_started", "the local BayesMMM service "
                                   f"exited (code {code}) while starting; its log "
                                   f"({self.log}) ends with: {self._tail()}")
            with contextlib.suppress(httpx.HTTPError):
                r = await http.get(f"{self.url}/v1/health", timeout=5)
                if r.status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ServiceError(0, "service_not_started", "the local BayesMMM service did "
                                   f"not answer within {self.startup_timeout:.0f} s; its log "
                                   f"({self.log}) ends with: {self._tail()}")
            await anyio.sleep(0.5)

    def stop(self, grace: float = 10.0) -> None:
        """Remove the log folder (the child keeps writing to its open file), then SIGTERM
        the service and SIGKILL it after ``grace`` seconds. First things first: a stdio
        client kills the whole process group about two seconds after it leaves."""
        process, self.process = self.process, None
        shutil.rmtree(self._folder, ignore_errors=True)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
