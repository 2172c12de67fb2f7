"""The limits an assistant's action puts on the API (issue 27, item 3): every operation
with a summary and a description of at most 300 characters, ``servers`` in the document,
read-only POSTs marked ``x-openai-isConsequential: false``, no answer over 100,000
characters with default parameters, paging that reaches every row exactly once, and
getPlot as a PNG image."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bayesmmm.service import Service, create_app
from bayesmmm.service.api._paging import MAX_CHARS, page, size_of
from bayesmmm.service.api._routes_plots import PLOT_NAMES
from tests.service.conftest import (
    FORM,
    ServiceFactory,
    completed_service,
    example_bytes,
    upload,
)

#: OpenAI's limits on an action: an operation's description, a parameter's description.
DESCRIPTION_MAX = 300
PARAMETER_MAX = 700

#: POSTs that change nothing (validation, exploration, calculations on a fit) ...
READ_ONLY = {"validateData", "inspectData", "exploreData", "generateSyntheticData",
             "predictWithModel", "optimizeBudget", "whatIf", "compareScenarios"}
#: ... and those that start or stop work.
CONSEQUENTIAL = {"runMMMAsync", "cancelTask", "rerunTask"}

#: Answers that carry model numbers, and so their units and interval.
LABELLED = {"getSummaryStatistics", "getContributions", "getROI", "getMediaShare",
            "getResponseCurves", "optimizeBudget", "whatIf", "compareScenarios",
            "predictWithModel"}

COLUMNS = {k: FORM[k] for k in ("date_column", "y_column", "channel_columns",
                                "control_columns")}


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Service]]:
    """A service with one completed fit of the example (tiny settings)."""
    client, task_id, service = completed_service(tmp_path_factory.mktemp("limits"), "limits")
    yield client, task_id, service
    service.stop()


@pytest.fixture(scope="module")
def doc(done: tuple[TestClient, str, Service]) -> dict[str, Any]:
    document: dict[str, Any] = done[0].get("/openapi.json").json()
    return document


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_every_operation_has_a_summary_and_a_short_description(doc: dict[str, Any]) -> None:
    too_long, missing = {}, []
    for _, _, op in _operations(doc):
        if not op.get("summary", "").strip() or not op.get("description", "").strip():
            missing.append(op["operationId"])
        if len(op.get("description", "")) > DESCRIPTION_MAX:
            too_long[op["operationId"]] = len(op["description"])
        for param in op.get("parameters", []):
            assert len(param.get("description", "")) <= PARAMETER_MAX, (
                op["operationId"], param["name"])
    assert not missing, f"operations without a summary or description: {missing}"
    assert not too_long, f"descriptions over {DESCRIPTION_MAX} characters: {too_long}"


def test_servers_are_in_the_document(make_service: ServiceFactory) -> None:
    plain = TestClient(create_app(service=make_service(), manage=False),
                       base_url="http://mmm.internal:8080")
    assert plain.get("/openapi.json").json()["servers"] == [{"url": "http://mmm.internal:8080"}]
    public = TestClient(create_app(service=make_service(
        public_url="https://mmm.example.com/api"), manage=False))
    doc = public.get("/openapi.json").json()
    assert doc["servers"] == [{"url": "https://mmm.example.com/api"}]
    assert doc["paths"] and doc["info"]["title"] == "BayesMMM API"


def test_posts_say_whether_they_are_consequential(doc: dict[str, Any]) -> None:
    posts = {op["operationId"]: op for method, _, op in _operations(doc) if method == "post"}
    assert set(posts) == READ_ONLY | CONSEQUENTIAL, "a new POST: mark it in this test"
    for name, op in posts.items():
        assert op.get("x-openai-isConsequential") is (name in CONSEQUENTIAL), name


def _calls(task_id: str, pending: Callable[[], str]) -> dict[str, list[dict[str, Any]]]:
    """A request with default parameters for each operation (every plot for getPlot)."""
    task = f"/v1/tasks/{task_id}"
    table = {"files": upload(example_bytes())}
    return {
        "runMMMAsync": [{"method": "POST", "url": "/v1/tasks", **table, "data": FORM}],
        "getTaskStatus": [{"method": "GET", "url": task}],
        "listTasks": [{"method": "GET", "url": "/v1/tasks"}],
        "cancelTask": [{"method": "POST", "url": f"/v1/tasks/{pending()}/cancel"}],
        "rerunTask": [{"method": "POST", "url": f"/v1/tasks/{pending(cancel=True)}/rerun"}],
        "getSummaryStatistics": [{"method": "GET", "url": f"{task}/summary"}],
        "getContributions": [{"method": "GET", "url": f"{task}/contributions"}],
        "getROI": [{"method": "GET", "url": f"{task}/roi"}],
        "getMediaShare": [{"method": "GET", "url": f"{task}/media-share"}],
        "getResponseCurves": [{"method": "GET", "url": f"{task}/response-curves"}],
        "getPlot": [{"method": "GET", "url": f"{task}/plots/{name}"} for name in PLOT_NAMES],
        "downloadFit": [{"method": "GET", "url": f"{task}/fit"}],
        "optimizeBudget": [{"method": "POST", "url": f"{task}/optimize",
                            "json": {"n_periods": 13}}],
        "whatIf": [{"method": "POST", "url": f"{task}/what-if",
                    "json": {"channel": "x1", "spend_increase": 1.0, "n_periods": 13}}],
        "compareScenarios": [{"method": "POST", "url": f"{task}/scenarios",
                              "json": {"scenarios": {"less_tv": {"x1": -20}},
                                       "n_periods": 13}}],
        "predictWithModel": [{"method": "POST", "url": f"{task}/predictions", **table}],
        "inspectData": [{"method": "POST", "url": "/v1/inspect", **table}],
        "validateData": [{"method": "POST", "url": "/v1/validate", **table, "data": COLUMNS}],
        "exploreData": [{"method": "POST", "url": "/v1/explore", **table, "data": COLUMNS}],
        "generateSyntheticData": [{"method": "POST", "url": "/v1/synthetic-data", "json": {}}],
        "getModelOptions": [{"method": "GET", "url": "/v1/model-options"}],
        "listSources": [{"method": "GET", "url": "/v1/sources"}],
        "health": [{"method": "GET", "url": "/v1/health"}],
    }


def test_every_answer_with_default_parameters_fits(done: tuple[TestClient, str, Service],
                                                   doc: dict[str, Any]) -> None:
    client, task_id, _ = done

    def pending(cancel: bool = False) -> str:
        r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
        new: str = r.json()["task_id"]
        if cancel:
            assert client.post(f"/v1/tasks/{new}/cancel").status_code == 200
        return new

    calls = _calls(task_id, pending)
    ops = {op["operationId"] for _, _, op in _operations(doc)}
    assert set(calls) == ops, "a new operation: add a call with default parameters here"
    sizes: dict[tuple[str, str], int] = {}
    for name, requests in calls.items():
        for request in requests:
            r = client.request(**request)
            assert r.status_code in (200, 202), (name, request["url"], r.text[:500])
            if name == "downloadFit":  # a file for scripts (NetCDF), not an answer to read
                assert r.headers["content-type"] == "application/x-netcdf"
                continue
            assert r.headers["content-type"].startswith("application/json"), name
            sizes[name, request["url"]] = len(r.text)
            assert len(r.text) <= MAX_CHARS, (name, request["url"], len(r.text))
            if name in LABELLED:
                body = r.json()
                assert body["units"] and "HDI" in body["interval"], name
    assert len(sizes) == sum(len(requests) for requests in calls.values()) - 1


def _walk(fetch: Callable[[int, int], dict[str, Any]], key: str, limit: int
          ) -> tuple[list[Any], int]:
    """Every item of a paged answer, ``limit`` at a time, and the total it reports."""
    items: list[Any] = []
    offset: int | None = 0
    total = -1
    while offset is not None:
        body = fetch(limit, offset)
        assert len(body[key]) <= limit and body["offset"] == offset
        total = body.get("total_rows", body.get("total_figures", body.get("total", -1)))
        items += body[key]
        offset = body["next_offset"]
        assert offset is None or offset == len(items)
    return items, total


@pytest.mark.parametrize(("path", "params", "key"), [
    ("contributions", {"by": "component", "freq": "none"}, "rows"),
    ("contributions", {}, "rows"),
    ("contributions", {"by": "component", "freq": "Q", "level": "panel"}, "rows"),
    ("summary", {}, "summary"),
    ("roi", {}, "rows"),
    ("media-share", {}, "rows"),
    ("response-curves", {}, "curves"),
], ids=["contributions-weekly", "contributions-default", "contributions-quarterly",
        "summary", "roi", "media-share", "response-curves"])
def test_paging_reaches_every_row_once(done: tuple[TestClient, str, Service], path: str,
                                       params: dict[str, Any], key: str) -> None:
    client, task_id, _ = done
    url = f"/v1/tasks/{task_id}/{path}"

    def fetch(limit: int, offset: int) -> dict[str, Any]:
        r = client.get(url, params={**params, "limit": limit, "offset": offset})
        assert r.status_code == 200, r.text
        assert len(r.text) <= MAX_CHARS
        body: dict[str, Any] = r.json()
        return body

    whole, total = _walk(fetch, key, 1000)
    assert len(whole) == total > 0
    # small pages, a page that ends inside the table, and no more than 30 calls each
    limits = {n for n in (1, 7, 64, -(-total // 3)) if -(-total // n) <= 30}
    assert limits
    for limit in sorted(limits):
        rows, _ = _walk(fetch, key, limit)
        assert rows == whole, limit  # each row once, in the same order
    assert len({json.dumps(row, sort_keys=True) for row in whole}) == len(whole)


def test_a_page_stops_before_the_size_limit(done: tuple[TestClient, str, Service]) -> None:
    """Every component in every week is ~180,000 characters: the largest page stops
    below the limit, and next_offset goes on from the first row not sent."""
    client, task_id, _ = done
    r = client.get(f"/v1/tasks/{task_id}/contributions",
                   params={"by": "component", "freq": "none", "limit": 1000})
    body = r.json()
    assert len(r.text) <= MAX_CHARS
    assert len(body["rows"]) < 1000 < body["total_rows"]
    assert body["next_offset"] == len(body["rows"])
    # the rule on its own: rows of 1,000 characters, the rest of the answer counted too
    rows = [{"x": "a" * 990} for _ in range(300)]
    shown = page(rows, 300, 10, rest={"note": "b" * 20_000})
    assert 10 + len(shown.rows) == shown.next_offset
    assert size_of({"note": "b" * 20_000, "rows": shown.rows}) <= MAX_CHARS
    assert page(rows, 300, 299).next_offset is None and page(rows, 5, 400).rows == []
    assert len(page([{"x": "a" * 200_000}], 5, 0).rows) == 1  # paging always moves on


def test_lists_of_tasks_figures_and_synthetic_rows_page(
        done: tuple[TestClient, str, Service]) -> None:
    client, _, _ = done
    tasks, total = _walk(lambda limit, offset: client.get(
        "/v1/tasks", params={"limit": limit, "offset": offset}).json(), "tasks", 1)
    assert len(tasks) == total >= 1
    assert len({t["task_id"] for t in tasks}) == len(tasks)

    def explore(limit: int, offset: int) -> dict[str, Any]:
        r = client.post("/v1/explore", files=upload(example_bytes()),
                        data={**COLUMNS, "limit": str(limit), "offset": str(offset)})
        assert r.status_code == 200 and len(r.text) <= MAX_CHARS, r.text[:300]
        body: dict[str, Any] = r.json()
        return body

    figures, total = _walk(explore, "figures", 20)
    assert total == len(figures) == 10
    assert [f["name"] for f in _walk(explore, "figures", 3)[0]] == [f["name"] for f in figures]
    # a drawing program (the dashboard) asks for every figure at once, however large
    r = client.post("/v1/explore", files=upload(example_bytes()),
                    data={**COLUMNS, "all_figures": "true"})
    whole = r.json()
    assert whole["figures"] == figures and whole["next_offset"] is None

    def synthetic(limit: int, offset: int) -> dict[str, Any]:
        r = client.post("/v1/synthetic-data", json={"preset": "growing_business",
                                                     "limit": limit, "offset": offset})
        assert r.status_code == 200 and len(r.text) <= MAX_CHARS
        body: dict[str, Any] = r.json()
        return body

    rows, total = _walk(synthetic, "rows", 1000)
    assert len(rows) == total == 262
    assert _walk(synthetic, "rows", 100)[0] == rows


def test_get_plot_as_png(done: tuple[TestClient, str, Service], doc: dict[str, Any]) -> None:
    client, task_id, _ = done
    r = client.get(f"/v1/tasks/{task_id}/plots/roi", params={"format": "png"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(r.content))
    image.verify()
    assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
    as_json = client.get(f"/v1/tasks/{task_id}/plots/roi")
    assert as_json.headers["content-type"].startswith("application/json")
    assert "data" in as_json.json()
    bad = client.get(f"/v1/tasks/{task_id}/plots/roi", params={"format": "svg"})
    assert bad.status_code == 422 and "format" in bad.json()["detail"]
    op = doc["paths"]["/v1/tasks/{task_id}/plots/{name}"]["get"]
    assert set(op["responses"]["200"]["content"]) == {"application/json", "image/png"}
    fmt = next(p for p in op["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == ["json", "png"] and fmt["schema"]["default"] == "json"
