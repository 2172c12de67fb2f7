"""The asynchronous BayesMMM service: REST API, durable job store, Dask workers.

>>> from bayesmmm.service import Settings, create_app
>>> app = create_app(Settings.from_env())     # doctest: +SKIP

``bayesmmm serve`` runs it; ``bayesmmm worker tcp://scheduler:8786`` adds a machine.
Parts can be swapped (tests use :class:`InlineExecutor` and ``memory://`` artifacts):
``create_app(service=Service.build(settings, executor=InlineExecutor()), manage=False)``.

The parts live in four subpackages, each importing only those listed after it:
``api`` (the FastAPI app, routes, schemas, reading requests, the running
:class:`Service`) -> ``jobs`` (the work of a job, executors, dispatcher, artifacts) ->
``store`` (the SQL job store and its migrations); ``web`` is the dashboard's page and
files. ``_settings`` (with ``_sources``, the operator's named data sources), ``_errors``,
``_names`` and ``_structures`` are shared by all.
"""

from bayesmmm.service._errors import ConfigError, DownloadError, RequestError
from bayesmmm.service._settings import Settings
from bayesmmm.service.api import Fetcher, Service, create_app
from bayesmmm.service.jobs import (
    ArtifactStore,
    DaskExecutor,
    Dispatcher,
    Executor,
    InlineExecutor,
    JobEvent,
    JobPayload,
    run_fit,
)
from bayesmmm.service.store import JobRecord, JobStore

__all__ = ["ArtifactStore", "ConfigError", "DaskExecutor", "Dispatcher", "DownloadError",
           "Executor", "Fetcher", "InlineExecutor", "JobEvent", "JobPayload", "JobRecord",
           "JobStore", "RequestError", "Service", "Settings", "create_app", "run_fit"]
