"""The job table.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bayesmmm_jobs",
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
    )
    op.create_index("ix_bayesmmm_jobs_status_created", "bayesmmm_jobs",
                    ["status", "created_at"])
    op.create_index("ix_bayesmmm_jobs_owner_created", "bayesmmm_jobs", ["owner", "created_at"])
    op.create_index("ix_bayesmmm_jobs_lease_owner", "bayesmmm_jobs", ["lease_owner"])


def downgrade() -> None:
    op.drop_table("bayesmmm_jobs")
