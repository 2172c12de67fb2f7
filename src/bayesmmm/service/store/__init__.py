"""The job store: one SQL row per job (SQLite by default, PostgreSQL by URL), its table
definition and the Alembic migrations that create and upgrade it."""

from bayesmmm.service.store._store import JobRecord, JobStore, lost_message, new_task_id, utcnow

__all__ = ["JobRecord", "JobStore", "lost_message", "new_task_id", "utcnow"]
