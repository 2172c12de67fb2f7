"""Running fits: the work of one job, the executors that run it (Dask or inline), the
dispatcher between the job store and an executor, and the artifact files."""

from bayesmmm.service.jobs._artifacts import ArtifactStore
from bayesmmm.service.jobs._dispatcher import Dispatcher
from bayesmmm.service.jobs._executor import DaskExecutor, Executor, InlineExecutor, JobEvent
from bayesmmm.service.jobs._jobs import JobPayload, run_fit
from bayesmmm.service.jobs._worker import worker

__all__ = ["ArtifactStore", "DaskExecutor", "Dispatcher", "Executor", "InlineExecutor",
           "JobEvent", "JobPayload", "run_fit", "worker"]
