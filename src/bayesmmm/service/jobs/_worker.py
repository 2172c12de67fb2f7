"""What ``bayesmmm worker`` runs: this machine's cores joining a service's Dask cluster."""

from __future__ import annotations

__all__ = ["worker"]


def worker(scheduler: str, nthreads: int = 1, nworkers: int = 1,
           memory_limit: str = "auto", name: str | None = None) -> None:
    """Join the Dask cluster at ``scheduler`` as ``nworkers`` worker processes (Dask's own
    worker, with BayesMMM loaded in advance), each running one fit at a time (NumPyro's
    handlers are per process) and one planning question beside it: ``nthreads`` + 1
    threads, the ``fit=1`` and ``plan=1`` resources."""
    from distributed.cli.dask_worker import main

    args = [scheduler, "--nthreads", str(nthreads + 1), "--nworkers", str(nworkers),
            "--resources", "fit=1,plan=1",
            "--memory-limit", memory_limit, "--preload", "bayesmmm"]
    if name:
        args += ["--name", name]
    main.main(args=args, prog_name="bayesmmm worker", standalone_mode=True)
