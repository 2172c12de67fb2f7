"""The SQL job store: one row per job, every change a single conditional UPDATE.

A job is claimed by a server with a *lease* (owner, token, expiry). Every later write
about a run names the run's token, so a late message from a lost run can never
overwrite a newer one, and a job is only ever finished once. The database is the only
shared state between servers: SQLite for one machine, PostgreSQL for several.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bayesmmm.service.store._schema import ACTIVE, jobs

__all__ = ["JobRecord", "JobStore", "make_engine", "normalise_url", "utcnow"]


def utcnow() -> datetime:
    """Naive UTC: stored alike by SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver we install)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; a SQLite file gets its folder, WAL and a busy timeout."""
    url = normalise_url(url)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


@dataclass(frozen=True)
class JobRecord:
    """One job as stored (see :data:`bayesmmm.service.store._schema.jobs` for the columns)."""

    id: str
    owner: str
    status: str
    spec: dict[str, Any]
    sampler: dict[str, Any]
    input_name: str
    input_key: str
    sep: str | None
    data_warnings: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    phase: str | None
    progress: float
    attempts: int
    lease_owner: str | None
    lease_token: str | None
    lease_expires_at: datetime | None
    worker: str | None
    error_code: str | None
    error_message: str | None
    error_details: dict[str, Any] | None
    result: dict[str, Any] | None
    fit_key: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobRecord:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


def new_task_id() -> str:
    """128 random bits, URL-safe: unguessable, so a task id is no handle for others."""
    return secrets.token_urlsafe(16)


class JobStore:
    """All reads and writes of job rows.

    Parameters
    ----------
    url_or_engine : str or Engine
        A SQLAlchemy URL (``sqlite:///path.db``, ``postgresql://user:pw@host/db``) or an
        engine.
    """

    def __init__(self, url_or_engine: str | sa.Engine) -> None:
        self.engine = (make_engine(url_or_engine) if isinstance(url_or_engine, str)
                       else url_or_engine)

    # -- schema and health --------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run at every start)."""
        from bayesmmm.service.store._migrate import upgrade

        upgrade(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    # -- reads --------------------------------------------------------------------------
    def get(self, task_id: str, owner: str | None = None) -> JobRecord | None:
        """The job, or None; with ``owner``, only a job of that owner."""
        query = sa.select(jobs).where(jobs.c.id == task_id)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else JobRecord.from_row(dict(row))

    def list_jobs(self, owner: str | None = None, status: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[JobRecord], int]:
        """Jobs newest first, and how many there are in all."""
        where = []
        if owner is not None:
            where.append(jobs.c.owner == owner)
        if status is not None:
            where.append(jobs.c.status == status)
        query = (sa.select(jobs).where(*where)
                 .order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit).offset(offset))
        count = sa.select(sa.func.count()).select_from(jobs).where(*where)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            total = conn.execute(count).scalar_one()
        return [JobRecord.from_row(dict(r)) for r in rows], int(total)

    def counts(self) -> dict[str, int]:
        query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
        with self.engine.connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(query).all()}

    # -- writes -------------------------------------------------------------------------
    def _update(self, where: list[Any], **values: Any) -> int:
        values.setdefault("updated_at", utcnow())
        with self.engine.begin() as conn:
            return int(conn.execute(sa.update(jobs).where(*where).values(**values)).rowcount)

    def create(self, *, owner: str, spec: dict[str, Any], sampler: dict[str, Any],
               input_name: str, input_key: str, sep: str | None = None,
               data_warnings: list[dict[str, Any]] | None = None,
               task_id: str | None = None) -> JobRecord:
        """Insert a pending job (committed before this returns: accepted is durable)."""
        now = utcnow()
        row: dict[str, Any] = {"id": task_id or new_task_id(), "owner": owner, "status": "pending",
               "spec": spec, "sampler": sampler, "input_name": input_name,
               "input_key": input_key, "sep": sep, "data_warnings": data_warnings or [],
               "created_at": now, "updated_at": now, "progress": 0.0, "attempts": 0,
               "phase": "queued"}
        with self.engine.begin() as conn:
            conn.execute(sa.insert(jobs).values(**row))
        record = self.get(str(row["id"]))
        assert record is not None  # just inserted in a committed transaction
        return record

    def claim(self, instance: str, limit: int, lease_seconds: float) -> list[JobRecord]:
        """Take up to ``limit`` unclaimed pending jobs, oldest first, for ``instance``.

        Each claim is one conditional UPDATE, so two servers never claim the same job.
        """
        if limit <= 0:
            return []
        query = (sa.select(jobs.c.id).where(jobs.c.status == "pending",
                                            jobs.c.lease_owner.is_(None))
                 .order_by(jobs.c.created_at, jobs.c.id).limit(limit))
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        claimed = []
        for task_id in ids:
            expires = utcnow() + timedelta(seconds=lease_seconds)
            if self._update([jobs.c.id == task_id, jobs.c.status == "pending",
                             jobs.c.lease_owner.is_(None)],
                            lease_owner=instance, lease_token=secrets.token_hex(8),
                            lease_expires_at=expires):
                record = self.get(task_id)
                if record is not None:
                    claimed.append(record)
        return claimed

    def _run(self, task_id: str, token: str) -> list[Any]:
        return [jobs.c.id == task_id, jobs.c.lease_token == token,
                jobs.c.status.in_(ACTIVE)]

    def mark_running(self, task_id: str, token: str, worker: str | None = None) -> bool:
        """A worker started the run ``token``: one more attempt."""
        now = utcnow()
        return bool(self._update([*self._run(task_id, token), jobs.c.status == "pending"],
                                 status="running", started_at=now, phase="starting",
                                 progress=0.0, attempts=jobs.c.attempts + 1, worker=worker))

    def set_progress(self, task_id: str, token: str, phase: str, progress: float) -> bool:
        return bool(self._update([*self._run(task_id, token), jobs.c.status == "running"],
                                 phase=phase, progress=float(min(max(progress, 0.0), 1.0))))

    def complete(self, task_id: str, token: str, fit_key: str,
                 result: dict[str, Any]) -> bool:
        """Finish the run ``token`` with its results; False if the job moved on (it was
        cancelled, or another run took it over)."""
        return bool(self._update(self._run(task_id, token), status="completed",
                                 finished_at=utcnow(), progress=1.0, phase="done",
                                 fit_key=fit_key, result=result, lease_owner=None,
                                 lease_token=None, lease_expires_at=None, error_code=None,
                                 error_message=None, error_details=None))

    def fail(self, task_id: str, token: str | None, code: str, message: str,
             details: dict[str, Any] | None = None) -> bool:
        """End the job as failed (``token`` None: whatever run holds it)."""
        where = ([*self._run(task_id, token)] if token is not None
                 else [jobs.c.id == task_id, jobs.c.status.in_(ACTIVE)])
        return bool(self._update(where, status="failed", finished_at=utcnow(), phase="failed",
                                 error_code=code, error_message=message,
                                 error_details=details, lease_owner=None, lease_token=None,
                                 lease_expires_at=None))

    def requeue(self, task_id: str, token: str) -> bool:
        """Put the run ``token`` back in the queue (to run again, by any server)."""
        return bool(self._update(self._run(task_id, token), status="pending", phase="queued",
                                 progress=0.0, lease_owner=None, lease_token=None,
                                 lease_expires_at=None))

    def cancel(self, task_id: str, owner: str | None = None) -> bool:
        """Cancel a pending or running job; False if it had already ended (or is not
        the owner's)."""
        where = [jobs.c.id == task_id, jobs.c.status.in_(ACTIVE)]
        if owner is not None:
            where.append(jobs.c.owner == owner)
        return bool(self._update(where, status="cancelled", finished_at=utcnow(),
                                 phase="cancelled", lease_owner=None, lease_token=None,
                                 lease_expires_at=None))

    # -- leases -------------------------------------------------------------------------
    def renew(self, instance: str, lease_seconds: float) -> dict[str, str]:
        """Extend every lease of ``instance``; return ``{task_id: token}`` it still holds."""
        expires = utcnow() + timedelta(seconds=lease_seconds)
        mine = [jobs.c.lease_owner == instance, jobs.c.status.in_(ACTIVE)]
        with self.engine.begin() as conn:
            conn.execute(sa.update(jobs).where(*mine).values(lease_expires_at=expires))
            rows = conn.execute(sa.select(jobs.c.id, jobs.c.lease_token).where(*mine)).all()
        return {str(i): str(t) for i, t in rows}

    def _stale(self, where: list[Any]) -> Iterator[JobRecord]:
        query = sa.select(jobs).where(jobs.c.status.in_(ACTIVE),
                                      jobs.c.lease_owner.is_not(None), *where)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        for row in rows:
            yield JobRecord.from_row(dict(row))

    def release(self, instance: str, max_attempts: int) -> list[str]:
        """Take back the jobs a previous process named ``instance`` held (it is gone)."""
        return self._recover(self._stale([jobs.c.lease_owner == instance]), max_attempts)

    def recover_expired(self, max_attempts: int) -> list[str]:
        """Take back jobs whose lease ran out (their server stopped renewing it)."""
        return self._recover(self._stale([jobs.c.lease_expires_at < utcnow()]), max_attempts)

    def _recover(self, records: Iterator[JobRecord], max_attempts: int) -> list[str]:
        """Re-queue each job whose run was lost with its server, or fail it once it has
        used ``max_attempts`` runs."""
        moved = []
        for job in records:
            assert job.lease_token is not None  # selected with a lease
            if job.status == "running" and job.attempts >= max_attempts:
                done = self.fail(job.id, job.lease_token, "lost",
                                 lost_message(job.attempts, "its server stopped"))
            else:
                done = self.requeue(job.id, job.lease_token)
            if done:
                moved.append(job.id)
        return moved


def lost_message(attempts: int, cause: str) -> str:
    """What a user reads when a job's runs kept being lost."""
    runs = "run" if attempts == 1 else "runs"
    return (f"the fit was stopped before it finished, {attempts} {runs} in a row ({cause}). "
            "Fix: submit it again; if it fails again, use fewer chains/draws or a smaller "
            "model, or give the workers more memory, since a worker that runs out of "
            "memory is killed")
