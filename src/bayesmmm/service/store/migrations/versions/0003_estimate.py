"""The time estimate of each job (a worker's pilot chain, or why there is none).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bayesmmm_jobs") as batch:
        batch.add_column(sa.Column("estimate", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bayesmmm_jobs") as batch:
        batch.drop_column("estimate")
