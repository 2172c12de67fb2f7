"""The parts of a running service, built from :class:`Settings` or handed in by tests."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bayesmmm.service._settings import Settings
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.jobs import ArtifactStore, DaskExecutor, Dispatcher, Executor
from bayesmmm.service.store import JobStore

__all__ = ["Service", "FitCache"]


class FitCache:
    """The last few fits read back from the artifact store (a fit never changes)."""

    def __init__(self, artifacts: ArtifactStore, size: int = 4) -> None:
        self.artifacts = artifacts
        self.size = size
        self._fits: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        from bayesmmm import load_fit

        with self._lock:
            if key in self._fits:
                self._fits.move_to_end(key)
                return self._fits[key]
        with self.artifacts.local_copy(key) as path:
            fitted = load_fit(path)
        with self._lock:
            self._fits[key] = fitted
            while len(self._fits) > self.size:
                self._fits.popitem(last=False)
        return fitted


@dataclass
class Service:
    """Store, artifacts, executor, dispatcher and fetcher of one server process."""

    settings: Settings
    store: JobStore
    artifacts: ArtifactStore
    executor: Executor
    fetcher: Fetcher
    dispatcher: Dispatcher = field(init=False)
    fits: FitCache = field(init=False)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.store, self.artifacts, self.executor, self.settings)
        self.fits = FitCache(self.artifacts)

    @classmethod
    def build(cls, settings: Settings, *, store: JobStore | None = None,
              artifacts: ArtifactStore | None = None, executor: Executor | None = None,
              fetcher: Fetcher | None = None) -> Service:
        """The parts ``settings`` describe; any part given is used as is."""
        return cls(
            settings=settings,
            store=store or JobStore(settings.database_url),
            artifacts=artifacts or ArtifactStore(settings.artifacts),
            executor=executor or DaskExecutor(settings.dask_scheduler, settings.dask_workers,
                                              settings.dask_threads),
            fetcher=fetcher or Fetcher(settings.max_upload_bytes, settings.download_timeout,
                                       settings.download_allow),
        )

    def start(self, background: bool = True) -> None:
        """Migrate the store, then start the executor and dispatcher."""
        self.store.migrate()
        self.dispatcher.start(background=background)

    def stop(self) -> None:
        """Stop the dispatcher and executor, and hand this server's unfinished jobs back to
        the queue, so that another server need not wait for the leases to run out."""
        self.dispatcher.stop()
        try:
            self.store.release(self.settings.instance, self.settings.max_attempts + 1)
        finally:
            self.store.dispose()

    def drain(self, max_passes: int = 100) -> None:
        """Tests with an inline executor: run dispatcher passes and queued fits until
        nothing is left to do (arq's burst mode)."""
        run_pending = getattr(self.executor, "run_pending", None)
        for _ in range(max_passes):
            self.dispatcher.run_once()
            ran = run_pending() if run_pending else 0
            handled = self.dispatcher.handle_events()
            if not ran and not handled and not self.dispatcher.in_flight:
                counts = self.store.counts()
                if not counts.get("pending"):
                    return
