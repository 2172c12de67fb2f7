"""Running the Alembic migrations of the job store from code (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

__all__ = ["alembic_config", "upgrade", "current_revision", "MIGRATIONS"]

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 7_460_191_266  # any constant: serialises concurrent upgrades on PostgreSQL


def alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    """An Alembic ``Config`` for our migrations; ``url`` only for the alembic command line
    (``bayesmmm`` passes a live connection instead)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrate the store to ``revision``; servers starting together wait for each other."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the store is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    from bayesmmm.service.store._schema import VERSION_TABLE

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()
