"""API keys (optional) and the request body size limit."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bayesmmm.service._errors import RequestError

__all__ = ["owner_of", "get_owner", "BodyLimit"]

_bearer = HTTPBearer(auto_error=False, description="An API key from BAYESMMM_API_KEYS.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="An API key from BAYESMMM_API_KEYS.")


def owner_of(key: str) -> str:
    """The id under which a key's tasks are stored (a hash: keys are never stored)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def get_owner(request: Request,
              bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
              header: Annotated[str | None, Depends(_header)]) -> str:
    """The caller's owner id; ``""`` when the service needs no keys."""
    keys: tuple[str, ...] = request.app.state.service.settings.api_keys
    if not keys:
        return ""
    given = header or (bearer.credentials if bearer is not None else None)
    if given:
        digest = owner_of(given)
        matched = False
        for key in keys:  # compare with every key, in constant time
            matched |= hmac.compare_digest(digest, owner_of(key))
        if matched:
            return digest
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
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
