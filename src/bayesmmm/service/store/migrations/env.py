"""Alembic environment: our metadata and version table, on the connection we are given.

``bayesmmm`` runs this through ``bayesmmm.service.store._migrate.upgrade`` with a live
connection. The alembic command line works too, with the URL from
``-x url=...`` or ``BAYESMMM_DATABASE_URL``.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from bayesmmm.service.store._schema import VERSION_TABLE, metadata


def _configure(**kwargs: Any) -> None:
    context.configure(target_metadata=metadata, version_table=VERSION_TABLE,
                      render_as_batch=True, compare_type=True, **kwargs)


def _url() -> str:
    from bayesmmm.service._settings import Settings
    from bayesmmm.service.store._store import normalise_url

    url = (context.get_x_argument(as_dictionary=True).get("url")
           or context.config.get_main_option("sqlalchemy.url")
           or Settings.from_env().database_url)
    return normalise_url(url)


def run() -> None:
    if context.is_offline_mode():
        _configure(url=_url(), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from bayesmmm.service.store._store import make_engine

    engine = make_engine(_url())
    with engine.begin() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
