"""Errors of the service layer; each carries the HTTP status it maps to."""

from __future__ import annotations

from typing import Any

from bayesmmm.errors import BayesMMMError

__all__ = ["ConfigError", "RequestError", "DownloadError"]


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
