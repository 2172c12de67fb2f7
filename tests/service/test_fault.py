"""Faults: the worker process is killed mid-fit, then the server itself is killed and
restarted. Every job ends completed (re-run) or failed with a reason; nothing is lost."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
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


# -- ten small jobs through worker and server kills, a locked store, a damaged fit ----------
SMALL = {"chains": "1", "warmup": "50", "draws": "50"}


def _job_row(home: Path, task: str) -> dict[str, object]:
    import sqlite3

    with sqlite3.connect(home / "service.db") as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT status, attempts FROM bayesmmm_jobs WHERE id = ?",
                           (task,)).fetchone()
    return dict(row)


def _running(server: Server, tasks: list[str], more: Callable[[], str] | None = None,
             timeout: float = 240) -> dict[str, object]:
    """The status of a job of ``tasks`` that is sampling. When every job has ended
    already (a fast machine got through them during the steps before), ``more()``
    submits another longer one and it joins ``tasks``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [server.status(task) for task in tasks]
        for status in statuses:
            if status["status"] == "running" and status["phase"] in ("warmup", "sampling"):
                return status
        if more is not None and all(s["status"] in ("completed", "failed")
                                    for s in statuses):
            tasks.append(more())
        time.sleep(0.1)
    raise AssertionError("no job started sampling")


def _killed_mid_fit(server: Server, tasks: list[str], more: Callable[[], str],
                    timeout: float = 300) -> dict[str, object]:
    """SIGKILL the worker while a job of ``tasks`` samples; that job's status once its
    retry has begun. A job that ended between the look and the kill was not hit (it
    stays completed after one attempt): kill again, mid another."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        victim = _running(server, tasks, more)
        for pid in server.worker_pids():
            os.kill(pid, signal.SIGKILL)
        while time.monotonic() < deadline:
            status = server.status(str(victim["task_id"]))
            if int(status["attempts"]) >= 2:  # type: ignore[call-overload]
                return status
            if status["status"] in ("completed", "failed"):
                break  # it ended before the kill landed
            time.sleep(0.2)
    raise AssertionError("no job was killed mid-fit")


def _stopped_mid_fit(server: Server, home: Path, tasks: list[str], more: Callable[[], str],
                     timeout: float = 300) -> dict[str, object]:
    """SIGTERM the server's process group while a job of ``tasks`` samples, then start it
    again; that job's status before the stop. The interrupted run costs no attempt: the
    job is pending again with its attempt given back. A job that ended between the look
    and the signal was not hit (a small fit lasts a fraction of a second): stop again,
    mid another."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = _running(server, tasks, more)
        before = int(running["attempts"])  # type: ignore[call-overload]
        server.stop(signal.SIGTERM)
        row = _job_row(home, str(running["task_id"]))
        server.start()
        if row["status"] == "completed" and row["attempts"] == before:
            continue  # it ended before the signal landed
        assert row["status"] == "pending" and row["attempts"] == before - 1, row
        return running
    raise AssertionError("no job was stopped mid-fit")


@pytest.mark.slow  # ten jobs through kills and faults: over a minute
def test_ten_jobs_survive_kills_and_store_faults(tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "home"
    server = Server(home, BAYESMMM_ON_WORKER_LOSS="retry", BAYESMMM_MAX_ATTEMPTS="5",
                    BAYESMMM_STORE_TIMEOUT="1").start()
    data = example_path().read_bytes()
    try:
        # eight small fits and two longer ones last, so that a fit is running at each kill
        tasks = [server.submit(files={"file": ("example.csv", data)}, **QUICK_FORM,
                               **{**(SMALL if i < 8 else LONGER), "seed": str(i)})
                 for i in range(10)]
        def longer() -> str:
            return server.submit(files={"file": ("example.csv", data)}, **QUICK_FORM,
                                 **{**LONGER, "seed": str(len(tasks))})

        # 1. SIGKILL of the worker mid-fit: its job is retried.
        victim = _killed_mid_fit(server, tasks, longer)
        # 2. Another writer locks the store: a submission answers 503 and keeps nothing,
        #    health says why; both recover when the lock goes.
        holder = sqlite3.connect(home / "service.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            r = httpx.post(f"{server.url}/v1/tasks", files={"file": ("example.csv", data)},
                           data={**QUICK_FORM, **SMALL}, timeout=60)
            assert r.status_code == 503 and r.json()["store"] == "locked", r.text
            health = httpx.get(f"{server.url}/v1/health", timeout=30)
            assert health.status_code == 503 and health.json()["database"] == "locked"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/v1/health", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "health did not recover after the lock"
            time.sleep(0.5)
        # 3. SIGTERM to the whole process group (as systemd sends it) mid-fit: a graceful
        #    stop; the interrupted run costs no attempt.
        running = _stopped_mid_fit(server, home, tasks, longer)
        # 4. SIGKILL of the server itself; it comes back on the same port.
        _running(server, tasks, longer)
        server.kill(signal.SIGKILL)
        server.start()
        final = {task: server.wait(task, timeout=600) for task in tasks}
        # 5. A completed fit damaged on disk: reported, health unaffected, re-run works.
        damaged = next(t for t in tasks if t not in (victim["task_id"], running["task_id"]))
        (home / "artifacts" / damaged / "fit.nc").write_bytes(b"garbage")
        r = httpx.get(f"{server.url}/v1/tasks/{damaged}/summary", timeout=60)
        assert r.status_code == 409 and "damaged" in r.json()["detail"]
        assert str(home) not in r.text
        assert server.status(damaged)["error"]["code"] == "fit_damaged"
        assert httpx.get(f"{server.url}/v1/health", timeout=30).status_code == 200
        assert httpx.post(f"{server.url}/v1/tasks/{damaged}/rerun", timeout=60
                          ).status_code == 200
        final[damaged] = server.wait(damaged, timeout=300)
        listed = httpx.get(f"{server.url}/v1/tasks", params={"limit": 200}, timeout=30).json()
    finally:
        server.kill()
    # 0 lost, 0 duplicated, every job ended and says how (ten, and any added to keep one
    # sampling at each kill)
    assert listed["total"] == len(tasks) >= 10
    assert sorted(t["task_id"] for t in listed["tasks"]) == sorted(tasks)
    assert sorted(p.name for p in (home / "artifacts").iterdir()) == sorted(tasks)
    for task, status in final.items():
        assert status["status"] == "completed", (task, status)
        assert 1 <= status["attempts"] <= 5
        assert (home / "artifacts" / task / "fit.nc").stat().st_size > 1000
    assert final[str(victim["task_id"])]["attempts"] >= 2
