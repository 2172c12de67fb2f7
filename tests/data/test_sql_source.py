"""read_source on databases: SQLite files always, PostgreSQL for real when
BAYESMMM_TEST_POSTGRES_URL is set (.ci/run sets it and BAYESMMM_REQUIRE_POSTGRES)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.data import read_source, validate
from bayesmmm.data._sql import _shown
from bayesmmm.errors import DataLoadError, SpecError
from tests._databases import example_schema

sa = pytest.importorskip("sqlalchemy")

SPEC = bm.example_spec().data_kwargs()


@pytest.fixture
def sales_db(tmp_path: Path, example_df: pd.DataFrame) -> str:
    """A SQLite file with the example data as table ``weekly`` (and ``regions``)."""
    path = tmp_path / "sales.db"
    with sqlite3.connect(path) as con:
        example_df.to_sql("weekly", con, index=False)
        pd.DataFrame({"region": ["north"]}).to_sql("regions", con, index=False)
    con.close()
    return f"sqlite:///{path}"


def test_a_query_reads_the_rows_it_selects_and_they_validate(
        sales_db: str, example_df: pd.DataFrame) -> None:
    out = read_source(sales_db, query="SELECT * FROM weekly WHERE date_week >= '2019-01-01' "
                                      "AND date_week LIKE '20%' ORDER BY date_week")
    expected = example_df[example_df["date_week"] >= "2019-01-01"]
    assert len(out) == len(expected) and list(out.columns) == list(example_df.columns)
    assert out["y"].tolist() == pytest.approx(expected["y"].tolist())
    assert validate(out, **SPEC).ok


def test_a_table_is_read_whole_and_bind_parameters_work(sales_db: str,
                                                        example_df: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(read_source(sales_db, table="weekly"), example_df,
                                  check_dtype=False)
    assert len(read_source(sales_db, table="main.weekly")) == len(example_df)
    out = read_source(sales_db, query="SELECT * FROM weekly WHERE t < :n", params={"n": 10})
    assert len(out) == 10


def test_a_bad_query_gives_the_databases_one_line(sales_db: str) -> None:
    with pytest.raises(DataLoadError) as info:
        read_source(sales_db, query="SELEC * FROM weekly")
    message = str(info.value)
    assert message.startswith(f"the query failed on {sales_db}: near \"SELEC\": syntax error")
    assert "\n" not in message and "Execution failed" not in message


def test_a_missing_table_is_named_with_the_tables_there(sales_db: str) -> None:
    with pytest.raises(DataLoadError, match=r"no such table: sales \(the tables there: "
                                            r"regions, weekly\)"):
        read_source(sales_db, query="SELECT * FROM sales")
    with pytest.raises(DataLoadError) as info:
        read_source(sales_db, table="weekley")
    message = str(info.value)
    assert "table 'weekley' is not in the database" in message
    assert "its tables: regions, weekly" in message and "did you mean 'weekly'?" in message


def test_what_to_read_must_be_said_once(sales_db: str) -> None:
    with pytest.raises(SpecError, match=r"is a database: say what to read.*--query.*its "
                                        r"tables: regions, weekly"):
        read_source(sales_db)
    with pytest.raises(SpecError, match="not both"):
        read_source(sales_db, query="SELECT 1", table="weekly")


def test_reading_never_changes_the_database(sales_db: str, example_df: pd.DataFrame) -> None:
    if sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("DELETE ... RETURNING needs SQLite 3.35")
    deleted = read_source(sales_db, query="DELETE FROM weekly WHERE t < 5 RETURNING *")
    assert len(deleted) == 5  # the statement ran, and was rolled back:
    assert len(read_source(sales_db, table="weekly")) == len(example_df)
    with pytest.raises(DataLoadError, match="returned no table"):
        read_source(sales_db, query="DELETE FROM weekly")
    assert len(read_source(sales_db, table="weekly")) == len(example_df)
    # sqlite3 opens no transaction for a statement that starts with WITH: ours does
    with pytest.raises(DataLoadError, match="returned no table"):
        read_source(sales_db, query="WITH doomed AS (SELECT 1) DELETE FROM weekly")
    with pytest.raises(DataLoadError, match="cannot VACUUM from within a transaction"):
        read_source(sales_db, query=f"VACUUM INTO '{sales_db[len('sqlite:///'):]}.copy'")
    assert len(read_source(sales_db, table="weekly")) == len(example_df)


def test_a_missing_sqlite_file_is_refused_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(DataLoadError, match=r"SQLite database file '.*nope\.db' .*does not "
                                            r"exist"):
        read_source(f"sqlite:///{path}", query="SELECT 1")
    assert not path.exists()


def test_results_that_are_no_table_are_refused(sales_db: str) -> None:
    with pytest.raises(DataLoadError, match=r"column\(s\) \['y'\] more than once"):
        read_source(sales_db, query="SELECT w.y, w.y FROM weekly w")
    with pytest.raises(DataLoadError, match="returned columns but no rows"):
        read_source(sales_db, query="SELECT * FROM weekly WHERE 1 = 0")


def test_a_query_missing_a_column_fails_validation_as_a_csv_would(sales_db: str) -> None:
    out = read_source(sales_db, query="SELECT date_week, y, x1 FROM weekly")
    report = validate(out, **SPEC)
    assert not report.ok and any(p.column == "x2" for p in report.errors)


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ana:pa/ss@db:5432/sales", "postgresql://ana:***@db:5432/sales"),
    ("postgresql://ana:p@ss@db/sales", "postgresql://ana:***@db/sales"),
    ("snowflake://ana:pw@acct/db/schema?warehouse=wh&private_key=xyz",
     "snowflake://ana:***@acct/db/schema?private_key=***&warehouse=wh"),  # sorted
], ids=["slash", "at-sign", "query-secret"])
def test_database_urls_are_shown_as_sqlalchemy_reads_them(url: str, shown: str) -> None:
    """SQLAlchemy's password runs to the last '@' (urllib's host part ends at a '/')."""
    assert _shown(url) == shown


def test_an_uninstalled_dialect_names_its_package() -> None:
    try:
        import sqlalchemy_bigquery  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("sqlalchemy-bigquery is installed here")
    with pytest.raises(DataLoadError, match="Fix: pip install sqlalchemy-bigquery"):
        read_source("bigquery://project/dataset", query="SELECT 1")


# PostgreSQL, for real ------------------------------------------------------------------


@pytest.fixture
def postgres() -> Iterator[tuple[str, str]]:
    """``(url, schema)``: the test database and a fresh schema holding the example data as
    ``weekly``."""
    with example_schema("read from PostgreSQL too") as where:
        yield where


def test_postgres_query_and_table_read_and_validate(postgres: tuple[str, str],
                                                    example_df: pd.DataFrame) -> None:
    url, schema = postgres
    out = read_source(url, query=f'SELECT * FROM "{schema}".weekly '
                                 "WHERE date_week::text LIKE '2018%' ORDER BY date_week")
    assert len(out) == (example_df["date_week"] < "2019").sum()
    assert pd.api.types.is_datetime64_any_dtype(out["date_week"])  # DATE, as a table read
    assert out["y"].dtype == float  # NUMERIC arrives as float, not Decimal
    whole = read_source(url, table=f"{schema}.weekly")
    assert len(whole) == len(example_df) and validate(whole, **SPEC).ok
    assert whole["y"].tolist() == pytest.approx(example_df["y"].tolist())


def test_postgres_reads_cannot_write_even_after_a_commit(postgres: tuple[str, str],
                                                        example_df: pd.DataFrame) -> None:
    """The rollback alone is not enough: ``COMMIT;`` ends the transaction, and what
    follows would run on its own. Every transaction of a read's session is read-only."""
    url, schema = postgres
    with pytest.raises(DataLoadError, match="read-only transaction"):
        read_source(url, query=f'COMMIT; DROP TABLE "{schema}".weekly; SELECT 1')
    with pytest.raises(DataLoadError, match="read-only transaction"):
        read_source(url, query=f'DELETE FROM "{schema}".weekly RETURNING *')
    assert len(read_source(url, table=f"{schema}.weekly")) == len(example_df)


def test_postgres_errors_are_one_line_and_keep_the_password(postgres: tuple[str, str]) -> None:
    url, schema = postgres
    with pytest.raises(DataLoadError, match='relation "nowhere" does not exist'):
        read_source(url, query="SELECT * FROM nowhere")
    with pytest.raises(DataLoadError, match=f"table 'nope' is not in schema '{schema}'.*"
                                            "its tables: weekly"):
        read_source(url, table=f"{schema}.nope")
    parsed = sa.engine.make_url(url)
    wrong = parsed.set(password="Wrong-Pass-4242").render_as_string(hide_password=False)
    with pytest.raises(DataLoadError) as info:
        read_source(wrong, query="SELECT 1")
    message = str(info.value)
    assert "refused the credentials" in message and "Wrong-Pass-4242" not in message
    assert "\n" not in message
