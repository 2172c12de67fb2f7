"""The local service lives and dies with ``bayesmmm mcp``: a client that stops the
server by SIGTERM (some do, instead of closing stdin) leaves no process and no temporary
folder behind (about 15 s: a server and its local service, no fit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from tests.mcp._session import child_env


def _send(process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


def _answer(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert process.stdout is not None
    answer: dict[str, Any] = json.loads(process.stdout.readline())
    return answer


def test_sigterm_stops_the_local_service_and_cleans_up(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BAYESMMM_")},
           **child_env(tmp_path), "TMPDIR": str(tmp_path)}
    with (tmp_path / "mcp.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "bayesmmm", "mcp"], env=env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    try:
        _send(process, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}})
        assert _answer(process)["result"]["serverInfo"]["name"] == "bayesmmm"
        _send(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "get_status", "arguments": {"task_id": "nope"}}})
        answer = _answer(process)["result"]  # waits for the local service to answer
        assert answer["isError"] and answer["structuredContent"]["error"] == "not_found"
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("serve" in " ".join(c.cmdline()) for c in children)
        assert list(tmp_path.glob("bayesmmm-mcp-*"))  # the service's log folder
        process.terminate()
        assert process.wait(timeout=30) == 128 + 15
        deadline = time.monotonic() + 30
        while any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children):
            assert time.monotonic() < deadline, "the local service outlived the MCP server"
            time.sleep(0.2)
        assert not list(tmp_path.glob("bayesmmm-mcp-*"))
    finally:
        if process.poll() is None:
            process.kill()
