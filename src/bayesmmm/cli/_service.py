"""Commands that run the service: ``serve`` (the REST API), ``worker`` (a Dask worker
for it) and ``mcp`` (the MCP server for AI assistants); see docs/service.md and
docs/assistant.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bayesmmm.cli._common import guard

__all__ = ["mcp", "serve", "worker"]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Worker processes of the embedded Dask cluster "
        "(BAYESMMM_DASK_WORKERS, 1).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Use the Dask scheduler at this address (tcp://host:8786) "
        "instead of an embedded cluster (BAYESMMM_DASK_SCHEDULER).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Job store URL (BAYESMMM_DATABASE_URL; default a SQLite "
        "file).")] = None,
    artifacts: Annotated[str | None, typer.Option(
        "--artifacts", help="Folder or fsspec URL for data and fits "
        "(BAYESMMM_ARTIFACTS).")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning.")
                         ] = "info",
) -> None:
    """Run the REST API with its job store and Dask workers (see docs/service.md)."""
    def body() -> None:
        from bayesmmm.service.api import serve as run_server

        run_server(host=host, port=port, log_level=log_level, dask_workers=workers,
                   dask_scheduler=scheduler, database_url=database_url, artifacts=artifacts)

    guard(body)


def worker(
    scheduler: Annotated[str, typer.Argument(help="Dask scheduler address, tcp://host:8786.")],
    nthreads: Annotated[int, typer.Option("--nthreads", help="Threads per worker process "
                                          "(1: one fit at a time, using every core).")] = 1,
    nworkers: Annotated[int, typer.Option("--nworkers", help="Worker processes.")] = 1,
    memory_limit: Annotated[str, typer.Option(
        "--memory-limit", help="Per worker process, e.g. 4GB (auto: memory / nworkers).")
                            ] = "auto",
    name: Annotated[str | None, typer.Option("--name", help="Worker name.")] = None,
) -> None:
    """Add this machine's cores to a BayesMMM service's Dask cluster."""
    def body() -> None:
        from bayesmmm.service.jobs import worker as run_worker

        run_worker(scheduler, nthreads=nthreads, nworkers=nworkers, memory_limit=memory_limit,
                   name=name)

    guard(body)


def mcp(
    http: Annotated[bool, typer.Option(
        "--http", help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.")
                    ] = False,
    host: Annotated[str, typer.Option("--host", help="With --http: address to listen on.")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --http: port to listen on.")
                    ] = 8765,
    url: Annotated[str | None, typer.Option(
        "--url", envvar="BAYESMMM_URL", help="A running BayesMMM service "
        "(https://host[:port]); default: start a local one on a free loopback port.")
                   ] = None,
    api_key: Annotated[str | None, typer.Option(
        "--api-key", envvar="BAYESMMM_API_KEY", help="API key of the service at --url (a "
        "local service then requires it too).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Read data files only inside this folder (over --http, file "
        "paths are refused without it).", file_okay=False)] = None,
) -> None:
    """Run the MCP server for AI assistants (see docs/assistant.md)."""
    def body() -> None:
        from bayesmmm.errors import SpecError

        try:
            from bayesmmm.mcp import serve as run_mcp
        except ImportError as exc:
            raise SpecError(f"the MCP server needs the 'mcp' package ({exc.msg}). Fix: pip "
                            "install 'bayesmmm[mcp]'") from None
        if data_dir is not None and not data_dir.is_dir():
            raise SpecError(f"--data-dir '{data_dir}' is not a folder. Fix: pass an existing "
                            "folder")
        run_mcp(url=url, api_key=api_key, http=http, host=host, port=port, data_dir=data_dir)

    guard(body)
