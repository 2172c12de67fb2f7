"""The job table, as SQLAlchemy metadata (the Alembic migrations create the same)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "jobs", "probe", "STATUSES", "ACTIVE", "FINAL", "VERSION_TABLE"]

#: A job's life: pending (accepted, waiting for a worker) -> running -> completed or
#: failed; cancelled by the caller at any point before an end.
STATUSES = ("pending", "running", "completed", "failed", "cancelled")
ACTIVE = ("pending", "running")
FINAL = ("completed", "failed", "cancelled")

#: Alembic's bookkeeping table, named so it cannot clash with an application's own.
VERSION_TABLE = "bayesmmm_alembic_version"

metadata = sa.MetaData()

jobs = sa.Table(
    "bayesmmm_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("sampler", sa.JSON, nullable=False),
    sa.Column("input_name", sa.String(200), nullable=False),
    sa.Column("input_key", sa.String(200), nullable=False),
    sa.Column("sep", sa.String(4), nullable=True),
    sa.Column("data_warnings", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("phase", sa.String(32), nullable=True),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_token", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", sa.DateTime, nullable=True),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("error_details", sa.JSON, nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("fit_key", sa.String(200), nullable=True),
    # SHA-256 of the stored input and fit files: checked whenever they are read back, so a
    # damaged or swapped file is reported as such (revision 0002; None on older rows).
    sa.Column("input_sha256", sa.String(64), nullable=True),
    sa.Column("fit_sha256", sa.String(64), nullable=True),
    # How long the fit should take, from a worker's pilot chain on the data ({"low",
    # "expected", "high", "note", ...} in seconds), or {"note"} saying why there is none
    # (revision 0003; None on older rows and before a worker looked at the job).
    sa.Column("estimate", sa.JSON, nullable=True),
    sa.Index("ix_bayesmmm_jobs_status_created", "status", "created_at"),
    sa.Index("ix_bayesmmm_jobs_owner_created", "owner", "created_at"),
    sa.Index("ix_bayesmmm_jobs_lease_owner", "lease_owner"),
)

#: One row written (and the previous one removed) by the health check: a real write that
#: needs a new page, so a locked, read-only or full store is noticed (revision 0002).
probe = sa.Table(
    "bayesmmm_probe",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("written_at", sa.DateTime, nullable=False),
    sa.Column("pad", sa.LargeBinary, nullable=True),
)
