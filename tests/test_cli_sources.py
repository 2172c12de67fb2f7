"""The commands' DATA argument as a source URL: a database with --query / --table, a web
address; the same validation as a CSV, one-line errors, no password in the output."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.cli import app
from tests.data._servers import Loopback, Reply, Seen

pytest.importorskip("sqlalchemy")

runner = CliRunner()
COLS = ["--date-column", "date_week", "--y-column", "y", "--channel", "x1", "--channel", "x2",
        "--control", "event_1", "--control", "event_2", "--control", "t"]


@pytest.fixture
def sales_db(tmp_path: Path) -> str:
    path = tmp_path / "sales.db"
    with sqlite3.connect(path) as con:
        bm.example_data().to_sql("weekly", con, index=False)
    con.close()
    return f"sqlite:///{path}"


@pytest.fixture
def web() -> Iterator[Loopback]:
    """A loopback server with the example data at /sales.csv."""
    body = bm.example_data().to_csv(index=False).encode()

    def app_(request: Seen) -> Reply:
        return Reply(200, body) if request.path == "/sales.csv" else Reply(404, b"no")

    server = Loopback(app_)
    yield server
    server.close()


def test_validate_a_query(sales_db: str) -> None:
    result = runner.invoke(app, ["validate", sales_db, "--query",
                                 "SELECT * FROM weekly WHERE date_week >= '2018-06-01'", *COLS])
    assert result.exit_code == 0, result.output
    n = int((bm.example_data()["date_week"] >= "2018-06-01").sum())
    assert f"Validation passed: 0 error(s), 0 warning(s) in {n} rows" in result.output


def test_validate_a_table_as_json(sales_db: str) -> None:
    result = runner.invoke(app, ["validate", sales_db, "--table", "weekly", *COLS, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True


def test_a_query_result_is_validated_as_a_csv(sales_db: str) -> None:
    result = runner.invoke(app, ["validate", sales_db, "--query",
                                 "SELECT date_week, y, x1, event_1, event_2, t FROM weekly",
                                 *COLS])
    assert result.exit_code == 1
    assert "Validation failed" in result.output and "'x2'" in result.output


def test_a_database_without_a_query_is_a_usage_error(sales_db: str) -> None:
    result = runner.invoke(app, ["validate", sales_db, *COLS])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--query" in lines[0] and "its tables: weekly" in lines[0]


def test_a_failing_query_is_one_line_exit_1(sales_db: str) -> None:
    result = runner.invoke(app, ["validate", sales_db, "--query", "SELECT * FROM sales", *COLS])
    assert result.exit_code == 1
    assert "error: the query failed" in result.output
    assert "no such table: sales (the tables there: weekly)" in result.output
    assert "Traceback" not in result.output


def test_a_web_address_keeps_its_slashes(web: Loopback) -> None:
    result = runner.invoke(app, ["validate", web.url + "/sales.csv", *COLS])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", web.url + "/other.csv", *COLS])
    assert result.exit_code == 1 and f"no file at {web.url}/other.csv" in result.output


def test_no_password_in_the_output() -> None:
    result = runner.invoke(app, ["validate", "postgresql://ana:Pw-Never-Shown@127.0.0.1:1/db",
                                 "--query", "SELECT 1", *COLS])
    assert result.exit_code == 1
    assert "Pw-Never-Shown" not in result.output and "ana:***@" in result.output


def test_eda_names_the_source_without_secrets(sales_db: str, tmp_path: Path) -> None:
    out = tmp_path / "eda"
    result = runner.invoke(app, ["eda", sales_db, "--table", "weekly", *COLS, "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "eda.html").read_text(encoding="utf-8")
    assert f"{sales_db} (table weekly)" in html


def test_fit_reads_its_data_through_read_source(web: Loopback, tmp_path: Path) -> None:
    """`fit` reads DATA with bm.prepare, which reads URLs: a missing file at a web address
    is named as such (a path would say "file 'http:/...' does not exist")."""
    result = runner.invoke(app, ["fit", web.url + "/other.csv", *COLS, "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"no file at {web.url}/other.csv (HTTP 404" in result.output
