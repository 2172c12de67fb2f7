"""API keys (optional), the request body size limit and headers on every response.

A key is never stored: a task records its owner as the HMAC-SHA256 of the key under the
server's secret (:meth:`Settings.server_secret`), so the job table alone (a backup, a
copy of ``service.db``) does not let anyone test guesses of keys. Tasks stored by an
older version under the plain SHA-256 of their key are moved to the keyed hash when a
server starts with that key configured (:func:`upgrade_owners`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bayesmmm.service._errors import RequestError

__all__ = ["owner_of", "legacy_owner_of", "get_owner", "has_valid_key", "upgrade_owners",
           "BodyLimit", "SecurityHeaders"]

_bearer = HTTPBearer(auto_error=False, description="An API key from BAYESMMM_API_KEYS.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="An API key from BAYESMMM_API_KEYS.")


def owner_of(key: str, secret: bytes) -> str:
    """The id under which a key's tasks are stored: a keyed hash (keys are never
    stored, and without the server's secret the id does not let one test guesses)."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:48]


def legacy_owner_of(key: str) -> str:
    """The owner id of tasks stored before keyed hashes (plain SHA-256, 32 hex digits)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def upgrade_owners(store: Any, keys: tuple[str, ...], secret: bytes) -> int:
    """Move the tasks each configured key stored under its legacy hash to its keyed
    hash; returns how many tasks moved (0 once done)."""
    return sum(int(store.rekey_owner(legacy_owner_of(k), owner_of(k, secret))) for k in keys)


def _given_key(request: Request) -> str | None:
    header = request.headers.get("x-api-key")
    if header:
        return header
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _match(request: Request, given: str | None) -> str | None:
    """The owner id of ``given`` if it is a configured key (compared in constant time)."""
    service = request.app.state.service
    if not given:
        return None
    digest = owner_of(given, service.secret)
    matched = False
    for known in service.key_owners:  # compare with every key, in constant time
        matched |= hmac.compare_digest(digest, known)
    return digest if matched else None


def has_valid_key(request: Request) -> bool:
    """Whether the caller sent a configured API key (False when none is configured)."""
    return bool(request.app.state.service.settings.api_keys) and \
        _match(request, _given_key(request)) is not None


def get_owner(request: Request,
              bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
              header: Annotated[str | None, Depends(_header)]) -> str:
    """The caller's owner id; ``""`` when the service needs no keys."""
    keys: tuple[str, ...] = request.app.state.service.settings.api_keys
    if not keys:
        return ""
    given = header or (bearer.credentials if bearer is not None else None)
    owner = _match(request, given)
    if owner is not None:
        return owner
    raise RequestError(401, "unauthorized",
                       "missing or unknown API key. Fix: send it as 'Authorization: Bearer "
                       "<key>' or 'X-API-Key: <key>'")


class BodyLimit:
    """ASGI middleware: refuse a request body larger than ``max_bytes`` plus ``slack``
    (room for form fields) with 413, by its declared length at once or while it streams
    in. The file inside is checked against ``max_bytes`` itself later."""

    def __init__(self, app: Any, max_bytes: int, slack: int = 1024 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.slack = slack

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes + self.slack
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, self.max_bytes)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, limited, send)


def too_large(limit: int) -> RequestError:
    return RequestError(413, "too_large",
                        f"the request is larger than the {limit / 1024 / 1024:g} MB limit. "
                        "Fix: send fewer rows or columns (e.g. weekly instead of daily data), "
                        "or Parquet instead of CSV")


async def _too_large(send: Any, limit: int) -> None:
    error = too_large(limit)
    body = json.dumps({"detail": str(error), "code": error.code}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """ASGI middleware: ``X-Content-Type-Options: nosniff`` on every response (API,
    dashboard files, ``/docs``, errors), so no browser guesses another type than the
    one declared; ``Referrer-Policy: no-referrer`` where none is set."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"x-content-type-options"]
                headers.append((b"x-content-type-options", b"nosniff"))
                if not any(k.lower() == b"referrer-policy" for k, _ in headers):
                    headers.append((b"referrer-policy", b"no-referrer"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
