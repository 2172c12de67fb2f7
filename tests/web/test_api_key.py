"""A service with API keys: the dashboard says a key is needed, takes a pasted key and
sends it with every API call (the health line needs none)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bayesmmm.service import InlineExecutor, Service, Settings, create_app
from tests.service._server import free_port

KEY = "dashboard-test-key"


@pytest.fixture
def keyed_url(tmp_path: Path) -> Iterator[str]:
    """The app (no fits needed: an inline executor) under uvicorn on loopback."""
    import uvicorn

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'jobs.db'}",
                        artifacts=str(tmp_path / "artifacts"), instance="web-keys",
                        api_keys=(KEY,))
    service = Service.build(settings, executor=InlineExecutor())
    service.start(background=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service=service, manage=False),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    service.stop()


def test_a_pasted_key_is_sent_with_every_call(keyed_url: str, open_page: Any,
                                              screenshots: Path) -> None:
    page, guard = open_page(keyed_url)
    page.goto(f"{keyed_url}/#/tasks")
    page.wait_for_selector("#health.ok")  # health needs no key
    message = page.wait_for_selector("#task-list .summary-line.bad").inner_text()
    assert "API key" in message and "top right" in message
    assert page.get_attribute("#apikey", "open") is not None  # the key field opened itself
    page.screenshot(path=str(screenshots / "09-api-key.png"))
    page.fill("#apikey-input", KEY)
    page.click("#apikey-form button[type=submit]")
    page.wait_for_selector("#task-list >> text=No tasks yet")
    calls = [r for r in guard.requests if "/v1/tasks" in r.url]
    assert calls and calls[-1].headers.get("x-api-key") == KEY
    assert calls[0].headers.get("x-api-key") is None
