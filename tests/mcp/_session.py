"""A real ``bayesmmm mcp`` process driven by the MCP SDK's own client, callable from
synchronous tests (the session lives in an anyio blocking portal)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from bayesmmm.datasets import example_path

EXAMPLE = str(example_path())
COLUMNS: dict[str, Any] = {"date_column": "date_week", "y_column": "y",
                           "channel_columns": ["x1", "x2"],
                           "control_columns": ["event_1", "event_2", "t"]}
FINAL = ("completed", "failed", "cancelled")


def text_of(block: Any) -> str:
    """The text of a content block (a tool's, a prompt's or a resource's)."""
    text = getattr(block, "text", None)
    assert isinstance(text, str), block
    return text


def child_env(home: Path) -> dict[str, str]:
    """What the server process gets beyond the SDK's safe defaults: our settings (the
    compilation cache, ...) and its own state folder; never a key or a remote URL."""
    keep = {k: v for k, v in os.environ.items()
            if k.startswith(("BAYESMMM_", "JAX_", "XLA_")) and k not in (
                "BAYESMMM_API_KEYS", "BAYESMMM_API_KEY", "BAYESMMM_URL", "BAYESMMM_HOME",
                "BAYESMMM_DATABASE_URL", "BAYESMMM_ARTIFACTS", "BAYESMMM_DASK_SCHEDULER")}
    return {**keep, "BAYESMMM_HOME": str(home)}


class Mcp:
    """Synchronous calls into one MCP client session."""

    def __init__(self, portal: BlockingPortal, session: ClientSession, log: Path) -> None:
        self.portal, self.session, self.log = portal, session, log

    def call(self, tool: str, /, **arguments: Any) -> tuple[dict[str, Any], CallToolResult]:
        """The tool's answer as JSON (its first text block) and the whole result."""
        result = self.portal.call(self.session.call_tool, tool, arguments)
        return json.loads(text_of(result.content[0])), result

    def ok(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        body, result = self.call(tool, **arguments)
        assert not result.is_error, (tool, body)
        return body

    def wait(self, task_id: str, timeout: float = 600) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        while True:
            status = self.ok("get_status", task_id=task_id)
            if status["status"] in FINAL:
                return status
            assert time.monotonic() < deadline, (status, self.log.read_text()[-3000:])
            time.sleep(1.0)


@asynccontextmanager
async def _connect(params: StdioServerParameters, log: Path) -> AsyncIterator[ClientSession]:
    with log.open("w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            yield session


@contextmanager
def mcp_process(home: Path, *args: str) -> Iterator[Mcp]:
    """``python -m bayesmmm mcp ARGS`` over stdio, state under ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "bayesmmm", "mcp", *args], env=child_env(home))
    log = home / "mcp-server.log"
    with start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(_connect(params, log)) as session:
        yield Mcp(portal, session, log)
