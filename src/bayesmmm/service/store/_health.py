"""Whether the job store accepts writes: what a failed write says, and the last outcome.

Every write of :class:`~bayesmmm.service.store.JobStore` reports here; a failure keeps
its kind (``locked``, ``read_only``, ``full``, ``unreachable``, ``error``), a reason a
person can act on, and when it started, until a later write of the same or a larger
size succeeds. ``/v1/health`` shows it beside a fresh probe write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bayesmmm.service._errors import StoreUnavailable

__all__ = ["StoreHealth", "WriteFailure", "classify", "is_db_error"]

_KINDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("locked", ("database is locked", "database table is locked", "lock timeout",
                "lock_timeout", "could not obtain lock", "canceling statement due to lock"),
     "another process holds a write lock on the job store (e.g. a backup or a second "
     "program writing to service.db)"),
    ("read_only", ("readonly database", "read-only", "read only", "readonly",
                   "permission denied"),
     "the job store is read-only (its file or folder does not allow writes, or the "
     "database is in read-only mode)"),
    ("full", ("disk is full", "database or disk is full", "no space left",
              "could not extend file", "disk full", "quota"),
     "the disk holding the job store is full (or the store reached its size limit)"),
    ("unreachable", ("unable to open database", "could not connect", "connection refused",
                     "server closed the connection", "connection timed out",
                     "terminating connection", "could not translate host", "disk i/o error"),
     "the job store cannot be reached or opened"),
)


def classify(exc: BaseException) -> tuple[str, str]:
    """``(kind, reason)`` of a database error, without the driver's SQL or paths."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    for kind, needles, reason in _KINDS:
        if any(n in text for n in needles):
            return kind, reason
    return "error", f"the database refused the operation ({type(exc).__name__})"


@dataclass(frozen=True)
class WriteFailure:
    """The store's last refused write: its kind, reason, when it began and what tried."""

    kind: str
    reason: str
    since: datetime
    last: datetime
    operation: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "operation": self.operation,
                "since": self.since.isoformat() + "Z", "last": self.last.isoformat() + "Z"}


class StoreHealth:
    """Thread-safe record of write outcomes (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failure: WriteFailure | None = None

    def failed(self, exc: BaseException, operation: str, now: datetime) -> StoreUnavailable:
        kind, reason = classify(exc)
        with self._lock:
            old = self.failure
            since = old.since if old is not None and old.kind == kind else now
            self.failure = WriteFailure(kind, reason, since, now, operation)
        return StoreUnavailable(kind, reason)

    def succeeded(self, grows: bool) -> None:
        """A write went through. One that needed no new space (``grows`` False: an update
        in place) does not prove a full store has room again, so it clears only the
        other kinds."""
        with self._lock:
            if self.failure is not None and (grows or self.failure.kind != "full"):
                self.failure = None


def is_db_error(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError | sa.exc.OperationalError)
