"""Alembic migrations of the job store (``bayesmmm.service._migrate`` runs them)."""
