"""Where fits run: a Dask cluster (embedded or remote), or inline for tests.

An executor takes :class:`JobPayload` s and reports back through one callback with
:class:`JobEvent` s: ``started``, ``progress``, ``finished`` (with the outcome),
``lost`` (the worker or the connection died) and ``cancelled``. It keeps no state
worth saving: the dispatcher and the store own the jobs.

:meth:`Executor.call` runs a short function (a planning question) on the same workers
and waits for its answer, so heavy work never runs in the API process. On the embedded
cluster each worker has one thread more than it runs fits, reserved by Dask resources
(``fit`` and ``plan``) for such calls: a question is answered while fits run.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from bayesmmm.service._errors import ConfigError
from bayesmmm.service.jobs._jobs import TOPIC, Emit, JobPayload, run_fit, run_on_dask_worker

__all__ = ["JobEvent", "Executor", "DaskExecutor", "InlineExecutor", "CallFailed"]


class CallFailed(Exception):
    """:meth:`Executor.call` got no answer: ``timeout`` (it took too long), ``lost`` (the
    worker died) or ``unavailable`` (no executor running)."""

    def __init__(self, kind: str, reason: str = "") -> None:
        super().__init__(reason or kind)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class JobEvent:
    """Something that happened to the run ``token`` of job ``task_id``."""

    kind: str
    task_id: str
    token: str
    data: dict[str, Any] = field(default_factory=dict)


Post = Callable[[JobEvent], None]


class Executor(Protocol):
    """What the dispatcher needs from a place that runs fits."""

    def start(self, post: Post) -> None: ...

    def submit(self, payload: JobPayload) -> None: ...

    def cancel(self, task_id: str) -> None: ...

    def call(self, fn: Callable[[Any], Any], arg: Any, timeout: float) -> Any: ...

    def info(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class DaskExecutor:
    """Runs fits on Dask: an embedded ``LocalCluster`` of worker processes, or the cluster
    at ``scheduler`` (``tcp://host:8786``) that any number of ``bayesmmm worker`` s join.

    The embedded cluster lets a task fail at its first worker death
    (``allowed-failures`` 0), so the service's own policy (retry or fail) decides.

    A worker process runs one fit at a time whatever its threads (the ``fit`` resource
    is 1): NumPyro's effect handlers live in one stack per process, and two fits traced
    in two threads of one process corrupt each other ("all sites must have unique
    names"). More fits at once need more worker processes.
    """

    def __init__(self, scheduler: str | None = None, n_workers: int = 1,
                 threads_per_worker: int = 1) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.client: Any = None
        self.cluster: Any = None
        self._futures: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._post: Post = lambda event: None
        self._resources = False  # the workers advertise the fit and plan resources
        self._checked = 0.0

    def start(self, post: Post) -> None:
        import dask
        from distributed import Client, LocalCluster

        self._post = post
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="30s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {self.scheduler} ({exc}). Fix: start "
                    "it (`dask scheduler`) and its workers (`bayesmmm worker ADDRESS`), or "
                    "unset BAYESMMM_DASK_SCHEDULER for an embedded cluster") from None
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                # No dashboard; the scheduler's HTTP endpoint on a free port, not 8787.
                self.cluster = LocalCluster(
                    n_workers=self.n_workers, threads_per_worker=self.threads_per_worker + 1,
                    resources={"fit": 1, "plan": 1},  # one fit per process: below
                    processes=True, host="127.0.0.1", dashboard_address=None,
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
            self.client = Client(self.cluster, set_as_default=False)
        self._resources = self._workers_have_resources()
        self.client.subscribe_topic(TOPIC, self._on_event)

    def _workers_have_resources(self) -> bool:
        """True when the workers were started with the ``fit``/``plan`` resources (the
        embedded cluster, ``bayesmmm worker``); plain ``dask worker`` s have none, and
        tasks restricted to resources would wait for ever there."""
        if self.cluster is not None:
            return True
        try:
            workers = list(self.client.scheduler_info(n_workers=-1)["workers"].values())
        except Exception:
            workers = []
        # no worker yet: assume ``bayesmmm worker`` s will come; two fits must never
        # share a worker process (NumPyro's handlers are per process, not per thread)
        return not workers or any("fit" in (w.get("resources") or {}) for w in workers)

    def _restrict(self, resource: str) -> dict[str, Any]:
        if self.cluster is None:  # workers may have joined (or left) since
            now = time.monotonic()
            if now - self._checked > 5:
                self._checked = now
                self._resources = self._workers_have_resources()
        return {"resources": {resource: 1}} if self._resources else {}

    def _reconnect(self) -> None:
        """A remote scheduler that went away and came back: a new client (the old one
        gave up); its own runs were reported lost when it went."""
        from distributed import Client

        if self.cluster is not None or self.client is None or self.client.status == "running":
            return
        with contextlib.suppress(Exception):
            self.client.close(timeout=2)
        self.client = Client(self.scheduler, timeout="5s", set_as_default=False)
        self.client.subscribe_topic(TOPIC, self._on_event)
        self._resources = self._workers_have_resources()

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        _, msg = event
        self._post(JobEvent(str(msg.get("kind")), str(msg.get("task_id")),
                            str(msg.get("token")), dict(msg)))

    def submit(self, payload: JobPayload) -> None:
        self._reconnect()
        future = self.client.submit(run_on_dask_worker, payload, pure=False,
                                    key=f"bayesmmm-fit-{payload.task_id}-{payload.token}",
                                    **self._restrict("fit"))
        with self._lock:
            self._futures[payload.task_id] = future
        future.add_done_callback(partial(self._done, payload.task_id, payload.token))

    def _done(self, task_id: str, token: str, future: Any) -> None:
        with self._lock:
            if self._futures.get(task_id) is future:
                del self._futures[task_id]
        if future.cancelled():
            self._post(JobEvent("cancelled", task_id, token))
            return
        try:
            outcome = future.result()
        except Exception as exc:  # KilledWorker, a lost connection to the scheduler ...
            self._post(JobEvent("lost", task_id, token, {"reason": type(exc).__name__}))
            return
        finally:
            future.release()
        self._post(JobEvent("finished", task_id, token, {"outcome": outcome}))

    def cancel(self, task_id: str) -> None:
        with self._lock:
            future = self._futures.pop(task_id, None)
        if future is not None:
            future.cancel()

    def call(self, fn: Callable[[Any], Any], arg: Any, timeout: float) -> Any:
        """Run ``fn(arg)`` on a worker (ahead of queued fits) and return its result;
        :class:`CallFailed` after ``timeout`` seconds or if the worker dies."""
        if self.client is None:
            raise CallFailed("unavailable", "the executor is not running")
        try:
            self._reconnect()
        except Exception as exc:
            raise CallFailed("unavailable", f"the Dask scheduler is unreachable "
                             f"({type(exc).__name__})") from None
        future = self.client.submit(fn, arg, pure=False, priority=10,
                                    key=f"bayesmmm-plan-{uuid.uuid4().hex}",
                                    **self._restrict("plan"))
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise CallFailed("timeout", f"no answer within {timeout:g} s") from None
        except Exception as exc:  # KilledWorker, a lost scheduler connection ...
            raise CallFailed("lost", type(exc).__name__) from None
        finally:
            future.release()

    def info(self) -> dict[str, Any]:
        if self.client is None or self.client.status != "running":
            return {"executor": "dask", "embedded": self.cluster is not None,
                    "connected": False, "workers": 0, "threads": 0}
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
        if self._resources:  # the thread kept for planning runs no fits
            threads = sum(int((w.get("resources") or {}).get("fit", w.get("nthreads", 0)))
                          for w in workers.values())
        return {"executor": "dask", "embedded": self.cluster is not None, "connected": True,
                "scheduler": self.client.scheduler.address, "workers": len(workers),
                "threads": threads}

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


class InlineExecutor:
    """Runs fits in the calling thread, only when told (:meth:`run_pending`): tests drive
    jobs step by step. :meth:`lose` plays a worker dying mid-fit.

    Parameters
    ----------
    run : callable(payload, emit) -> outcome
        The job function (:func:`bayesmmm.service.jobs._jobs.run_fit` by default).
    """

    def __init__(self, run: Callable[[JobPayload, Emit], dict[str, Any]] = run_fit) -> None:
        self.run = run
        self.queue: deque[JobPayload] = deque()
        self._post: Post = lambda event: None

    def start(self, post: Post) -> None:
        self._post = post

    def submit(self, payload: JobPayload) -> None:
        self.queue.append(payload)

    def cancel(self, task_id: str) -> None:
        for payload in list(self.queue):
            if payload.task_id == task_id:
                self.queue.remove(payload)
                self._post(JobEvent("cancelled", task_id, payload.token))

    def call(self, fn: Callable[[Any], Any], arg: Any, timeout: float) -> Any:
        """Run ``fn(arg)`` now, in the calling thread (tests drive everything)."""
        return fn(arg)

    def run_pending(self) -> int:
        """Run every queued payload now; return how many ran."""
        n = 0
        while self.queue:
            payload = self.queue.popleft()

            def emit(kind: str, payload: JobPayload = payload, **fields: Any) -> None:
                self._post(JobEvent(kind, payload.task_id, payload.token, fields))

            outcome = self.run(payload, emit)
            self._post(JobEvent("finished", payload.task_id, payload.token,
                                {"outcome": outcome}))
            n += 1
        return n

    def lose(self, started: bool = True) -> JobPayload | None:
        """The next queued run dies with its worker (after starting, if ``started``)."""
        if not self.queue:
            return None
        payload = self.queue.popleft()
        if started:
            self._post(JobEvent("started", payload.task_id, payload.token, {"worker": "w"}))
        self._post(JobEvent("lost", payload.task_id, payload.token, {"reason": "KilledWorker"}))
        return payload

    def info(self) -> dict[str, Any]:
        return {"executor": "inline", "queued": len(self.queue)}

    def close(self) -> None:
        self.queue.clear()
