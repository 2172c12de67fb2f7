"""Faults: the worker process is killed mid-fit, then the server itself is killed and
restarted. Every job ends completed (re-run) or failed with a reason; nothing is lost."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from bayesmmm.datasets import example_path
from tests.service._server import FINAL, QUICK_FORM, Server

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses process groups and signals")

TINY = {"chains": "1", "warmup": "100", "draws": "100", "seed": "5"}
LONGER = {"chains": "1", "warmup": "1000", "draws": "1000", "seed": "6"}


def _submit(server: Server, sampler: dict[str, str]) -> str:
    return server.submit(files={"file": ("example.csv", example_path().read_bytes())},
                         **QUICK_FORM, **sampler)


def _wait_running(server: Server, task: str, timeout: float = 240) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server.status(task)
        if status["status"] == "running" and status["phase"] in ("warmup", "sampling"):
            return status
        assert status["status"] not in FINAL, status
        time.sleep(0.1)
    raise AssertionError(f"task {task} never started sampling: {server.status(task)}")


def test_killed_worker_and_restarted_server_lose_nothing(tmp_path: Path) -> None:
    server = Server(tmp_path / "home", BAYESMMM_ON_WORKER_LOSS="retry",
                    BAYESMMM_MAX_ATTEMPTS="4").start()
    try:
        done = _submit(server, TINY)
        assert server.wait(done)["status"] == "completed"
        summary = httpx.get(f"{server.url}/v1/tasks/{done}/summary", timeout=60).json()
        victim = _submit(server, LONGER)
        queued = _submit(server, TINY)
        _wait_running(server, victim)
        pids = server.worker_pids()
        assert pids, "no Dask worker process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # the worker dies mid-fit
        # The service notices and queues the fit again (retry policy) ...
        deadline = time.monotonic() + 120
        while server.status(victim)["attempts"] < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.status(victim)["attempts"] >= 2, server.status(victim)
        # ... and then the whole server dies too, and comes back on the same port.
        server.kill(signal.SIGKILL)
        server.start()
        final = {task: server.wait(task) for task in (victim, queued, done)}
        # Results of jobs completed before the crashes survive it.
        again = httpx.get(f"{server.url}/v1/tasks/{done}/summary", timeout=60).json()
        listed = httpx.get(f"{server.url}/v1/tasks", timeout=30).json()
    finally:
        server.kill()
    for task, status in final.items():
        assert status["status"] in ("completed", "failed"), (task, status)
        if status["status"] == "failed":  # allowed, but only with a reason to act on
            assert "Fix:" in status["error"]["message"]
    assert final[queued]["status"] == "completed"
    assert final[done]["status"] == "completed" and final[done]["attempts"] == 1
    assert final[victim]["status"] == "completed" and final[victim]["attempts"] >= 2
    assert again == summary
    assert listed["total"] == 3
    assert sorted(t["task_id"] for t in listed["tasks"]) == sorted([done, victim, queued])
