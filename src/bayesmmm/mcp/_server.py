"""The MCP server: its tools, prompts and resources over one BayesMMM service, and
``bayesmmm mcp`` (stdio or streamable HTTP, a local or a remote service)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import ValidationError

import bayesmmm
from bayesmmm.mcp import _prompts, _tools_data, _tools_plan, _tools_results
from bayesmmm.mcp._answer import error_result, invalid_arguments
from bayesmmm.mcp._client import ServiceClient
from bayesmmm.mcp._fits import FitStore
from bayesmmm.mcp._local import LocalService

__all__ = ["build_server", "serve"]


class _Server(MCPServer[Any]):
    """MCPServer whose argument errors read like the service's: field by field, with
    the rule and the value, as a JSON error answer."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc, UnexpectedToolError) or \
                    not isinstance(exc.__cause__, ValidationError):
                raise
            return error_result(invalid_arguments(name, exc.__cause__))


def build_server(client: ServiceClient, *, allow_paths: bool = True,
                 data_dir: Path | None = None) -> tuple[MCPServer[Any], FitStore]:
    """The MCP server over ``client``'s service, and the fit store it reads fits into
    (close it when done).

    Parameters
    ----------
    client : ServiceClient
    allow_paths : bool
        Whether data may be given as a file path (read on this machine).
    data_dir : Path, optional
        Only files inside this folder may be read.
    """
    fits = FitStore(client)
    server = _Server(
        "bayesmmm", title="BayesMMM", version=bayesmmm.__version__,
        description="Bayesian marketing mix models: validate data, fit on the service, "
                    "read ROI, contributions and response curves, plan budgets.",
        instructions=_prompts.INSTRUCTIONS, log_level="WARNING")
    _tools_data.register(server, client, allow_paths=allow_paths, root=data_dir)
    _tools_results.register(server, client, fits)
    _tools_plan.register(server, client, fits)
    _prompts.register(server)

    @server.resource("bayesmmm://tasks", name="tasks", mime_type="application/json",
                     description="The 20 most recent tasks of this service (for this key).")
    async def tasks() -> str:
        listed = await client.json("GET", "/tasks", params={"limit": 20})
        keep = ("task_id", "status", "progress", "input_name", "created_at")
        return json.dumps([{k: t.get(k) for k in keep} for t in listed["tasks"]], indent=1)

    return server, fits


def serve(*, url: str | None = None, api_key: str | None = None, http: bool = False,
          host: str = "127.0.0.1", port: int = 8765, data_dir: Path | None = None) -> None:
    """Run the MCP server until its client leaves (stdio) or it is stopped (HTTP).

    Without ``url`` a local service is started (:class:`LocalService`) and stopped on
    exit. File paths are read on this machine over stdio; over HTTP only inside
    ``data_dir``, and not at all without it.
    """
    local = None if url else LocalService(api_key=api_key)
    base = local.url if local is not None else str(url)
    client = ServiceClient(base, api_key, ready=local.wait_ready if local else None)
    server, fits = build_server(client, allow_paths=not http or data_dir is not None,
                                data_dir=data_dir)

    async def main() -> None:
        try:
            if http:  # uvicorn turns SIGINT and SIGTERM into a graceful stop
                await server.run_streamable_http_async(host=host, port=port)
            else:
                await server.run_stdio_async()
        finally:
            await client.aclose()

    def cleanup() -> None:
        fits.close()
        if local is not None:
            local.stop()

    if not http:
        # A client may stop a stdio server by a signal. The protocol loop cannot unwind
        # then (a thread blocks reading stdin), so clean up here and leave at once.
        def on_signal(signum: int, _frame: Any) -> None:
            cleanup()
            os._exit(128 + signum)

        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, on_signal)
    try:
        if local is not None:
            local.start()
        anyio.run(main)
    finally:
        cleanup()
