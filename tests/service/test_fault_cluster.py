"""Faults of a service with a separate Dask scheduler and worker (``slow``): ten small fits
through a SIGKILL of the worker, of the scheduler and of the API. Every job completes,
none is lost or doubled, and health shows the service degraded while the cluster is gone.
``benchmarks/service_faults.py`` runs the same kills under a 200-job load."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bayesmmm.datasets import example_path
from tests.service._server import QUICK_FORM, Server, free_port

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.name != "posix", reason="uses process groups and signals")]

SMALL = {"chains": "1", "warmup": "50", "draws": "50"}


class _Child:
    def __init__(self, args: list[str], log: Path, env: dict[str, str]) -> None:
        self.args, self.log, self.env = args, log, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> _Child:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=out,
                                         start_new_session=True)
        return self

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[_Child, _Child, str]]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "BAYESMMM_HOME": str(tmp_path / "home")}
    scheduler = _Child([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                        "127.0.0.1", "--port", str(port), "--dashboard-address",
                        "127.0.0.1:0"], tmp_path / "scheduler.log", env).start()
    time.sleep(3)
    worker = _Child([sys.executable, "-m", "bayesmmm", "worker", address],
                    tmp_path / "worker.log", env).start()
    yield scheduler, worker, address
    worker.kill()
    scheduler.kill()


def _finished(server: Server, tasks: list[str]) -> int:
    return sum(server.status(t)["status"] in ("completed", "failed") for t in tasks)


def _wait_more(server: Server, tasks: list[str], more: int, timeout: float = 600) -> None:
    goal = _finished(server, tasks) + more
    deadline = time.monotonic() + timeout
    while _finished(server, tasks) < min(goal, len(tasks)):
        assert time.monotonic() < deadline, [server.status(t)["status"] for t in tasks]
        time.sleep(1)


def test_ten_jobs_survive_worker_scheduler_and_api_kills(
        tmp_path: Path, cluster: tuple[_Child, _Child, str]) -> None:
    scheduler, worker, address = cluster
    server = Server(tmp_path / "home", BAYESMMM_DASK_SCHEDULER=address,
                    BAYESMMM_MAX_ATTEMPTS="6", BAYESMMM_LEASE_SECONDS="10").start()
    data = example_path().read_bytes()
    try:
        tasks = [server.submit(files={"file": ("example.csv", data)}, **QUICK_FORM, **SMALL,
                               seed=str(i)) for i in range(10)]
        _wait_more(server, tasks, 1)
        worker.kill()  # SIGKILL of the worker (and its nanny)
        worker.start()
        _wait_more(server, tasks, 1)
        scheduler.kill()  # SIGKILL of the scheduler: the service notices ...
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/v1/health", timeout=30).status_code == 200:
            assert time.monotonic() < deadline, "health never showed the scheduler gone"
            time.sleep(1)
        scheduler.start()  # ... and carries on when it is back
        time.sleep(5)
        worker.kill()
        worker.start()
        _wait_more(server, tasks, 1)
        server.kill(signal.SIGKILL)  # SIGKILL of the API
        server.start()
        final = {t: server.wait(t, timeout=900) for t in tasks}
        listed = httpx.get(f"{server.url}/v1/tasks", params={"limit": 200}, timeout=30).json()
    finally:
        server.kill()
    assert listed["total"] == 10
    assert sorted(t["task_id"] for t in listed["tasks"]) == sorted(tasks)
    for task, status in final.items():
        assert status["status"] == "completed", (task, status)
        assert (tmp_path / "home" / "artifacts" / task / "fit.nc").is_file()
