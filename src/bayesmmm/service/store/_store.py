"""The SQL job store: one row per job, every change a single conditional UPDATE.

A job is claimed by a server with a *lease* (owner, token, expiry). Every later write
about a run names the run's token, so a late message from a lost run can never
overwrite a newer one, and a job is only ever finished once. The database is the only
shared state between servers: SQLite for one machine, PostgreSQL for several.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bayesmmm.service._errors import StoreUnavailable
from bayesmmm.service.store._health import StoreHealth, classify, is_db_error
from bayesmmm.service.store._schema import ACTIVE, jobs, probe

__all__ = ["JobRecord", "JobStore", "make_engine", "normalise_url", "private_sqlite_file",
           "utcnow"]


def utcnow() -> datetime:
    """Naive UTC: stored alike by SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver we install)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def private_sqlite_file(database: str) -> None:
    """Create a SQLite file (and its folder) readable by its owner only (mode 0600), or
    tighten an existing one and its WAL files: the store holds every task's spec and
    its owner's key hash."""
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a read-only file or folder: writes report it
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if part.exists() and part.stat().st_mode & 0o077:
                part.chmod(0o600)
        except OSError:
            pass


def make_engine(url: str, timeout: float = 30.0) -> sa.Engine:
    """An engine for ``url``; a SQLite file gets its folder, mode 0600, WAL and a busy
    timeout of ``timeout`` seconds (how long a write waits for another writer)."""
    url = normalise_url(url)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    uri = str(parsed.query.get("uri", "")).lower() == "true"
    if parsed.database and parsed.database != ":memory:" and not uri:
        private_sqlite_file(parsed.database)  # (a file: URI, e.g. ?mode=ro, is as given)
    engine = sa.create_engine(url, connect_args={"timeout": timeout,
                                                 "check_same_thread": False})
    busy = int(timeout * 1000)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # readers never block the writer; a read-only or locked file keeps its mode (reads
        # still work, and each write reports why it cannot)
        with contextlib.suppress(Exception):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy}")
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
    input_sha256: str | None = None
    fit_sha256: str | None = None
    estimate: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobRecord:
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name in row})


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

    def __init__(self, url_or_engine: str | sa.Engine, timeout: float = 30.0) -> None:
        self.engine = (make_engine(url_or_engine, timeout) if isinstance(url_or_engine, str)
                       else url_or_engine)
        self.health = StoreHealth()
        self._busy_ms = int(timeout * 1000)

    @contextmanager
    def _begin(self, operation: str, grows: bool = False) -> Iterator[sa.Connection]:
        """A write transaction; a refusal becomes :class:`StoreUnavailable` (503, with
        the reason) and is recorded in :attr:`health`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except Exception as exc:
            if is_db_error(exc):
                raise self.health.failed(exc, operation, utcnow()) from exc
            raise
        self.health.succeeded(grows)

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        """A read; an unreachable store becomes :class:`StoreUnavailable`."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except Exception as exc:
            if is_db_error(exc):
                raise StoreUnavailable(*classify(exc)) from exc
            raise

    # -- schema and health --------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run at every start)."""
        from bayesmmm.service.store._migrate import upgrade

        upgrade(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def probe_write(self, timeout: float = 2.0) -> None:
        """Write a probe row that needs new space and remove the previous one, waiting
        at most ``timeout`` seconds for a lock: :class:`StoreUnavailable` when the store
        is locked, read-only, full or unreachable."""
        sqlite = self.engine.dialect.name == "sqlite"
        ms = int(timeout * 1000)
        key = secrets.token_hex(8)
        try:
            with self.engine.connect() as conn:
                if sqlite:  # this connection waits less than the store's writes do
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={ms}")
                    conn.commit()
                try:
                    with conn.begin():
                        if not sqlite:
                            conn.execute(sa.text(f"SET LOCAL lock_timeout = {ms}"))
                            conn.execute(sa.text(f"SET LOCAL statement_timeout = {ms * 3}"))
                        conn.execute(sa.insert(probe).values(
                            id=key, written_at=utcnow(), pad=secrets.token_bytes(8192)))
                        conn.execute(sa.delete(probe).where(probe.c.id != key))
                finally:
                    if sqlite:
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={self._busy_ms}")
                        conn.commit()
        except Exception as exc:
            if is_db_error(exc):
                raise self.health.failed(exc, "health check", utcnow()) from exc
            raise
        self.health.succeeded(grows=True)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- reads --------------------------------------------------------------------------
    def get(self, task_id: str, owner: str | None = None) -> JobRecord | None:
        """The job, or None; with ``owner``, only a job of that owner."""
        query = sa.select(jobs).where(jobs.c.id == task_id)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self._connect() as conn:
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
        with self._connect() as conn:
            rows = conn.execute(query).mappings().all()
            total = conn.execute(count).scalar_one()
        return [JobRecord.from_row(dict(r)) for r in rows], int(total)

    def counts(self) -> dict[str, int]:
        query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
        with self._connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(query).all()}

    # -- writes -------------------------------------------------------------------------
    def _update(self, where: list[Any], operation: str = "update", **values: Any) -> int:
        values.setdefault("updated_at", utcnow())
        with self._begin(operation) as conn:
            return int(conn.execute(sa.update(jobs).where(*where).values(**values)).rowcount)

    def create(self, *, owner: str, spec: dict[str, Any], sampler: dict[str, Any],
               input_name: str, input_key: str, sep: str | None = None,
               data_warnings: list[dict[str, Any]] | None = None,
               task_id: str | None = None, input_sha256: str | None = None) -> JobRecord:
        """Insert a pending job (committed before this returns: accepted is durable);
        :class:`StoreUnavailable` when the store refuses it."""
        now = utcnow()
        row: dict[str, Any] = {"id": task_id or new_task_id(), "owner": owner, "status": "pending",
               "spec": spec, "sampler": sampler, "input_name": input_name,
               "input_key": input_key, "sep": sep, "data_warnings": data_warnings or [],
               "created_at": now, "updated_at": now, "progress": 0.0, "attempts": 0,
               "phase": "queued", "input_sha256": input_sha256}
        with self._begin("submit", grows=True) as conn:
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
        with self._connect() as conn:
            ids = list(conn.execute(query).scalars())
        claimed = []
        for task_id in ids:
            expires = utcnow() + timedelta(seconds=lease_seconds)
            if self._update([jobs.c.id == task_id, jobs.c.status == "pending",
                             jobs.c.lease_owner.is_(None)], "claim",
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

    def set_estimate(self, task_id: str, token: str, estimate: dict[str, Any]) -> bool:
        """Record the run ``token``'s time estimate (see the ``estimate`` column)."""
        return bool(self._update(self._run(task_id, token), "record estimate",
                                 estimate=estimate))

    def complete(self, task_id: str, token: str, fit_key: str,
                 result: dict[str, Any], fit_sha256: str | None = None,
                 estimate: dict[str, Any] | None = None) -> bool:
        """Finish the run ``token`` with its results (and its time estimate, if given:
        the run's own report of it may come after the result); False if the job moved
        on (it was cancelled, or another run took it over)."""
        extra = {} if estimate is None else {"estimate": estimate}
        return bool(self._update(self._run(task_id, token), "complete", status="completed",
                                 finished_at=utcnow(), progress=1.0, phase="done",
                                 fit_key=fit_key, result=result, lease_owner=None,
                                 lease_token=None, lease_expires_at=None, error_code=None,
                                 error_message=None, error_details=None,
                                 fit_sha256=fit_sha256, **extra))

    def mark_damaged(self, task_id: str, code: str, message: str) -> bool:
        """A completed job whose fit file is missing or damaged becomes failed with
        ``code`` and ``message`` (its results cannot be served any more)."""
        return bool(self._update([jobs.c.id == task_id, jobs.c.status == "completed"],
                                 "mark damaged", status="failed", phase="failed",
                                 error_code=code, error_message=message, error_details=None))

    def rerun(self, task_id: str, owner: str | None = None) -> bool:
        """Queue a failed or cancelled job again from its stored input, as if new (no
        attempts used, no result); False if it is not failed or cancelled."""
        where = [jobs.c.id == task_id, jobs.c.status.in_(("failed", "cancelled"))]
        if owner is not None:
            where.append(jobs.c.owner == owner)
        return bool(self._update(where, "rerun", status="pending", phase="queued",
                                 progress=0.0, attempts=0, started_at=None,
                                 finished_at=None, worker=None, error_code=None,
                                 error_message=None, error_details=None, result=None,
                                 fit_key=None, fit_sha256=None, estimate=None,
                                 lease_owner=None, lease_token=None,
                                 lease_expires_at=None))

    def rekey_owner(self, old: str, new: str) -> int:
        """Move every job of owner id ``old`` to ``new`` (API key hashes upgraded)."""
        if old == new:
            return 0
        return self._update([jobs.c.owner == old], "rekey owners", owner=new)

    def fail(self, task_id: str, token: str | None, code: str, message: str,
             details: dict[str, Any] | None = None) -> bool:
        """End the job as failed (``token`` None: whatever run holds it)."""
        where = ([*self._run(task_id, token)] if token is not None
                 else [jobs.c.id == task_id, jobs.c.status.in_(ACTIVE)])
        return bool(self._update(where, "fail", status="failed", finished_at=utcnow(),
                                 phase="failed",
                                 error_code=code, error_message=message,
                                 error_details=details, lease_owner=None, lease_token=None,
                                 lease_expires_at=None))

    def requeue(self, task_id: str, token: str, refund: bool = False) -> bool:
        """Put the run ``token`` back in the queue (to run again, by any server).
        ``refund``: the run was stopped on purpose (a graceful server stop), so a run
        that had started does not count as an attempt."""
        attempts: Any = jobs.c.attempts
        if refund:
            attempts = sa.case((sa.and_(jobs.c.status == "running", jobs.c.attempts > 0),
                                jobs.c.attempts - 1), else_=jobs.c.attempts)
        return bool(self._update(self._run(task_id, token), "requeue", status="pending",
                                 phase="queued", progress=0.0, lease_owner=None,
                                 lease_token=None, lease_expires_at=None, attempts=attempts))

    def cancel(self, task_id: str, owner: str | None = None) -> bool:
        """Cancel a pending or running job; False if it had already ended (or is not
        the owner's)."""
        where = [jobs.c.id == task_id, jobs.c.status.in_(ACTIVE)]
        if owner is not None:
            where.append(jobs.c.owner == owner)
        return bool(self._update(where, "cancel", status="cancelled", finished_at=utcnow(),
                                 phase="cancelled", lease_owner=None, lease_token=None,
                                 lease_expires_at=None))

    # -- leases -------------------------------------------------------------------------
    def renew(self, instance: str, lease_seconds: float) -> dict[str, str]:
        """Extend every lease of ``instance``; return ``{task_id: token}`` it still holds."""
        expires = utcnow() + timedelta(seconds=lease_seconds)
        mine = [jobs.c.lease_owner == instance, jobs.c.status.in_(ACTIVE)]
        with self._begin("renew leases") as conn:
            conn.execute(sa.update(jobs).where(*mine).values(lease_expires_at=expires))
            rows = conn.execute(sa.select(jobs.c.id, jobs.c.lease_token).where(*mine)).all()
        return {str(i): str(t) for i, t in rows}

    def _stale(self, where: list[Any]) -> Iterator[JobRecord]:
        query = sa.select(jobs).where(jobs.c.status.in_(ACTIVE),
                                      jobs.c.lease_owner.is_not(None), *where)
        with self._connect() as conn:
            rows = conn.execute(query).mappings().all()
        for row in rows:
            yield JobRecord.from_row(dict(row))

    def release(self, instance: str, max_attempts: int, graceful: bool = False) -> list[str]:
        """Take back the jobs a process named ``instance`` held: a previous life that is
        gone, or (``graceful``) this one stopping on purpose, whose interrupted runs do
        not count as attempts."""
        return self._recover(self._stale([jobs.c.lease_owner == instance]), max_attempts,
                             refund=graceful)

    def recover_expired(self, max_attempts: int) -> list[str]:
        """Take back jobs whose lease ran out (their server stopped renewing it)."""
        return self._recover(self._stale([jobs.c.lease_expires_at < utcnow()]), max_attempts)

    def _recover(self, records: Iterator[JobRecord], max_attempts: int,
                 refund: bool = False) -> list[str]:
        """Re-queue each job whose run was lost with its server, or fail it once it has
        used ``max_attempts`` runs."""
        moved = []
        for job in records:
            assert job.lease_token is not None  # selected with a lease
            if job.status == "running" and job.attempts >= max_attempts and not refund:
                done = self.fail(job.id, job.lease_token, "lost",
                                 lost_message(job.attempts, "its server stopped"))
            else:
                done = self.requeue(job.id, job.lease_token, refund=refund)
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
