"""Named data sources through the MCP server (issue 26): list_sources, and validate_data
and start_fit reading a table by ``source`` instead of ``data``; over stdio with the
SDK's own client against a real ``bayesmmm mcp`` and the local service it starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from bayesmmm.mcp import ServiceClient, build_server
from tests._databases import example_sources_file
from tests.mcp._session import COLUMNS, Mcp, mcp_process, text_of


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    """``bayesmmm mcp`` whose local service has one named source: a SQLite file with the
    example as ``weekly``."""
    home = tmp_path_factory.mktemp("mcp-sources")
    sources = example_sources_file(home)
    with pytest.MonkeyPatch.context() as patch:  # the child's environment is built from ours
        patch.setenv("BAYESMMM_SOURCES_FILE", str(sources))
        with mcp_process(home / "state") as session:
            yield session


def test_list_sources_then_validate_and_fit_from_one(mcp: Mcp) -> None:
    listed = mcp.ok("list_sources")
    assert listed["sources"] == [{
        "name": "warehouse", "description": "Weekly sales", "kind": "sql",
        "tables": ["weekly"], "queries": False, "fixed_query": False, "params": []}]
    assert "sqlite" not in json.dumps(listed) and listed["units"] and listed["interval"]
    source = {"name": "warehouse", "table": "weekly"}
    seen = mcp.ok("validate_data", source=source)
    assert seen["columns_needed"] and seen["name"] == "source:warehouse/weekly"
    assert seen["guess"]["date_column"] == "date_week"
    checked = mcp.ok("validate_data", source=source, **COLUMNS)
    assert checked["ok"] is True and checked["n_rows"] == 179
    started = mcp.ok("start_fit", source=source, **COLUMNS, chains=1, warmup=20, draws=20)
    assert started["status"] == "pending"
    status = mcp.ok("cancel_fit", task_id=started["task_id"])  # plumbing only: no fit
    assert status["input_name"] == "source:warehouse/weekly"


def test_a_source_refused_by_the_service_is_answered_in_its_words(mcp: Mcp) -> None:
    body, result = mcp.call("validate_data", source={"name": "warehouse",
                                                     "query": "SELECT * FROM weekly"})
    assert result.is_error and body["error"] == "invalid_source"
    assert "the operator has not allowed queries on source 'warehouse'" in body["detail"]
    assert body["fields"][0]["field"] == "source.query"
    body, result = mcp.call("validate_data", data="date,y\n2024-01-01,1",
                            source={"name": "warehouse", "table": "weekly"})
    assert result.is_error and "given twice: data and source" in body["detail"]
    body, result = mcp.call("start_fit", **COLUMNS)
    assert result.is_error and "list_sources" in body["detail"]


def test_the_source_goes_to_the_service_as_json() -> None:
    sent: list[dict[str, Any]] = []

    def service(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.read()))
        return httpx.Response(202, json={"task_id": "t1", "status": "pending"})

    client = ServiceClient("http://service.test", transport=httpx.MockTransport(service))
    server, _ = build_server(client)
    ref = {"name": "warehouse", "query": "SELECT * FROM weekly WHERE t < :n",
           "params": {"n": 52}}
    result: Any = anyio.run(server.call_tool, "start_fit", {**COLUMNS, "source": ref,
                                                            "chains": 2})
    assert not result.is_error, text_of(result.content[0])
    assert sent[-1]["source"] == ref and sent[-1]["chains"] == 2
    assert "openaiFileIdRefs" not in sent[-1] and sent[-1]["date_column"] == "date_week"


def test_files_are_unchanged_by_sources(tmp_path: Path) -> None:
    """A path is still uploaded as a file (the source argument is optional)."""
    sent: list[bytes] = []

    def service(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        return httpx.Response(200, json={"name": "x.csv", "n_rows": 1, "columns": [],
                                         "guess": {}})

    path = tmp_path / "x.csv"
    path.write_text("date,y\n2024-01-01,1\n")
    server, _ = build_server(ServiceClient("http://service.test",
                                           transport=httpx.MockTransport(service)))
    result: Any = anyio.run(server.call_tool, "validate_data", {"data": str(path)})
    assert not result.is_error, text_of(result.content[0])
    assert b'filename="x.csv"' in sent[-1] and b'name="source"' not in sent[-1]
