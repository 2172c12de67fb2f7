"""The asynchronous BayesMMM service: REST API, durable job store, Dask workers.

>>> from bayesmmm.service import Settings, create_app
>>> app = create_app(Settings.from_env())     # doctest: +SKIP

``bayesmmm serve`` runs it; ``bayesmmm worker tcp://scheduler:8786`` adds a machine.
Parts can be swapped (tests use :class:`InlineExecutor` and ``memory://`` artifacts):
``create_app(service=Service.build(settings, executor=InlineExecutor()), manage=False)``.
"""

from bayesmmm.service._app import create_app
from bayesmmm.service._artifacts import ArtifactStore
from bayesmmm.service._dispatcher import Dispatcher
from bayesmmm.service._errors import ConfigError, DownloadError, RequestError
from bayesmmm.service._executor import DaskExecutor, Executor, InlineExecutor, JobEvent
from bayesmmm.service._fetch import Fetcher
from bayesmmm.service._jobs import JobPayload, run_fit
from bayesmmm.service._service import Service
from bayesmmm.service._settings import Settings
from bayesmmm.service._store import JobRecord, JobStore

__all__ = ["ArtifactStore", "ConfigError", "DaskExecutor", "Dispatcher", "DownloadError",
           "Executor", "Fetcher", "InlineExecutor", "JobEvent", "JobPayload", "JobRecord",
           "JobStore", "RequestError", "Service", "Settings", "create_app", "run_fit"]
