"""Databases the tests read and write: the PostgreSQL server CI provides, and a SQLite
file with the example that an operator names as a source."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

import bayesmmm as bm


def postgres_url(purpose: str) -> str:
    """``BAYESMMM_TEST_POSTGRES_URL``; without it the test skips, or fails where
    ``BAYESMMM_REQUIRE_POSTGRES`` is set (CI). ``purpose`` finishes "set it ... to"."""
    url = os.environ.get("BAYESMMM_TEST_POSTGRES_URL")
    if not url:
        reason = ("BAYESMMM_TEST_POSTGRES_URL is not set: set it to a PostgreSQL URL "
                  f"(postgresql://user:password@127.0.0.1:5432/db) to {purpose} "
                  "(.ci/run does)")
        if os.environ.get("BAYESMMM_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def example_sources_file(home: Path, *, queries: bool = False) -> Path:
    """A SQLite file with the example as ``weekly`` and a sources file naming it
    ``warehouse`` (users may read ``weekly``, and send queries when ``queries``)."""
    db = home / "sales.db"
    with sqlite3.connect(db) as con:
        bm.example_data().to_sql("weekly", con, index=False)
    con.close()
    sources = home / "sources.toml"
    sources.write_text(f'[warehouse]\nurl = "sqlite:///{db}"\ndescription = "Weekly sales"\n'
                       'tables = ["weekly"]\n' + ("queries = true\n" if queries else ""))
    return sources


@contextmanager
def example_schema(purpose: str) -> Iterator[tuple[str, str]]:
    """``(url, schema)``: the test PostgreSQL database (see :func:`postgres_url`) and a
    fresh schema holding the example data as ``weekly`` with DATE and NUMERIC columns, as
    a warehouse would have them; dropped afterwards."""
    url = postgres_url(purpose)
    pytest.importorskip("psycopg")
    import sqlalchemy as sa

    schema = f"test_sources_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    df = bm.example_data()
    rows = df.assign(date_week=pd.to_datetime(df["date_week"]).dt.date).to_dict("records")
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(
            f'CREATE TABLE "{schema}".weekly (date_week DATE, y NUMERIC(14, 6), '
            "x1 DOUBLE PRECISION, x2 DOUBLE PRECISION, event_1 DOUBLE PRECISION, "
            "event_2 DOUBLE PRECISION, dayofyear INTEGER, t INTEGER)"))
        conn.execute(sa.text(
            f'INSERT INTO "{schema}".weekly VALUES (:date_week, :y, :x1, :x2, :event_1, '
            ":event_2, :dayofyear, :t)"), rows)
    try:
        yield url, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
