"""Operator-named data sources (issue 26): listSources shows names, never addresses; a
request's ``source`` reads a table within the operator's rules, and the table then takes
the very path of an uploaded CSV. No fits run here: accepted tasks stay pending."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import bayesmmm as bm
from bayesmmm.data import read_source
from bayesmmm.datasets import example_path
from bayesmmm.service import Service, create_app
from bayesmmm.service._sources import parse_sources
from bayesmmm.service.api._tables import read_table
from tests._databases import example_schema
from tests.service.conftest import BODY, FORM, ServiceFactory, example_bytes, upload

sa = pytest.importorskip("sqlalchemy")

COLUMNS = {k: BODY[k] for k in ("date_column", "y_column", "channel_columns",
                                "control_columns")}
PASSWORD = "S3cret-Pass-4242"


@pytest.fixture
def sales_db(tmp_path: Path) -> Path:
    """A SQLite file with the example data as table ``weekly`` (and ``regions``)."""
    path = tmp_path / "warehouse" / "sales.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as con:
        bm.example_data().to_sql("weekly", con, index=False)
        pd.DataFrame({"region": ["north"]}).to_sql("regions", con, index=False)
    con.close()
    return path


def _rows(path: Path, table: str = "weekly") -> int:
    with sqlite3.connect(path) as con:
        count: int = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.close()
    return count


@pytest.fixture
def sources_file(tmp_path: Path, sales_db: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f'''
[warehouse]
url = "sqlite:///{sales_db}"
description = "Weekly sales and media spend"
tables = ["weekly"]
queries = true

[tables_only]
url = "sqlite:///{sales_db}"
tables = ["weekly", "regions"]

[first_weeks]
url = "sqlite:///{sales_db}"
query = "SELECT * FROM weekly WHERE t < :n AND t >= :start ORDER BY date_week"
options = {{params = {{start = 0}}}}

[example_csv]
url = "{example_path()}"
description = "The bundled example"

[locked]
url = "postgresql://reader:{PASSWORD}@127.0.0.1:1/marketing"
tables = ["weekly"]
''')
    return path


@pytest.fixture
def service(make_service: ServiceFactory, sources_file: Path) -> Service:
    return make_service(sources_file=str(sources_file))


@pytest.fixture
def client(service: Service) -> TestClient:
    return TestClient(create_app(service=service, manage=False))


def _source(**ref: Any) -> dict[str, Any]:
    return {"source": {"name": "warehouse", **ref}}


def _detail(r: Any) -> str:
    detail: str = r.json()["detail"]
    return detail


# -- listing ------------------------------------------------------------------------------
def test_listing_names_what_users_may_read_and_hides_addresses(
        client: TestClient, sales_db: Path) -> None:
    r = client.get("/v1/sources")
    assert r.status_code == 200, r.text
    sources = {s["name"]: s for s in r.json()["sources"]}
    assert list(sources) == ["warehouse", "tables_only", "first_weeks", "example_csv",
                             "locked"]
    assert sources["warehouse"] == {
        "name": "warehouse", "description": "Weekly sales and media spend", "kind": "sql",
        "tables": ["weekly"], "queries": True, "fixed_query": False, "params": []}
    assert sources["tables_only"]["queries"] is False
    assert sources["first_weeks"]["fixed_query"] is True
    assert sources["first_weeks"]["params"] == ["n"]
    assert sources["example_csv"]["kind"] == "file" and sources["example_csv"]["tables"] == []
    for secret in ("sqlite", str(sales_db), str(example_path()), PASSWORD, "127.0.0.1",
                   "SELECT", "url"):
        assert secret not in r.text


def test_without_sources_the_listing_is_empty_and_a_source_is_refused(
        make_service: ServiceFactory) -> None:
    plain = TestClient(create_app(service=make_service(), manage=False))
    assert plain.get("/v1/sources").json() == {"sources": []}
    r = plain.post("/v1/inspect", json=_source(table="weekly"))
    assert r.status_code == 422
    assert "this service has no named sources" in _detail(r)
    assert "source" not in plain.post("/v1/tasks", json=BODY).json()["detail"]


def test_the_listing_needs_the_api_key(make_service: ServiceFactory,
                                       sources_file: Path) -> None:
    keyed = TestClient(create_app(service=make_service(
        sources_file=str(sources_file), api_keys=("k1",), secret="s"), manage=False))
    assert keyed.get("/v1/sources").status_code == 401
    assert keyed.get("/v1/sources", headers={"X-API-Key": "k1"}).status_code == 200


# -- reading --------------------------------------------------------------------------------
def test_a_table_lands_as_the_same_input_as_an_upload(client: TestClient, service: Service,
                                                      sales_db: Path) -> None:
    r = client.post("/v1/tasks", json={**BODY, **_source(table="weekly")})
    assert r.status_code == 202, r.text
    job = service.store.get(r.json()["task_id"])
    assert job is not None and job.input_name == "source:warehouse/weekly"
    stored = service.artifacts.get(job.input_key)
    # the same table as a file, uploaded: the same bytes stored, the same warnings
    as_file = read_source(f"sqlite:///{sales_db}", table="weekly").to_csv(index=False)
    r_file = client.post("/v1/tasks", files=upload(as_file.encode()), data=FORM)
    assert r_file.status_code == 202, r_file.text
    uploaded = service.store.get(r_file.json()["task_id"])
    assert uploaded is not None
    assert stored == service.artifacts.get(uploaded.input_key)
    assert r.json()["data_warnings"] == r_file.json()["data_warnings"]
    # and the same table as the example CSV itself
    pd.testing.assert_frame_equal(read_table(stored, job.input_name),
                                  read_table(example_bytes(), "example.csv"),
                                  check_dtype=False)
    status = client.get(f"/v1/tasks/{job.id}").json()
    assert status["status"] == "pending" and status["input_name"] == "source:warehouse/weekly"


def test_a_form_takes_the_source_as_json_text(client: TestClient) -> None:
    ref = json.dumps({"name": "warehouse", "table": "weekly"})
    multipart = client.post("/v1/tasks", data=FORM, files={"source": (None, ref)})
    assert multipart.status_code == 202, multipart.text
    assert multipart.request.headers["content-type"].startswith("multipart/form-data")
    encoded = client.post("/v1/tasks", data={**FORM, "source": ref})  # curl -d
    assert encoded.status_code == 202, encoded.text
    inspect = client.post("/v1/inspect", data={"source": '{"name": "example_csv"}'})
    assert inspect.status_code == 200, inspect.text
    assert inspect.json()["name"] == "source:example_csv" and inspect.json()["n_rows"] == 179


def test_inspect_validate_and_explore_read_a_source(client: TestClient) -> None:
    seen = client.post("/v1/inspect", json=_source(table="weekly"))
    assert seen.status_code == 200, seen.text
    assert seen.json()["name"] == "source:warehouse/weekly" and seen.json()["n_rows"] == 179
    assert seen.json()["guess"]["date_column"] == "date_week"
    report = client.post("/v1/validate", json={**COLUMNS, **_source(table="weekly")})
    assert report.status_code == 200 and report.json()["ok"] is True
    explore = client.post("/v1/explore", json={**COLUMNS, **_source(table="weekly"),
                                               "limit": 1})
    assert explore.status_code == 200, explore.text
    assert explore.json()["name"] == "source:warehouse/weekly"


def test_a_query_with_params_where_queries_are_allowed(client: TestClient) -> None:
    r = client.post("/v1/inspect", json=_source(
        query="-- the first year\nSELECT * FROM weekly WHERE t < :n ORDER BY date_week;",
        params={"n": 52}))
    assert r.status_code == 200, r.text
    assert r.json()["n_rows"] == 52 and r.json()["name"] == "source:warehouse/query"
    missing = client.post("/v1/inspect", json=_source(query="SELECT * FROM weekly "
                                                      "WHERE t < :n"))
    assert missing.status_code == 422 and "needs a value for 'n'" in _detail(missing)
    extra = client.post("/v1/inspect", json=_source(query="SELECT * FROM weekly",
                                                    params={"n": 1}))
    assert extra.status_code == 422 and "match no :name placeholder" in _detail(extra)


def test_the_operators_query_takes_only_params(client: TestClient) -> None:
    r = client.post("/v1/inspect", json={"source": {"name": "first_weeks",
                                                    "params": {"n": 30}}})
    assert r.status_code == 200, r.text
    assert r.json()["n_rows"] == 30 and r.json()["name"] == "source:first_weeks"
    own = client.post("/v1/inspect", json={"source": {"name": "first_weeks",
                                                      "query": "SELECT 1", "params": {"n": 1}}})
    assert own.status_code == 422
    assert "reads the query its operator wrote" in _detail(own)
    assert own.json()["errors"][0]["field"] == "source.query"
    fixed = client.post("/v1/inspect", json={"source": {"name": "first_weeks",
                                                        "params": {"n": 30, "start": 20}}})
    assert fixed.status_code == 422  # the operator's own value stays
    assert "params 'start' match no :name placeholder the query takes" in _detail(fixed)


def test_a_query_is_refused_where_the_operator_has_not_allowed_queries(
        client: TestClient) -> None:
    r = client.post("/v1/inspect", json={"source": {"name": "tables_only",
                                                    "query": "SELECT * FROM weekly"}})
    assert r.status_code == 422
    detail = _detail(r)
    assert "the operator has not allowed queries on source 'tables_only'" in detail
    assert "'weekly', 'regions'" in detail and "Fix: send source.table" in detail


def test_an_unknown_source_is_refused_with_the_names(client: TestClient) -> None:
    r = client.post("/v1/validate", json={**COLUMNS, "source": {"name": "warehose",
                                                                "table": "weekly"}})
    assert r.status_code == 422
    assert "no source is named 'warehose'" in _detail(r)
    assert "'warehouse', 'tables_only', 'first_weeks', 'example_csv', 'locked'" in _detail(r)
    assert r.json()["errors"][0]["field"] == "source.name"


def test_a_table_not_offered_is_refused_with_the_tables(client: TestClient,
                                                        sales_db: Path) -> None:
    r = client.post("/v1/inspect", json=_source(table="regions"))
    assert r.status_code == 422
    assert "table 'regions' is not one source 'warehouse' offers" in _detail(r)
    assert "'weekly'" in _detail(r) and "or a query" in _detail(r)
    nothing = client.post("/v1/inspect", json=_source())
    assert nothing.status_code == 422 and "say what to read" in _detail(nothing)


def test_a_file_source_is_read_whole(client: TestClient) -> None:
    r = client.post("/v1/inspect", json={"source": {"name": "example_csv",
                                                    "query": "SELECT 1"}})
    assert r.status_code == 422
    assert "source 'example_csv' is a file, read whole; query applies to databases" \
        in _detail(r)


@pytest.mark.parametrize("ways", [("file", "source"), ("openaiFileIdRefs", "source")])
def test_the_data_comes_one_way_only(client: TestClient, ways: tuple[str, str]) -> None:
    ref = {"name": "warehouse", "table": "weekly"}
    if "file" in ways:
        r = client.post("/v1/tasks", files=upload(example_bytes()),
                        data={**FORM, "source": json.dumps(ref)})
    else:
        r = client.post("/v1/tasks", json={**BODY, "source": ref, "openaiFileIdRefs": [
            {"download_link": "http://example.com/x.csv"}]})
    assert r.status_code == 422
    assert f"the data came 2 ways ({' and '.join(ways)})" in _detail(r)
    assert [e["field"] for e in r.json()["errors"]] == list(ways)


@pytest.mark.parametrize("ref, field", [
    ({"name": "w" * 65}, "source.name"),
    ({"name": "warehouse", "table": "t" * 257}, "source.table"),
    ({"name": "warehouse", "query": "SELECT " + "1" * 20_000}, "source.query"),
    ({"name": "warehouse", "query": "SELECT 1",
      "params": {f"p{i}": i for i in range(51)}}, "source.params"),
    ({"name": "warehouse", "query": "SELECT :p", "params": {"p": "x" * 1001}},
     "source.params.p"),
    ({"name": "warehouse", "query": "SELECT :p", "params": {"p": [1, 2]}},
     "source.params.p"),
    ({"name": "warehouse", "host": "10.0.0.1"}, "source.host"),
], ids=["name", "table", "query", "params", "param-value", "param-list", "extra"])
def test_every_source_field_is_bounded(client: TestClient, ref: dict[str, Any],
                                       field: str) -> None:
    r = client.post("/v1/inspect", json={"source": ref})
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields


# -- failures --------------------------------------------------------------------------------
def test_a_failing_query_gives_the_databases_words_not_the_address(
        client: TestClient, sales_db: Path) -> None:
    r = client.post("/v1/inspect", json=_source(query="SELECT * FROM nowhere"))
    assert r.status_code == 422 and r.json()["code"] == "source_error"
    detail = _detail(r)
    assert detail.startswith("source 'warehouse': the query failed: no such table: nowhere "
                             "(the tables there: regions, weekly)")
    assert str(sales_db) not in r.text and "sqlite" not in r.text
    assert "operator" not in detail  # the user's query is the user's to fix


def test_an_unreachable_database_names_neither_host_nor_password(client: TestClient) -> None:
    r = client.post("/v1/inspect", json={"source": {"name": "locked", "table": "weekly"}})
    assert r.status_code == 422, r.text
    detail = _detail(r)
    assert detail.startswith("source 'locked': ")
    assert "set by the service's operator" in detail
    for secret in (PASSWORD, "127.0.0.1", "postgresql://", "reader:"):
        assert secret not in r.text, secret


@pytest.mark.parametrize("query, fragment", [
    ("DROP TABLE weekly", "it starts with SELECT or WITH, got 'DROP'"),
    ("DELETE FROM weekly", "got 'DELETE'"),
    ("/* tidy */ VACUUM INTO '/tmp/copy.db'", "got 'VACUUM'"),
    ("SELECT 1; DROP TABLE weekly", "has a ';' inside it"),
    ("WITH doomed AS (SELECT 1) DELETE FROM weekly", "readonly database"),
], ids=["drop", "delete", "vacuum-into", "two-statements", "delete-with-cte"])
def test_a_query_never_changes_the_database(client: TestClient, sales_db: Path, query: str,
                                            fragment: str) -> None:
    r = client.post("/v1/inspect", json=_source(query=query))
    assert r.status_code == 422, r.text
    assert fragment in _detail(r)
    assert _rows(sales_db) == 179 and _rows(sales_db, "regions") == 1


def test_a_table_over_the_upload_limit_is_refused(make_service: ServiceFactory,
                                                  sources_file: Path) -> None:
    small = TestClient(create_app(service=make_service(
        sources_file=str(sources_file), max_upload_bytes=5_000), manage=False))
    r = small.post("/v1/inspect", json=_source(table="weekly"))
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert "source 'warehouse' returned 179 rows x 8 columns" in _detail(r)
    assert "Fix: select fewer rows or columns" in _detail(r)


def test_a_slow_read_answers_504_in_time(make_service: ServiceFactory,
                                         sources_file: Path) -> None:
    quick = TestClient(create_app(service=make_service(
        sources_file=str(sources_file), download_timeout=0.2), manage=False))
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            "WHERE x < 2000000) SELECT max(x) AS x FROM c")
    r = quick.post("/v1/inspect", json=_source(query=slow))
    assert r.status_code == 504 and r.json()["code"] == "source_timeout"
    assert "did not answer within 0.2 s" in _detail(r)


def test_the_document_describes_sources(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["paths"]["/v1/sources"]["get"]["operationId"] == "listSources"
    for model in ("RunMMMRequest", "ValidateRequest", "InspectRequest", "ExploreRequest",
                  "PredictRequest"):
        assert "source" in doc["components"]["schemas"][model]["properties"], model
    ref = doc["components"]["schemas"]["SourceRef"]["properties"]
    assert ref["name"]["maxLength"] == 64 and ref["params"]["maxProperties"] == 50
    form = doc["paths"]["/v1/tasks"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert "file" not in form["schema"]["required"]  # a source may stand in for it


def test_sources_can_be_given_as_settings(make_service: ServiceFactory,
                                          sales_db: Path) -> None:
    sources = parse_sources({"db": {"url": f"sqlite:///{sales_db}", "tables": ["weekly"]}})
    direct = TestClient(create_app(service=make_service(sources=sources), manage=False))
    r = direct.post("/v1/inspect", json={"source": {"name": "db", "table": "weekly"}})
    assert r.status_code == 200 and r.json()["n_rows"] == 179


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.fixture
def postgres() -> Iterator[tuple[str, str]]:
    """``(url, schema)``: the test database and a fresh schema with the example data as
    ``weekly``."""
    with example_schema("read a named source from PostgreSQL too") as where:
        yield where


def test_postgres_source_reads_and_never_writes(make_service: ServiceFactory,
                                                postgres: tuple[str, str]) -> None:
    url, schema = postgres
    sources = parse_sources({"pg": {"url": url, "tables": [f"{schema}.weekly"],
                                    "queries": True}})
    pg = TestClient(create_app(service=make_service(sources=sources), manage=False))
    ref = {"name": "pg", "table": f"{schema}.weekly"}
    r = pg.post("/v1/validate", json={**COLUMNS, "source": ref})
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    # a data-modifying WITH reaches the database: the session is read-only
    wipe = f'WITH gone AS (DELETE FROM "{schema}".weekly RETURNING *) SELECT * FROM gone'
    r = pg.post("/v1/inspect", json={"source": {"name": "pg", "query": wipe}})
    assert r.status_code == 422 and "read-only transaction" in _detail(r)
    password = sa.engine.make_url(url).password
    assert url not in r.text and (not password or password not in r.text)
    r = pg.post("/v1/inspect", json={"source": {"name": "pg", "query":
                                                f'SELECT * FROM "{schema}".weekly'}})
    assert r.status_code == 200 and r.json()["n_rows"] == 179
