"""Artifact checksums on each job, and a table the health check writes to.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bayesmmm_jobs") as batch:
        batch.add_column(sa.Column("input_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("fit_sha256", sa.String(64), nullable=True))
    op.create_table(
        "bayesmmm_probe",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("written_at", sa.DateTime, nullable=False),
        sa.Column("pad", sa.LargeBinary, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("bayesmmm_probe")
    with op.batch_alter_table("bayesmmm_jobs") as batch:
        batch.drop_column("fit_sha256")
        batch.drop_column("input_sha256")
