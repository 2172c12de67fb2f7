"""Durability, driven step by step: lost workers (retry or fail), lost servers (re-run),
stale messages, cancellation. Fits are faked; the store is real (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bayesmmm.service import (
    ArtifactStore,
    Dispatcher,
    InlineExecutor,
    JobEvent,
    JobPayload,
    JobStore,
    Settings,
)


def fake_run(payload: JobPayload, emit: Any) -> dict[str, Any]:
    emit("started", worker="tcp://fake")
    emit("progress", phase="sampling", done=1, total=2, fraction=0.75)
    if payload.data == b"bad":
        return {"ok": False, "code": "invalid_data", "message": "column 'y' is missing. Fix: ...",
                "details": {"validation": {"ok": False}}}
    return {"ok": True, "fit": b"FIT:" + payload.data, "result": {"warnings": []}}


def _dispatcher(store: JobStore, artifacts: ArtifactStore, instance: str = "s1",
                **settings: Any) -> tuple[Dispatcher, InlineExecutor]:
    executor = InlineExecutor(fake_run)
    options = {"instance": instance, "database_url": "unused", "artifacts": "unused",
               **settings}
    dispatcher = Dispatcher(store, artifacts, executor, Settings(**options))
    dispatcher.start(background=False)
    return dispatcher, executor


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


def _submit(store: JobStore, artifacts: ArtifactStore, data: bytes = b"data") -> str:
    job = store.create(owner="", spec={}, sampler={}, input_name="x.csv", input_key="tmp")
    artifacts.put(f"{job.id}/input", data)
    from bayesmmm.service.store._schema import jobs

    with store.engine.begin() as conn:
        conn.execute(jobs.update().where(jobs.c.id == job.id).values(input_key=f"{job.id}/input"))
    return job.id


def _status(store: JobStore, task: str) -> Any:
    job = store.get(task)
    assert job is not None
    return job


def test_a_job_runs_to_completion(store: JobStore, artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dispatcher, executor = _dispatcher(store, artifacts)
    dispatcher.run_once()
    assert _status(store, task).status == "pending"  # handed out, not started yet
    assert executor.run_pending() == 1
    dispatcher.run_once()
    job = _status(store, task)
    assert (job.status, job.attempts, job.progress, job.worker) == (
        "completed", 1, 1.0, "tcp://fake")
    assert artifacts.get(str(job.fit_key)) == b"FIT:data"
    assert dispatcher.in_flight == {}


def test_a_failed_fit_keeps_its_message(store: JobStore, artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts, b"bad")
    dispatcher, executor = _dispatcher(store, artifacts)
    dispatcher.run_once()
    executor.run_pending()
    dispatcher.run_once()
    job = _status(store, task)
    assert job.status == "failed" and job.error_code == "invalid_data"
    assert job.error_message == "column 'y' is missing. Fix: ..."


def test_lost_worker_is_retried(store: JobStore, artifacts: ArtifactStore) -> None:
    task, other = _submit(store, artifacts), _submit(store, artifacts, b"other")
    dispatcher, executor = _dispatcher(store, artifacts, on_worker_loss="retry")
    dispatcher.run_once()
    executor.lose()  # the first job's worker dies mid-fit
    dispatcher.run_once()
    assert _status(store, task).attempts == 1
    executor.run_pending()
    dispatcher.run_once()
    dispatcher.run_once()
    executor.run_pending()
    dispatcher.run_once()
    job = _status(store, task)
    assert (job.status, job.attempts) == ("completed", 2)
    assert _status(store, other).status == "completed"  # nothing else lost


def test_retries_are_bounded(store: JobStore, artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dispatcher, executor = _dispatcher(store, artifacts, max_attempts=2)
    for _ in range(2):
        dispatcher.run_once()
        executor.lose()
        dispatcher.run_once()
    job = _status(store, task)
    assert (job.status, job.error_code, job.attempts) == ("failed", "worker_lost", 2)
    assert "2 runs in a row" in job.error_message and "memory" in job.error_message


def test_lost_worker_fails_the_job_when_so_configured(store: JobStore,
                                                      artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dispatcher, executor = _dispatcher(store, artifacts, on_worker_loss="fail")
    dispatcher.run_once()
    executor.lose()
    dispatcher.run_once()
    job = _status(store, task)
    assert (job.status, job.error_code) == ("failed", "worker_lost")
    assert "its worker process died: KilledWorker" in job.error_message
    assert "Fix:" in job.error_message


def test_a_run_lost_before_starting_is_requeued_free(store: JobStore,
                                                     artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dispatcher, executor = _dispatcher(store, artifacts, on_worker_loss="fail")
    dispatcher.run_once()
    executor.lose(started=False)  # queued on the worker that died: not its fault
    dispatcher.run_once()
    assert (_status(store, task).status, _status(store, task).attempts) == ("pending", 0)
    executor.run_pending()
    dispatcher.run_once()
    assert _status(store, task).status == "completed"


def test_server_restart_reruns_pending_and_running(store: JobStore,
                                                   artifacts: ArtifactStore) -> None:
    running, queued = _submit(store, artifacts), _submit(store, artifacts)
    first, executor = _dispatcher(store, artifacts, instance="host:8000")
    first.run_once()
    first.post(JobEvent("started", running, str(_status(store, running).lease_token)))
    first.handle_events()
    assert _status(store, running).status == "running"
    # The server process dies here; a new one starts under the same name.
    second, executor2 = _dispatcher(store, artifacts, instance="host:8000")
    assert _status(store, running).status == "pending"
    second.run_once()
    executor2.run_pending()
    second.run_once()
    assert _status(store, running).status == "completed"
    assert _status(store, running).attempts == 2
    assert _status(store, queued).status == "completed"
    # A late message from the dead server's run changes nothing.
    first.post(JobEvent("finished", running, "old-token", {"outcome": {"ok": False,
                                                                      "code": "x",
                                                                      "message": "y"}}))
    first.handle_events()
    assert _status(store, running).status == "completed"


def test_another_server_takes_over_after_the_lease(store: JobStore,
                                                   artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dead, _ = _dispatcher(store, artifacts, instance="a", lease_seconds=0.05)
    dead.run_once()
    assert _status(store, task).lease_owner == "a"
    alive, executor = _dispatcher(store, artifacts, instance="b", lease_seconds=0.05)
    import time

    time.sleep(0.1)
    alive.run_once()  # a's lease ran out: b re-queues and claims the job
    executor.run_pending()
    alive.run_once()
    assert _status(store, task).status == "completed"


def test_cancel_in_flight(store: JobStore, artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dispatcher, executor = _dispatcher(store, artifacts)
    dispatcher.run_once()
    assert store.cancel(task)
    dispatcher.cancel(task)
    dispatcher.run_once()
    assert executor.run_pending() == 0 and dispatcher.in_flight == {}
    assert _status(store, task).status == "cancelled"


def test_a_result_after_cancellation_is_dropped(store: JobStore,
                                                artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    dispatcher, executor = _dispatcher(store, artifacts)
    dispatcher.run_once()
    executor.run_pending()  # the fit finished ...
    store.cancel(task)  # ... but the user cancelled before the result was stored
    dispatcher.run_once()
    assert _status(store, task).status == "cancelled"
    assert not artifacts.exists(f"{task}/fit.nc")


def test_a_missing_input_fails_clearly(store: JobStore, artifacts: ArtifactStore) -> None:
    task = _submit(store, artifacts)
    artifacts.delete(task)
    dispatcher, _ = _dispatcher(store, artifacts)
    dispatcher.run_once()
    job = _status(store, task)
    assert job.status == "failed" and "submit the job again" in job.error_message


def test_the_progress_fraction_covers_every_phase_and_never_goes_back() -> None:
    """The approximate fit's optimisation fills the whole bar; NUTS's ADVI start a small
    first share, then the warm-up and the draws the rest; the fraction stays in [0, 1]
    and never moves back."""
    from bayesmmm.service.jobs._jobs import _progress

    def fractions(sampler: dict[str, object], events: list[tuple[str, int, int]]
                  ) -> list[float]:
        sent: list[float] = []
        callback = _progress(lambda kind, **f: sent.append(f["fraction"]), sampler)
        for event in events:
            callback(*event)
        return sent

    approx = fractions({"method": "advi", "approx_steps": 8000, "warmup": 1000,
                        "draws": 1000}, [("optimising", 4000, 8000), ("optimising", 8000, 8000)])
    assert approx == [0.5, 1.0]
    nuts = fractions({"init": "advi", "warmup": 500, "draws": 500},
                     [("start", 1000, 2000), ("start", 2000, 2000), ("warmup", 50, 500),
                      ("warmup", 500, 500), ("sampling", 500, 500)])
    assert nuts == sorted(nuts) and nuts[-1] == 1.0 and 0 < nuts[0] < nuts[1] <= 0.1
