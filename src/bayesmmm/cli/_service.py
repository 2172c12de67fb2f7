"""Commands that run the service: ``serve`` (the REST API) and ``worker`` (a Dask
worker for it); see docs/service.md."""

from __future__ import annotations

from typing import Annotated

import typer

from bayesmmm.cli._common import guard

__all__ = ["serve", "worker"]


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
