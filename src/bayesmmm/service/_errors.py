"""Errors of the service layer; each carries the HTTP status it maps to."""

from __future__ import annotations

from typing import Any

from bayesmmm.errors import BayesMMMError

__all__ = ["ArtifactUnavailable", "ConfigError", "DownloadError", "RequestError",
           "StoreUnavailable"]


class ConfigError(BayesMMMError):
    """A ``BAYESMMM_*`` setting of the service is invalid."""


class RequestError(BayesMMMError):
    """A request the service refuses: ``status`` is the HTTP code, ``code`` a stable name
    and ``extra`` further JSON fields of the error body (e.g. a validation report)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


class DownloadError(RequestError):
    """A ``download_link`` could not be fetched safely."""


class StoreUnavailable(RequestError):
    """The job store refused a read or write (locked, read-only, full, unreachable):
    ``503`` with the reason; ``kind`` is one of ``locked``, ``read_only``, ``full``,
    ``unreachable`` or ``error``."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(503, "store_unavailable",
                         f"the job store cannot take this change now: {reason}. Fix: try "
                         "again in a minute; if it persists, the operator should look at "
                         "/v1/health and the server log", store=kind)
        self.kind = kind
        self.reason = reason


class ArtifactUnavailable(RequestError):
    """The artifact store could not keep a file (disk full, read-only, unreachable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, "artifacts_unavailable",
                         f"the artifact store cannot keep the data now: {reason}. Fix: try "
                         "again later; if it persists, the operator should free space or "
                         "check the artifact folder's permissions")
        self.reason = reason
