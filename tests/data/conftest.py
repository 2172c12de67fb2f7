"""Fixtures of the data tests: loopback HTTP servers (tests/data/_servers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.data._servers import App, Loopback


@pytest.fixture
def serve() -> Iterator[Callable[[App], Loopback]]:
    """Start loopback servers; all are stopped after the test."""
    started: list[Loopback] = []

    def start(app: App) -> Loopback:
        started.append(Loopback(app))
        return started[-1]

    yield start
    for server in started:
        server.close()
