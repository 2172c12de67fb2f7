"""Dashboard fixtures: a real ``bayesmmm serve`` on loopback, Chromium pages at laptop
size that may talk to that server only, and a folder for screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service._server import Server

ROOT = Path(__file__).resolve().parents[2]
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """``BAYESMMM_SCREENSHOTS`` or ``build/screenshots/`` (git-ignored)."""
    folder = Path(os.environ.get("BAYESMMM_SCREENSHOTS") or ROOT / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service as users start it: SQLite store, artifacts and an embedded Dask
    cluster under a temporary home."""
    srv = Server(tmp_path_factory.mktemp("web"))
    srv.start()
    yield srv
    srv.kill()


class Guard:
    """Records what a page asked for and what went wrong in it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.outside: list[str] = []
        self.requests: list[Any] = []
        self.errors: list[str] = []

    def route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(route.request)
        if url.startswith((f"{self.origin}/", "data:", "blob:")):
            route.continue_()
        else:  # refused, and the test fails: the page must work offline
            self.outside.append(url)
            route.abort()

    def check(self) -> None:
        assert self.outside == [], f"requests outside {self.origin}: {self.outside}"
        assert self.errors == [], f"errors in the page: {self.errors}"


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """``open_page(origin)`` -> (page, guard): a fresh 1366x768 page whose requests off
    ``origin`` are refused and recorded; page errors are recorded too. Both are checked
    when the test ends."""
    made: list[tuple[Any, Guard]] = []

    def factory(origin: str) -> tuple[Any, Guard]:
        context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
        page = context.new_page()
        guard = Guard(origin)
        page.route("**/*", guard.route)
        page.on("pageerror", lambda exc: guard.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: guard.errors.append(f"console: {msg.text}")
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None)
        made.append((context, guard))
        page.set_default_timeout(30_000)
        return page, guard

    yield factory
    try:
        for _, guard in made:
            guard.check()
    finally:
        for context, _ in made:
            context.close()
