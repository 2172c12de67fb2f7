"""``bayesmmm mcp --http`` against a remote service by URL and API key, driven by the
SDK's streamable HTTP client: the key reaches the service, a wrong key is answered in
words, file paths are refused over HTTP without ``--data-dir``, and a fit runs through.
Slow (two server processes and a fit): ``pytest -m slow tests/mcp``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.mcp._session import COLUMNS, EXAMPLE, FINAL, child_env, text_of
from tests.service._server import Server, free_port

pytestmark = pytest.mark.slow
KEY = "test-key-123"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("remote"), BAYESMMM_API_KEYS=KEY)
    server.start()
    yield server
    server.kill()


@asynccontextmanager
async def _connect(url: str) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(url) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _mcp_http(service: Server, home: Path, key: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BAYESMMM_")},
           **child_env(home)}
    log = (home / f"mcp-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bayesmmm", "mcp", "--http", "--port", str(port), "--url",
         service.url, "--api-key", key], env=env, stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, (home / f"mcp-{port}.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("the MCP server did not listen")


def _call(portal: Any, session: ClientSession, tool: str, **arguments: Any
          ) -> tuple[dict[str, Any], bool]:
    result = portal.call(session.call_tool, tool, arguments)
    return json.loads(text_of(result.content[0])), bool(result.is_error)


def test_remote_service_over_streamable_http(service: Server, tmp_path: Path) -> None:
    process, url = _mcp_http(service, tmp_path, KEY)
    try:
        with start_blocking_portal() as portal, \
                portal.wrap_async_context_manager(_connect(url)) as session:
            body, error = _call(portal, session, "validate_data", data=EXAMPLE, **COLUMNS)
            assert error and "does not read files" in body["detail"]
            csv = Path(EXAMPLE).read_text()
            body, error = _call(portal, session, "validate_data", data=csv, **COLUMNS)
            assert not error and body["ok"] is True
            body, error = _call(portal, session, "start_fit", data=csv, **COLUMNS, chains=1,
                                warmup=50, draws=50)
            assert not error, body
            task = body["task_id"]
            deadline = time.monotonic() + 300
            while (status := _call(portal, session, "get_status", task_id=task)[0]
                   )["status"] not in FINAL:
                assert time.monotonic() < deadline, status
                time.sleep(1)
            assert status["status"] == "completed", status
            roi, error = _call(portal, session, "get_roi", task_id=task)
            assert not error and [r["channel"] for r in roi["rows"]] == ["x1", "x2"]
    finally:
        process.terminate()
        process.wait(timeout=30)

    process, url = _mcp_http(service, tmp_path, "wrong-key")
    try:
        with start_blocking_portal() as portal, \
                portal.wrap_async_context_manager(_connect(url)) as session:
            body, error = _call(portal, session, "get_status", task_id=task)
            assert error and body["error"] == "unauthorized" and "API key" in body["detail"]
    finally:
        process.terminate()
        process.wait(timeout=30)
