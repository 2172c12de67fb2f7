"""The MCP server's parts without processes: how data is named, answers shaped and
errors worded; and the guardrail and contribution sums on a fit in this process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.errors import DataLoadError
from bayesmmm.mcp import ServiceClient, build_server
from bayesmmm.mcp._answer import clean, interval
from bayesmmm.mcp._client import ServiceError, _form, data_source
from bayesmmm.mcp._shape import contribution_sums, page, png_of_figure, thin_curves
from bayesmmm.mcp._tools_data import _eta, sampler_parameters
from bayesmmm.model import option_fields
from tests.mcp._session import text_of


def test_data_is_a_link_csv_text_or_a_path(tmp_path: Path) -> None:
    link = data_source("https://files.example.com/sales.csv?sig=1")
    assert link.link and link.name == "sales.csv" and link.content is None
    text = data_source("date,y\n2024-01-01,1")
    assert text.kind == "inline CSV" and text.content == b"date,y\n2024-01-01,1\n"
    path = tmp_path / "sales.csv"
    path.write_text("date,y\n")
    assert data_source(str(path)).content == b"date,y\n"
    with pytest.raises(DataLoadError, match="does not exist"):
        data_source(str(tmp_path / "missing.csv"))
    with pytest.raises(DataLoadError, match="is a folder"):
        data_source(str(tmp_path))
    with pytest.raises(DataLoadError, match="does not read files"):
        data_source(str(path), allow_paths=False)
    inside = tmp_path / "inside"
    inside.mkdir()
    with pytest.raises(DataLoadError, match="outside the data folder"):
        data_source(str(inside / ".." / "sales.csv"), root=inside)
    with pytest.raises(DataLoadError, match="no data given"):
        data_source("  ")


def test_form_fields_are_what_run_mmm_async_reads() -> None:
    assert _form({"channel_columns": ["tv", "search"], "control_columns": [],
                  "model_options": {"priors": {}}, "dense_mass": True, "chains": 2,
                  "sep": None}) == {"channel_columns": ["tv", "search"],
                                    "model_options": '{"priors": {}}', "dense_mass": "true",
                                    "chains": "2"}


def test_every_sampler_option_is_a_start_fit_parameter() -> None:
    params = {p.name: p for p in sampler_parameters()}
    assert list(params) == [f.name for f in option_fields()]
    assert params["chains"].default == 4 and params["centring"].default == "auto"


def test_answers_are_json_safe_and_short() -> None:
    assert clean({"a": np.float64(1 / 3), "b": float("nan"), "c": (np.int64(2),)}) == \
        {"a": 0.333333, "b": None, "c": [2]}
    assert "94% HDI" in interval(0.94) and "hdi_3%" in interval(0.94)
    rows = [{"i": i} for i in range(25)]
    assert page(rows, 10, 20) == {"rows": rows[20:], "total_rows": 25, "offset": 20,
                                  "limit": 10, "next_offset": None}
    assert page(rows, 10, 0)["next_offset"] == 10


def test_curves_keep_zero_current_and_largest_spend() -> None:
    rows = [{"channel": c, "multiplier": m / 10, "current": m == 10}
            for c in ("tv", "search") for m in range(41)]
    kept = thin_curves(rows, 5)
    for channel in ("tv", "search"):
        levels = [r["multiplier"] for r in kept if r["channel"] == channel]
        assert levels == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_time_left_is_estimated_from_progress() -> None:
    left, _ = _eta({"status": "running", "progress": 0.25, "seconds_running": 30.0})
    assert left == pytest.approx(90.0)
    assert _eta({"status": "running", "progress": 0.0, "seconds_running": 3.0})[0] is None
    assert _eta({"status": "pending", "progress": 0.0})[0] is None
    assert _eta({"status": "completed", "progress": 1.0})[0] == 0.0
    guess = {"low": 20.0, "expected": 40.0, "high": 90.0}
    left, basis = _eta({"status": "running", "progress": 0.0, "seconds_running": 3.0,
                        "estimated_seconds": guess})
    assert left == pytest.approx(37.0) and "estimated_seconds" in basis


def test_service_errors_name_the_tools_and_keep_every_problem() -> None:
    report = {"errors": [{"code": "negative_spend", "severity": "error", "column": "tv",
                          "message": "m", "rule": "r", "fix": "df['tv'] = ..."}],
              "warnings": []}
    payload = ServiceError(422, "invalid_data", "poll getTaskStatus; see runMMMAsync",
                           {"validation": report}).payload()
    assert payload["detail"] == "poll get_status; see start_fit"
    assert payload["problems"][0]["fix"] == "df['tv'] = ..."


def _client(handler: Any) -> ServiceClient:
    return ServiceClient("http://service.test/v1/", transport=httpx.MockTransport(handler))


def test_an_unreachable_or_failing_service_is_answered_in_words() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    server, _ = build_server(_client(down))
    result: Any = anyio.run(server.call_tool, "get_status", {"task_id": "abc"})
    body = json.loads(text_of(result.content[0]))
    assert result.is_error and body["error"] == "service_unreachable"
    assert "http://service.test" in body["detail"]

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"detail": "internal error; reference 123",
                                         "code": "internal_error"})

    server, _ = build_server(_client(broken))
    result = anyio.run(server.call_tool, "get_roi", {"task_id": "abc"})
    assert result.is_error and "reference 123" in text_of(result.content[0])


def test_contribution_sums_are_the_posterior_of_each_sum(example_fit: bm.Fit) -> None:
    totals, quarters = contribution_sums(example_fit, "Q", 0.94, channels_only=False)
    roi = example_fit.roi()
    by_name = {row["component"]: row for row in totals}
    for channel in ("x1", "x2"):
        assert by_name[channel]["mean"] == pytest.approx(roi.loc[channel, "contribution"])
    detail = example_fit.contributions()
    per_quarter = detail.assign(
        q=detail["date"].astype("datetime64[ns]").dt.to_period("Q").astype(str))
    expected = per_quarter.groupby(["q", "component"])["mean"].sum()
    for row in quarters:
        assert row["mean"] == pytest.approx(expected[(row["period"], row["component"])])
    # each interval is the HDI of the summed draws (not a sum of per-period bounds)
    from bayesmmm.analysis import component_draws, hdi

    dates = example_fit.data.dates.to_period("Q").astype(str)
    row = next(r for r in quarters if r["component"] == "x1" and r["period"] == "2019Q1")
    summed = component_draws(example_fit)["x1"][:, dates == "2019Q1"].sum(axis=1)
    low, high = hdi(summed[:, None], 0.94)
    assert (row["hdi_3%"], row["hdi_97%"]) == pytest.approx((low[0], high[0]))
    assert row["n_periods"] == int((dates == "2019Q1").sum())
    channels, _ = contribution_sums(example_fit, "total", 0.94, channels_only=True)
    assert [row["component"] for row in channels] == ["x1", "x2"]


def test_plot_json_becomes_a_png(example_fit: bm.Fit) -> None:
    from bayesmmm.report import plot_roi

    png = png_of_figure(plot_roi(example_fit).to_json())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_start_fit_passes_forms_through_and_status_says_the_structures() -> None:
    sent: list[bytes] = []
    rows = [{"structure": "delayed+hill", "weight": 0.7}, {"structure": "geometric+hill",
                                                           "weight": 0.3}]

    def service(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            sent.append(request.read())
            return httpx.Response(202, json={"task_id": "t1", "status": "pending"})
        return httpx.Response(200, json={
            "task_id": "t1", "status": "completed", "progress": 1.0, "forms": "auto",
            "structures": rows, "carried_by": "averaged over structures: delayed+hill 70%, "
            "geometric+hill 30%"})

    server, _ = build_server(_client(service))
    columns = {"data": "date,y,tv\n2024-01-01,1,2\n", "date_column": "date", "y_column": "y",
               "channel_columns": ["tv"], "chains": 2}
    candidates = {"adstock": ["geometric", "delayed"], "saturation": ["hill"]}
    for forms, field in (("auto", b"auto"), (candidates, json.dumps(candidates).encode())):
        result: Any = anyio.run(server.call_tool, "start_fit", {**columns, "forms": forms})
        assert not result.is_error, text_of(result.content[0])
        assert json.loads(text_of(result.content[0]))["forms"] == forms
        assert b'name="forms"\r\n\r\n' + field + b"\r\n" in sent[-1]
    anyio.run(server.call_tool, "start_fit", columns)
    assert b'name="forms"' not in sent[-1]  # the default: the spec's own forms
    result = anyio.run(server.call_tool, "get_status", {"task_id": "t1"})
    status = json.loads(text_of(result.content[0]))
    assert status["forms"] == "auto" and status["structures"] == rows
    assert status["carried_by"].startswith("averaged over structures")
    tools = {t.name: t for t in anyio.run(server.list_tools)}
    described = json.dumps(tools["start_fit"].input_schema["properties"]["forms"])
    assert "3x the time of one fit" in described
