"""What ``bayesmmm worker`` runs: this machine's cores joining a service's Dask cluster."""

from __future__ import annotations

__all__ = ["worker"]


def worker(scheduler: str, nthreads: int = 1, nworkers: int = 1,
           memory_limit: str = "auto", name: str | None = None) -> None:
    """Join the Dask cluster at ``scheduler`` as ``nworkers`` worker processes of
    ``nthreads`` threads each (Dask's own worker, with BayesMMM loaded in advance)."""
    from distributed.cli.dask_worker import main

    args = [scheduler, "--nthreads", str(nthreads), "--nworkers", str(nworkers),
            "--memory-limit", memory_limit, "--preload", "bayesmmm"]
    if name:
        args += ["--name", name]
    main.main(args=args, prog_name="bayesmmm worker", standalone_mode=True)
