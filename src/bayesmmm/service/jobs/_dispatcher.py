"""The bridge between the job store (the queue of record) and an executor.

One pass (:meth:`Dispatcher.run_once`) applies what the workers reported, renews this
server's leases, takes back jobs whose server died, and hands new pending jobs to the
executor. A background thread repeats it; tests call it directly for deterministic
runs. Only this class and the API write job rows; workers never touch the store.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from bayesmmm.service._settings import Settings
from bayesmmm.service.jobs._artifacts import ArtifactStore
from bayesmmm.service.jobs._executor import Executor, JobEvent
from bayesmmm.service.jobs._jobs import JobPayload
from bayesmmm.service.store import JobRecord, JobStore, lost_message

__all__ = ["Dispatcher"]

log = logging.getLogger("bayesmmm.service")

_PROGRESS_EVERY = 0.5  # seconds between progress writes per job


class Dispatcher:
    """Moves jobs from the store to the executor and results back.

    Parameters
    ----------
    store, artifacts, executor, settings
        The parts it connects; ``settings`` gives the lease, the retry policy and the
        number of jobs in flight.
    """

    def __init__(self, store: JobStore, artifacts: ArtifactStore, executor: Executor,
                 settings: Settings) -> None:
        self.store = store
        self.artifacts = artifacts
        self.executor = executor
        self.settings = settings
        self.instance = settings.instance
        self.in_flight: dict[str, str] = {}  # task id -> token of the run we handed out
        self._events: queue.Queue[JobEvent] = queue.Queue()
        self._cancelled: set[str] = set()
        self._last_progress: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = self._recovered = 0.0

    # -- life cycle ---------------------------------------------------------------------
    def start(self, background: bool = True) -> None:
        """Take back this instance's jobs from a previous life, start the executor, and
        (``background``) the loop thread."""
        back = self.store.release(self.instance, self.settings.max_attempts)
        if back:
            log.info("re-queued %d job(s) left by a previous run of %s", len(back),
                     self.instance)
        self.executor.start(self.post)
        if background:
            self._thread = threading.Thread(target=self._loop, name="bayesmmm-dispatcher",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.executor.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the loop
                log.exception("dispatcher pass failed; retrying")
                self._stop.wait(1.0)
            self._wake.wait(timeout=0.5)
            self._wake.clear()

    # -- inputs from elsewhere ----------------------------------------------------------
    def post(self, event: JobEvent) -> None:
        """Thread-safe: the executor reports here."""
        self._events.put(event)
        self._wake.set()

    def notify(self) -> None:
        """A job was submitted: look at the queue now rather than at the next tick."""
        self._wake.set()

    def cancel(self, task_id: str) -> None:
        """Thread-safe: the job was cancelled in the store; stop its run if it is ours."""
        self.post(JobEvent("cancel_request", task_id, ""))

    # -- one pass -----------------------------------------------------------------------
    def run_once(self) -> None:
        self.handle_events()
        now = time.monotonic()
        lease = self.settings.lease_seconds
        if now - self._renewed >= lease / 3:
            self._renew()
            self._renewed = now
        if now - self._recovered >= lease / 3:
            back = self.store.recover_expired(self.settings.max_attempts)
            if back:
                log.info("took over %d job(s) whose server stopped", len(back))
            self._recovered = now
        self._dispatch()

    def handle_events(self) -> int:
        n = 0
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return n
            n += 1
            try:
                self._apply(event)
            except Exception:
                log.exception("could not apply %s of job %s", event.kind, event.task_id)
                if event.kind in ("finished", "lost"):
                    self._events.put(event)  # a result is never dropped: try again later
                    return n

    def _renew(self) -> None:
        held = self.store.renew(self.instance, self.settings.lease_seconds)
        for task_id, token in list(self.in_flight.items()):
            if held.get(task_id) != token:  # cancelled, or taken over after a long pause
                del self.in_flight[task_id]
                self._cancelled.add(task_id)
                self.executor.cancel(task_id)

    def _dispatch(self) -> None:
        room = self.settings.max_in_flight - len(self.in_flight)
        for job in self.store.claim(self.instance, room, self.settings.lease_seconds):
            assert job.lease_token is not None  # claim() sets it
            try:
                data = self.artifacts.get(job.input_key)
            except FileNotFoundError:
                self.store.fail(job.id, job.lease_token, "input_missing",
                                "the submitted data file is missing from the artifact store "
                                "(was it deleted?). Fix: submit the job again")
                continue
            self.in_flight[job.id] = job.lease_token
            self.executor.submit(JobPayload(job.id, job.lease_token, data, job.input_name,
                                            job.spec, job.sampler, job.sep))

    # -- events -------------------------------------------------------------------------
    def _apply(self, event: JobEvent) -> None:
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event)

    def _on_cancel_request(self, event: JobEvent) -> None:
        if event.task_id in self.in_flight:
            del self.in_flight[event.task_id]
            self._cancelled.add(event.task_id)
            self.executor.cancel(event.task_id)

    def _on_started(self, event: JobEvent) -> None:
        worker = event.data.get("worker")
        self.store.mark_running(event.task_id, event.token,
                                None if worker is None else str(worker)[:200])

    def _on_progress(self, event: JobEvent) -> None:
        now = time.monotonic()
        last = self._last_progress.get(event.task_id, 0.0)
        if now - last < _PROGRESS_EVERY and event.data.get("fraction", 0) < 1:
            return
        self._last_progress[event.task_id] = now
        self.store.set_progress(event.task_id, event.token, str(event.data.get("phase")),
                                float(event.data.get("fraction", 0.0)))

    def _forget(self, event: JobEvent) -> None:
        if self.in_flight.get(event.task_id) == event.token:
            del self.in_flight[event.task_id]
        self._last_progress.pop(event.task_id, None)

    def _on_finished(self, event: JobEvent) -> None:
        outcome: dict[str, Any] = event.data["outcome"]
        if outcome.get("ok"):
            key = f"{event.task_id}/fit.nc"
            self.artifacts.put(key, outcome["fit"])
            if not self.store.complete(event.task_id, event.token, key, outcome["result"]):
                current = self.store.get(event.task_id)
                if current is None or current.fit_key != key:
                    self.artifacts.delete(key)  # cancelled meanwhile: keep nothing
        else:
            self.store.fail(event.task_id, event.token, str(outcome.get("code")),
                            str(outcome.get("message")), outcome.get("details"))
        self._forget(event)

    def _on_cancelled(self, event: JobEvent) -> None:
        if event.task_id in self._cancelled:
            self._cancelled.discard(event.task_id)
            self._forget(event)
            return
        # Not asked for (e.g. the scheduler connection dropped): the run is lost.
        self._on_lost(JobEvent("lost", event.task_id, event.token, {"reason": "cancelled"}))

    def _on_lost(self, event: JobEvent) -> None:
        self._forget(event)
        job = self.store.get(event.task_id)
        if job is None or job.lease_token != event.token:
            return
        if job.status == "pending":  # it never started: not its fault, queue it again
            self.store.requeue(job.id, event.token)
            return
        self._worker_lost(job, event.token, str(event.data.get("reason", "")))

    def _worker_lost(self, job: JobRecord, token: str, reason: str) -> None:
        cause = "its worker process died" + (f": {reason}" if reason else "")
        if self.settings.on_worker_loss == "retry" and job.attempts < self.settings.max_attempts:
            log.warning("job %s: %s; running it again", job.id, cause)
            self.store.requeue(job.id, token)
            return
        self.store.fail(job.id, token, "worker_lost", lost_message(job.attempts, cause))
