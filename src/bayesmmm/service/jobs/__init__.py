"""Running fits: the work of one job, the executors that run it (Dask or inline), the
dispatcher between the job store and an executor, and the artifact files."""

from bayesmmm.service.jobs._artifacts import ArtifactDamaged, ArtifactStore, checksum
from bayesmmm.service.jobs._dispatcher import Dispatcher
from bayesmmm.service.jobs._executor import (
    CallFailed,
    DaskExecutor,
    Executor,
    InlineExecutor,
    JobEvent,
)
from bayesmmm.service.jobs._jobs import JobPayload, run_fit
from bayesmmm.service.jobs._plan import PlanPayload, run_plan
from bayesmmm.service.jobs._worker import worker

__all__ = ["ArtifactDamaged", "ArtifactStore", "CallFailed", "DaskExecutor", "Dispatcher",
           "Executor", "InlineExecutor", "JobEvent", "JobPayload", "PlanPayload", "checksum",
           "run_fit", "run_plan", "worker"]
