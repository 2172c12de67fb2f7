"""The parts of a running service, built from :class:`Settings` or handed in by tests."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bayesmmm.service._errors import StoreUnavailable
from bayesmmm.service._settings import Settings
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._security import owner_of, upgrade_owners
from bayesmmm.service.api._sources import SourceReader
from bayesmmm.service.jobs import (
    ArtifactDamaged,
    ArtifactStore,
    DaskExecutor,
    Dispatcher,
    Executor,
    checksum,
)
from bayesmmm.service.store import JobStore

log = logging.getLogger("bayesmmm.service")

__all__ = ["Service", "FitCache"]


class FitCache:
    """The last few fits read back from the artifact store (a fit never changes), each
    checked against the checksum stored with its job before it is read."""

    def __init__(self, artifacts: ArtifactStore, size: int = 4) -> None:
        self.artifacts = artifacts
        self.size = size
        self._fits: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, sha256: str | None = None) -> Any:
        """The fit stored under ``key``; :class:`ArtifactDamaged` if it is missing, does
        not match ``sha256`` or cannot be read as a fit."""
        from bayesmmm import load  # one fit, or an averaged fit (forms)

        entry = f"{key}#{sha256}"  # a re-run writes a new fit under the same key
        with self._lock:
            if entry in self._fits:
                self._fits.move_to_end(entry)
                return self._fits[entry]
        try:
            with self.artifacts.local_copy(key) as path:
                if sha256 is not None and checksum(path.read_bytes()) != sha256:
                    raise ArtifactDamaged(key, "damaged")
                fitted = load(path)
        except ArtifactDamaged:
            raise
        except FileNotFoundError:
            raise ArtifactDamaged(key, "missing") from None
        except Exception:  # a truncated or foreign file: NetCDF, HDF5, key errors ...
            raise ArtifactDamaged(key, "damaged") from None
        with self._lock:
            self._fits[entry] = fitted
            while len(self._fits) > self.size:
                self._fits.popitem(last=False)
        return fitted


@dataclass
class Service:
    """Store, artifacts, executor, dispatcher, fetcher and named sources of one server
    process."""

    settings: Settings
    store: JobStore
    artifacts: ArtifactStore
    executor: Executor
    fetcher: Fetcher
    dispatcher: Dispatcher = field(init=False)
    fits: FitCache = field(init=False)
    sources: SourceReader = field(init=False)
    secret: bytes = field(init=False, repr=False)
    key_owners: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.store, self.artifacts, self.executor, self.settings)
        self.fits = FitCache(self.artifacts)
        self.sources = SourceReader(self.settings.sources, self.settings.max_upload_bytes,
                                    self.settings.download_timeout)
        self.secret = self.settings.server_secret() if self.settings.api_keys else b""
        self.key_owners = tuple(owner_of(k, self.secret) for k in self.settings.api_keys)

    @classmethod
    def build(cls, settings: Settings, *, store: JobStore | None = None,
              artifacts: ArtifactStore | None = None, executor: Executor | None = None,
              fetcher: Fetcher | None = None) -> Service:
        """The parts ``settings`` describe; any part given is used as is."""
        return cls(
            settings=settings,
            store=store or JobStore(settings.database_url, settings.store_timeout),
            artifacts=artifacts or ArtifactStore(settings.artifacts),
            executor=executor or DaskExecutor(settings.dask_scheduler, settings.dask_workers,
                                              settings.dask_threads),
            fetcher=fetcher or Fetcher(settings.max_upload_bytes, settings.download_timeout,
                                       settings.download_allow),
        )

    def start(self, background: bool = True) -> None:
        """Migrate the store, move tasks of configured keys to keyed hashes, then start
        the executor and dispatcher."""
        self.store.migrate()
        try:
            moved = upgrade_owners(self.store, self.settings.api_keys, self.secret)
            if moved:
                log.info("moved %d task(s) to keyed API key hashes", moved)
        except StoreUnavailable as exc:  # read-only: try again at the next start
            log.warning("could not upgrade API key hashes now (%s)", exc.reason)
        self.dispatcher.start(background=background)

    def stop(self) -> None:
        """Stop the dispatcher and executor, and hand this server's unfinished jobs back to
        the queue, so that another server need not wait for the leases to run out; a
        run stopped this way does not count as one of the job's attempts."""
        self.dispatcher.stop()
        try:
            self.store.release(self.settings.instance, self.settings.max_attempts + 1,
                               graceful=True)
        except StoreUnavailable as exc:  # the leases run out and another server takes over
            log.warning("could not hand jobs back at stop (%s); they are taken back when "
                        "their leases run out", exc.reason)
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
