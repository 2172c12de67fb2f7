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
from datetime import UTC, datetime
from typing import Any

from bayesmmm.service._errors import ArtifactUnavailable, StoreUnavailable
from bayesmmm.service._settings import Settings
from bayesmmm.service.jobs._artifacts import ArtifactDamaged, ArtifactStore, checksum
from bayesmmm.service.jobs._executor import Executor, JobEvent
from bayesmmm.service.jobs._jobs import JobPayload
from bayesmmm.service.store import JobRecord, JobStore, lost_message

__all__ = ["Dispatcher"]

log = logging.getLogger("bayesmmm.service")

_PROGRESS_EVERY = 0.5  # seconds between progress writes per job
_BACKOFF_MAX = 30.0  # longest wait between passes while the store keeps refusing


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
        self._released = False
        self._stopping = False  # a graceful stop began: lost runs are not the jobs' fault
        self._failing: str | None = None  # why passes fail (None: they work)
        self._failing_since: datetime | None = None
        self._failures = 0

    # -- life cycle ---------------------------------------------------------------------
    def start(self, background: bool = True) -> None:
        """Take back this instance's jobs from a previous life, start the executor, and
        (``background``) the loop thread."""
        try:
            self._release_previous()
        except StoreUnavailable as exc:  # e.g. read-only at start: serve reads, retry
            self._failed(exc)
        self.executor.start(self.post)
        if background:
            self._thread = threading.Thread(target=self._loop, name="bayesmmm-dispatcher",
                                            daemon=True)
            self._thread.start()

    def stopping(self) -> None:
        """A graceful stop began (SIGTERM): from now on a run lost with its worker (the
        workers get the signal too) goes back to the queue without using an attempt."""
        self._stopping = True

    def stop(self) -> None:
        self._stopping = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.executor.close()

    def _release_previous(self) -> None:
        if self._released:
            return
        back = self.store.release(self.instance, self.settings.max_attempts)
        self._released = True
        if back:
            log.info("re-queued %d job(s) left by a previous run of %s", len(back),
                     self.instance)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # a database hiccup must not end the loop
                self._failed(exc)
                self._stop.wait(self.backoff())
                continue
            self._recovered_from_failure()
            self._wake.wait(timeout=0.5)
            self._wake.clear()

    # -- failing passes: back off, and log once per change of state ---------------------
    def backoff(self) -> float:
        """Seconds to wait after the ``n``-th failed pass in a row: 1, 2, 4 ... 30."""
        return float(min(_BACKOFF_MAX, 2.0 ** max(self._failures - 1, 0)))

    def _failed(self, exc: Exception) -> None:
        reason = exc.reason if isinstance(exc, StoreUnavailable) else type(exc).__name__
        self._failures += 1
        if self._failing != reason:
            if isinstance(exc, StoreUnavailable):
                log.error("dispatcher: the job store refuses writes (%s); jobs wait until "
                          "it accepts them again (retrying with backoff up to %g s)", reason,
                          _BACKOFF_MAX)
            else:
                log.exception("dispatcher pass failed (%s); retrying with backoff", reason)
            self._failing = reason
            self._failing_since = datetime.now(UTC)

    def _recovered_from_failure(self) -> None:
        if self._failing is not None:
            log.warning("dispatcher: passes work again after %d failed one(s) (%s)",
                        self._failures, self._failing)
        self._failing, self._failing_since, self._failures = None, None, 0

    def state(self) -> dict[str, Any]:
        """For health: ``{"state": "ok"}`` or ``{"state": "failing", "reason", "since",
        "failed_passes"}``; ``in_flight`` jobs either way."""
        out: dict[str, Any] = {"state": "ok" if self._failing is None else "failing",
                               "in_flight": len(self.in_flight)}
        if self._failing is not None and self._failing_since is not None:
            out.update(reason=self._failing, failed_passes=self._failures,
                       since=self._failing_since.isoformat().replace("+00:00", "Z"))
        return out

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
        self._release_previous()
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
            except Exception as exc:
                if event.kind in ("finished", "lost"):
                    self._events.put(event)  # a result is never dropped: try again later
                    if isinstance(exc, StoreUnavailable | ArtifactUnavailable):
                        raise  # the loop backs off and logs the state once
                    log.exception("could not apply %s of job %s", event.kind, event.task_id)
                    return n
                log.warning("could not apply %s of job %s (%s)", event.kind, event.task_id,
                            type(exc).__name__)

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
                data = self.artifacts.get_checked(job.input_key, job.input_sha256)
            except ArtifactDamaged as exc:
                self.store.fail(job.id, job.lease_token, f"input_{exc.kind}",
                                f"the submitted data file is {exc.kind} in the artifact store "
                                "(deleted or changed on the server since it was accepted). "
                                "Fix: submit the job again")
                continue
            self.in_flight[job.id] = job.lease_token
            try:
                self.executor.submit(JobPayload(job.id, job.lease_token, data,
                                                job.input_name, job.spec, job.sampler, job.sep,
                                                self.settings.estimate_time))
            except Exception:  # the cluster is unreachable: back to the queue, back off
                del self.in_flight[job.id]
                self.store.requeue(job.id, job.lease_token)
                raise

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

    def _on_estimate(self, event: JobEvent) -> None:
        estimate = event.data.get("estimate")
        if isinstance(estimate, dict):
            self.store.set_estimate(event.task_id, event.token, estimate)

    def _forget(self, event: JobEvent) -> None:
        if self.in_flight.get(event.task_id) == event.token:
            del self.in_flight[event.task_id]
        self._last_progress.pop(event.task_id, None)

    def _on_finished(self, event: JobEvent) -> None:
        outcome: dict[str, Any] = event.data["outcome"]
        if outcome.get("ok"):
            key = f"{event.task_id}/fit.nc"
            self.artifacts.put(key, outcome["fit"])
            if not self.store.complete(event.task_id, event.token, key, outcome["result"],
                                       fit_sha256=checksum(outcome["fit"]),
                                       estimate=outcome.get("estimate")):
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
        if self._stopping:  # stopped on purpose with the server: not its fault either
            self.store.requeue(job.id, event.token, refund=True)
            return
        self._worker_lost(job, event.token, str(event.data.get("reason", "")))

    def _worker_lost(self, job: JobRecord, token: str, reason: str) -> None:
        cause = "its worker process died" + (f": {reason}" if reason else "")
        if self.settings.on_worker_loss == "retry" and job.attempts < self.settings.max_attempts:
            log.warning("job %s: %s; running it again", job.id, cause)
            self.store.requeue(job.id, token)
            return
        self.store.fail(job.id, token, "worker_lost", lost_message(job.attempts, cause))
