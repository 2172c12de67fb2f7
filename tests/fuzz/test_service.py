"""Fuzzing the service: request bodies, uploads, planning questions and query strings
through the API's test client.

Properties, for every case:

* never a 5xx and never a traceback: every answer is a status the API documents;
* every 4xx is a JSON error body whose ``detail`` gives a fix (``Fix:``), whose
  ``errors`` (for an invalid request) name a field each, and which shows no server path;
* no wrong answer: a submission is accepted (202) only when the library itself accepts
  the same table with the same columns (``bayesmmm.validate``), and its task is stored
  with the options asked for.

The data never leaves the process: ``download_link`` s go to an in-memory transport that
serves the example, junk or HTTP errors. Profiles: the default runs a fixed
(derandomised) sample of about 900 cases in well under two minutes; ``BAYESMMM_FUZZ=long``
draws 10x as many fresh ones; ``BAYESMMM_FUZZ_EXAMPLES=n`` sets every test's count.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hypothesis", reason="the fuzz suite needs hypothesis>=6.100 (dev extra)")
pytest.importorskip("fastapi")

import httpx  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

import bayesmmm as bm  # noqa: E402
from bayesmmm.datasets import example_path  # noqa: E402
from bayesmmm.service import Fetcher, InlineExecutor, Service, Settings, create_app  # noqa: E402

_LONG = os.environ.get("BAYESMMM_FUZZ") == "long"
_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture]}
SEEN: dict[str, int] = {}
STATUSES: dict[int, int] = {}


def _profile(default: int) -> settings:
    n = int(os.environ.get("BAYESMMM_FUZZ_EXAMPLES", 0)) or (10 * default if _LONG else default)
    return settings(max_examples=n, derandomize=not _LONG, **_COMMON)


EXAMPLE = example_path().read_bytes()
COLUMNS = {"date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
           "control_columns": ["event_1", "event_2", "t"]}
QUICK = {"chains": 1, "warmup": 30, "draws": 30, "seed": 1}


def _link_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("example.csv"):
        return httpx.Response(200, content=EXAMPLE)
    if path.endswith("junk.csv"):
        return httpx.Response(200, content=b"\x00\xff" * 100)
    if path.endswith("redirect"):
        return httpx.Response(302, headers={"location": "http://10.0.0.1/x"})
    return httpx.Response(404)


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Service]]:
    root = tmp_path_factory.mktemp("fuzz-service")
    settings_ = Settings(database_url=f"sqlite:///{root / 'jobs.db'}",
                         artifacts=str(root / "artifacts"), instance="fuzz",
                         max_upload_bytes=2 * 1024 * 1024)
    fetcher = Fetcher(settings_.max_upload_bytes, 5, resolver=_public,
                      transport=httpx.MockTransport(_link_handler))
    service = Service.build(settings_, executor=InlineExecutor(), fetcher=fetcher)
    service.start(background=False)
    client = TestClient(create_app(service=service, manage=False),
                        raise_server_exceptions=False)
    r = client.post("/v1/tasks", files={"file": ("example.csv", EXAMPLE)},
                    data={**{k: ",".join(v) if isinstance(v, list) else v
                             for k, v in COLUMNS.items()},
                          **{k: str(v) for k, v in QUICK.items()}})
    assert r.status_code == 202, r.text
    service.drain()
    yield client, r.json()["task_id"], service
    service.stop()
    print(f"\nservice fuzz cases by test: {SEEN}, total {sum(SEEN.values())}; answers by "
          f"status: {dict(sorted(STATUSES.items()))}")


def _check(r: httpx.Response, root: Path | None = None) -> None:
    """The properties every answer must have."""
    STATUSES[r.status_code] = STATUSES.get(r.status_code, 0) + 1
    assert r.status_code < 500, (r.status_code, r.text[:500])
    assert "Traceback" not in r.text
    if r.status_code >= 400:
        body = r.json()
        detail = body["detail"]
        assert isinstance(detail, str) and "Fix:" in detail, (r.status_code, detail)
        assert "/tmp/" not in detail and (root is None or str(root) not in detail), detail
        for item in body.get("errors") or []:
            assert item["field"], body


def _accepted_is_right(client: TestClient, r: httpx.Response, table: bytes, fields: dict[str, Any],
                       sep: str | None = None) -> None:
    """A 202 only for data the library accepts; the task holds what was asked."""
    if r.status_code != 202:
        return
    task = r.json()["task_id"]
    status = client.get(f"/v1/tasks/{task}").json()
    spec = bm.ModelSpec.from_dict(status["spec"])
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-{task}.csv"
    path.write_bytes(table)
    try:
        report = bm.validate(bm.load_table(path, sep=sep), **spec.data_kwargs())
    finally:
        path.unlink()
    assert report.ok, report.format()
    for name in ("date_column", "y_column"):
        if name in fields:
            assert status["spec"][name] == fields[name]
    client.post(f"/v1/tasks/{task}/cancel")


# -- strategies -------------------------------------------------------------------------
_text = st.text(max_size=40)
_weird_text = st.one_of(_text, st.sampled_from(
    ["", " ", "x1", "date_week", "y", "../../etc/passwd", "US", "XX", "\x00", "é" * 300,
     "a" * 5000, "1e308", "NaN", "true", "[]", "{}", "1,2", "x1,x2,x1"]))
_numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from([0, 1, -1, 2**31, 2**63, 1e308, -1e308, 1e-320, 4.0]))
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _weird_text)
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)), max_leaves=12)

_FIELDS = ["date_column", "y_column", "channel_columns", "control_columns", "panel_columns",
           "adstock_max_lag", "yearly_seasonality", "preset", "adstock", "saturation", "trend",
           "holidays", "model_options", "chains", "warmup", "draws", "target_accept", "seed",
           "dense_mass", "max_tree_depth", "centring", "time_limit", "sep", "colour", "source"]


@st.composite
def json_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A runMMMAsync JSON body: mostly valid, with some fields replaced or added."""
    body: dict[str, Any] = {**COLUMNS, **QUICK}
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=4, unique=True)):
        body[name] = draw(_json)
    for name in draw(st.lists(st.sampled_from(list(COLUMNS)), max_size=2, unique=True)):
        body.pop(name, None)
    link = draw(st.sampled_from([
        "https://files.example.com/example.csv", "https://files.example.com/junk.csv",
        "https://files.example.com/missing.csv", "https://files.example.com/redirect",
        "http://[::127.0.0.1]/x.csv", "http://[64:ff9b::7f00:1]/x.csv", "file:///etc/passwd",
        "http://169.254.169.254/latest", "not a url", ""]))
    refs = draw(st.sampled_from(["one", "none", "two", "junk"]))
    if refs == "one":
        body["openaiFileIdRefs"] = [{"name": draw(_text), "id": "f", "download_link": link}]
    elif refs == "two":
        body["openaiFileIdRefs"] = [{"download_link": link}] * 2
    elif refs == "junk":
        body["openaiFileIdRefs"] = draw(_json)
    return body


def _mutate(data: bytes, how: str, where: int, value: bytes) -> bytes:
    if how == "truncate":
        return data[: where % max(len(data), 1)]
    if how == "insert":
        i = where % max(len(data), 1)
        return data[:i] + value + data[i:]
    if how == "replace-number":
        text = data.decode()
        lines = text.splitlines()
        row = 1 + where % (len(lines) - 1)
        cells = lines[row].split(",")
        cells[1 + where % (len(cells) - 1)] = value.decode("latin-1")
        lines[row] = ",".join(cells)
        return "\n".join(lines).encode("latin-1", errors="replace")
    if how == "header":
        first, rest = data.split(b"\n", 1)
        return value + b"," + first + b"\n" + rest
    if how == "semicolons":
        return data.replace(b",", b";").replace(b".", b",")
    if how == "encoding":
        return data.decode().encode("utf-16")
    return value  # whole junk


@st.composite
def uploads(draw: st.DrawFn) -> tuple[bytes, str | None, dict[str, Any]]:
    how = draw(st.sampled_from(["same", "truncate", "insert", "replace-number", "header",
                                "semicolons", "encoding", "junk"]))
    value = draw(st.one_of(st.binary(max_size=40), st.sampled_from(
        [b"1e308", b"-5", b"nan", b"", b"1e-320", b"abc", b"x1", b'"', b"\n\n"])))
    data = EXAMPLE if how == "same" else _mutate(EXAMPLE, how, draw(st.integers(0, 10**6)),
                                                   value)
    name = draw(st.one_of(st.sampled_from(["example.csv", "x.xlsx", "data.parquet", "a.json",
                                           "", "é.csv", "a" * 300 + ".csv"]), st.none()))
    fields: dict[str, Any] = {"date_column": "date_week", "y_column": "y",
                              "channel_columns": "x1,x2", "control_columns": "event_1,event_2,t",
                              **{k: str(v) for k, v in QUICK.items()}}
    for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=3, unique=True)):
        fields[key] = draw(_weird_text)
    return data, name, fields


# -- the tests ----------------------------------------------------------------------------
@_profile(300)
@given(body=json_bodies())
def test_json_submissions(api: tuple[TestClient, str, Service], body: dict[str, Any]) -> None:
    client, _, service = api
    SEEN["json"] = SEEN.get("json", 0) + 1
    r = client.post("/v1/tasks", json=body)
    _check(r)
    if r.status_code == 202:
        _accepted_is_right(client, r, EXAMPLE, body)


@_profile(250)
@given(case=uploads())
def test_uploads(api: tuple[TestClient, str, Service],
                 case: tuple[bytes, str | None, dict[str, Any]]) -> None:
    client, _, _ = api
    SEEN["upload"] = SEEN.get("upload", 0) + 1
    data, name, fields = case
    r = client.post("/v1/tasks", files={"file": (name, data, "text/csv")}, data=fields)
    _check(r)
    if r.status_code == 202:
        sep = fields.get("sep") or None
        _accepted_is_right(client, r, data, fields, sep=sep)
    r = client.post("/v1/validate", files={"file": (name, data, "text/csv")},
                    data={k: v for k, v in fields.items() if k in
                          ("date_column", "y_column", "channel_columns", "control_columns")})
    _check(r)


@_profile(200)
@given(text=st.one_of(
    st.text(max_size=200),
    st.builds(lambda d, o: (o * d) + "1" + ("]" if o == "[" else "}") * d,
              st.integers(1, 3000), st.sampled_from(["[", '{"a":'])),
    _json.map(json.dumps)),
    path=st.sampled_from(["/v1/tasks", "/v1/validate", "/v1/inspect", "/v1/synthetic-data",
                          "/v1/tasks/{task}/optimize", "/v1/tasks/{task}/what-if",
                          "/v1/tasks/{task}/scenarios", "/v1/tasks/{task}/predictions"]))
def test_raw_json_bodies(api: tuple[TestClient, str, Service], text: str, path: str) -> None:
    client, task, _ = api
    SEEN["raw"] = SEEN.get("raw", 0) + 1
    r = client.post(path.format(task=task), content=text.encode("utf-8", "surrogatepass"),
                    headers={"Content-Type": "application/json"})
    _check(r)
    assert r.status_code != 200 or path.endswith(("synthetic-data", "optimize", "what-if",
                                                  "scenarios"))


_plan_numbers = st.one_of(st.integers(-5, 20), st.sampled_from(
    [0, 13, 1001, 10**8, 1e308, -1e308, 0.5, "13", True, None]))


@st.composite
def plan_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["optimize", "what-if", "scenarios"]))
    body: dict[str, Any] = {"n_periods": draw(st.sampled_from([4, 13])) if draw(st.booleans())
                            else draw(_plan_numbers)}
    if kind == "optimize":
        for key in draw(st.lists(st.sampled_from(
                ["budget", "target_roi", "target_marginal_roi", "gap", "objective", "bounds",
                 "fixed", "pattern", "hdi_prob", "seed"]), max_size=3, unique=True)):
            body[key] = draw(st.one_of(_plan_numbers, st.sampled_from(
                ["q10", "mean-1sd", "median", "historical", {"x1": "0.5:2"},
                 {"x1": "-30%:+30%", "x2": "0.5:2"}, {"tv": "1:2"}, {"x1": "2:1"}, ["x1"],
                 ["x9"]])))
    elif kind == "what-if":
        body.update(channel=draw(st.sampled_from(["x1", "x2", "tv", ""])),
                    spend_increase=draw(_plan_numbers))
    else:
        body["scenarios"] = draw(st.one_of(
            st.dictionaries(_text, st.dictionaries(st.sampled_from(["x1", "x2", "default",
                                                                    "tv"]),
                                                   st.one_of(_plan_numbers, _weird_text),
                                                   max_size=2), max_size=3),
            _json))
    return kind, body


@_profile(60)
@given(case=plan_requests())
def test_planning_questions(api: tuple[TestClient, str, Service],
                            case: tuple[str, dict[str, Any]]) -> None:
    client, task, _ = api
    SEEN["plan"] = SEEN.get("plan", 0) + 1
    kind, body = case
    r = client.post(f"/v1/tasks/{task}/{kind}", json=body)
    _check(r)
    if r.status_code == 200 and kind == "optimize":
        plan = r.json()
        totals = plan["totals"]
        # never a plan that loses without saying so
        if totals["prob_better"] < 0.5 and plan["channels"]:
            same = all(abs(c["optimal"] - c["comparison"]) <= 1e-6 * max(abs(c["optimal"]), 1)
                       for c in plan["channels"])
            assert same or plan["warnings"], plan


@_profile(100)
@given(params=st.dictionaries(st.sampled_from(["hdi_prob", "level", "limit", "offset",
                                               "status", "panel"]),
                              st.one_of(_weird_text, _numbers.map(str)), max_size=3),
       path=st.sampled_from(["/v1/tasks", "/v1/tasks/{task}", "/v1/tasks/{task}/roi",
                             "/v1/tasks/{task}/summary", "/v1/tasks/{task}/plots/roi",
                             "/v1/tasks/{task}/response-curves", "/v1/tasks/nope/roi",
                             "/v1/tasks/{task}/plots/nope", "/v1/health"]))
def test_query_strings(api: tuple[TestClient, str, Service], params: dict[str, str],
                       path: str) -> None:
    client, task, _ = api
    SEEN["query"] = SEEN.get("query", 0) + 1
    _check(client.get(path.format(task=task), params=params))


def test_the_fuzzed_service_still_serves(api: tuple[TestClient, str, Service]) -> None:
    client, task, service = api
    assert client.get(f"/v1/tasks/{task}/summary").status_code == 200
    assert client.get("/v1/health").status_code == 200
    counts = service.store.counts()
    assert counts.get("pending", 0) == 0 and counts.get("running", 0) == 0

