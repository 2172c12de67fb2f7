"""Alembic migrations of the job store (``bayesmmm.service.store._migrate`` runs them)."""
