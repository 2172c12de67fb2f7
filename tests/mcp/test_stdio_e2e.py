"""End to end over stdio: the SDK's own MCP client against a real ``bayesmmm mcp``
process, which starts its local service (embedded job store and Dask worker).

One server process and two fits for the whole module (started at once, the unconverged
one first): the bundled example at 2 chains x 300 x 300 for the results, and at
1 chain x 20 x 20 for the guardrail. About 2-3 minutes on 2 cores.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.cli import app
from bayesmmm.model import default_of, option_fields
from bayesmmm.report import PLOTS
from tests.mcp._session import COLUMNS, EXAMPLE, Mcp, mcp_process, text_of

TOOLS = {"list_sources", "validate_data", "start_fit", "get_status", "cancel_fit", "get_summary",
         "get_contributions", "get_roi", "get_response_curves", "get_diagnostics",
         "optimize_budget", "what_if", "compare_scenarios", "get_plot"}
GOOD = {"chains": 2, "warmup": 300, "draws": 300, "seed": 1}
UNCONVERGED = {"chains": 1, "warmup": 20, "draws": 20, "seed": 0}
PLANS: list[tuple[str, dict[str, Any]]] = [
    ("optimize_budget", {"n_periods": 13}),
    ("what_if", {"channel": "x1", "spend_increase": 5.0, "n_periods": 13}),
    ("compare_scenarios", {"scenarios": {"less_x1": {"x1": -20}}, "n_periods": 13}),
]


@pytest.fixture(scope="module")
def broken_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with a negative spend, a missing target value and a repeated date."""
    df = bm.example_data()
    df.loc[3, "x1"] = -1.0
    df.loc[10, "y"] = None
    df.loc[20, "date_week"] = df.loc[19, "date_week"]
    path = tmp_path_factory.mktemp("data") / "broken.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cli_report(broken_csv: Path) -> dict[str, Any]:
    """What ``bayesmmm validate --json`` says about the broken file."""
    flags = ["--date-column", "date_week", "--y-column", "y", "-c", "x1", "-c", "x2",
             "--control", "event_1", "--control", "event_2", "--control", "t"]
    result = CliRunner().invoke(app, ["validate", str(broken_csv), *flags, "--json"])
    assert result.exit_code == 1, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    with mcp_process(tmp_path_factory.mktemp("mcp-home")) as session:
        yield session


@pytest.fixture(scope="module")
def tasks(mcp: Mcp) -> dict[str, str]:
    """Both fits, queued at once (the quick unconverged one first)."""
    bad = mcp.ok("start_fit", data=EXAMPLE, **COLUMNS, **UNCONVERGED)
    good = mcp.ok("start_fit", data=EXAMPLE, **COLUMNS, **GOOD)
    assert bad["status"] == good["status"] == "pending"
    assert good["sampler"]["chains"] == 2 and good["sampler"]["draws"] == 300
    return {"unconverged": bad["task_id"], "good": good["task_id"]}


def problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    keep = ("code", "column", "message", "rule", "fix")
    return [{k: p.get(k) for k in keep} for p in [*report["errors"], *report["warnings"]]]


def has_units_and_interval(body: dict[str, Any]) -> None:
    assert body.get("units") and body.get("interval"), body


def test_lists_the_curated_tools_prompts_and_resources(mcp: Mcp) -> None:
    listed = mcp.portal.call(mcp.session.list_tools).tools
    assert {t.name for t in listed} == TOOLS
    schema = {t.name: t.input_schema["properties"] for t in listed}
    fit = schema["start_fit"]
    assert fit["adstock_max_lag"]["default"] == 8 and fit["yearly_seasonality"]["default"] == 2
    for option in option_fields():  # every sampler option, with the library's default
        assert fit[option.name].get("default") == default_of(option), option.name
    assert set(schema["get_plot"]["name"]["enum"]) == {p.name for p in PLOTS.of("fit")}
    for name in ("optimize_budget", "what_if", "compare_scenarios"):
        assert schema[name]["override_verdict"]["default"] is False
    prompts = mcp.portal.call(mcp.session.list_prompts).prompts
    assert {p.name for p in prompts} >= {"mmm_workflow", "interpret_fit"}
    text = text_of(mcp.portal.call(mcp.session.get_prompt, "mmm_workflow",
                                   {"data": "sales.csv"}).messages[0].content)
    for step in ("validate_data", "start_fit", "get_status", "get_diagnostics", "fix_code"):
        assert step in text
    templates = mcp.portal.call(mcp.session.list_resource_templates).resource_templates
    assert "bayesmmm://tasks/{task_id}/roi" in {t.uri_template for t in templates}


def test_validate_returns_every_problem_with_fix_code_as_the_cli(
        mcp: Mcp, broken_csv: Path, cli_report: dict[str, Any]) -> None:
    body = mcp.ok("validate_data", data=str(broken_csv), **COLUMNS)
    assert body["ok"] is False and cli_report["ok"] is False
    assert [{k: p[k] for k in ("code", "column", "message", "rule", "fix")}
            for p in body["problems"]] == problems(cli_report)
    assert {p["code"] for p in body["problems"]} >= {"negative_spend", "missing_values"}
    for p in body["problems"]:  # one script with every fix, to hand back
        assert p["fix"] in body["fix_code"]
    assert str(broken_csv) in body["fix_code"]
    has_units_and_interval(body)
    guess = mcp.ok("validate_data", data=str(broken_csv))  # no columns: a guess to confirm
    assert guess["columns_needed"] and guess["guess"]["channel_columns"] == ["x1", "x2"]


def test_bad_input_gets_precise_problems_never_a_traceback(
        mcp: Mcp, broken_csv: Path, cli_report: dict[str, Any], tmp_path: Path) -> None:
    body, result = mcp.call("start_fit", data=str(broken_csv), **COLUMNS)
    assert result.is_error and body["error"] == "invalid_data"
    assert [{k: p[k] for k in ("code", "column", "message", "rule", "fix")}
            for p in body["problems"]] == problems(cli_report)
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("validate_data", {"data": str(tmp_path / "nope.csv"), **COLUMNS}, "DataLoadError",
         "does not exist"),
        ("start_fit", {"data": EXAMPLE, **{**COLUMNS, "channel_columns": ["x1", "tv"]}},
         "invalid_data", "did you mean 't'"),
        ("start_fit", {"data": EXAMPLE, **COLUMNS, "chains": 0}, "invalid_arguments",
         "chains: Input should be greater than or equal to 1"),
        ("start_fit", {"data": EXAMPLE}, "invalid_arguments", "y_column: Field required"),
        ("start_fit", {"data": EXAMPLE, **COLUMNS, "target_accept": 1.0},
         "invalid_arguments", "target_accept"),
        ("start_fit", {"data": EXAMPLE, **COLUMNS, "adstock": "geo"}, "invalid_options",
         "Unknown adstock 'geo'"),
        ("start_fit", {"data": "http://10.0.0.1/sales.csv", **COLUMNS},
         "download_private_address", "upload the file instead"),
        ("get_status", {"task_id": "no-such-task"}, "not_found", "no task 'no-such-task'"),
        ("get_plot", {"task_id": "x", "name": "pie"}, "invalid_arguments", "'saturation'"),
    ]
    for name, arguments, code, words in cases:
        body, result = mcp.call(name, **arguments)
        assert result.is_error, (name, body)
        assert body["error"] == code and words in body["detail"], (name, body)
        assert "Traceback" not in text_of(result.content[0])


def test_fit_end_to_end_results_plot_and_plan(mcp: Mcp, tasks: dict[str, str]) -> None:
    task = tasks["good"]
    first = mcp.ok("get_status", task_id=task)
    assert first["status"] in ("pending", "running", "completed")
    assert "seconds_left_estimate" in first and first["next_step"]
    done = mcp.wait(task)
    assert done["status"] == "completed", done
    has_units_and_interval(done)

    summary = mcp.ok("get_summary", task_id=task)
    names = {row["parameter"] for row in summary["rows"]}
    assert {"intercept", "saturation_beta[x1]", "adstock_alpha[x2]", "y_sigma"} <= names
    assert all(row["r_hat"] is not None for row in summary["rows"])
    assert [row["channel"] for row in summary["carryover"]] == ["x1", "x2"]
    assert all(row["half_life_hdi_3%"] <= row["half_life"] <= row["half_life_hdi_97%"]
               for row in summary["carryover"])
    has_units_and_interval(summary)

    roi = mcp.ok("get_roi", task_id=task)
    assert [row["channel"] for row in roi["rows"]] == ["x1", "x2"]
    for row in roi["rows"]:
        assert row["hdi_3%"] <= row["roi"] <= row["hdi_97%"]
    assert "per unit of spend" in roi["units"]["roi"] and "94%" in roi["interval"]

    parts = mcp.ok("get_contributions", task_id=task)
    totals = {row["component"]: row for row in parts["totals"]}
    for row in roi["rows"]:  # a channel's total contribution is the ROI table's
        assert totals[row["channel"]]["mean"] == pytest.approx(row["contribution"], rel=1e-4)
    assert sum(row["share"] for row in parts["totals"]) == pytest.approx(1.0, abs=1e-4)
    quarters = parts["by_period"]["rows"]
    assert quarters[0]["period"] == "2018Q2" and parts["by_period"]["total_rows"] <= 120
    has_units_and_interval(parts)
    detail = mcp.ok("get_contributions", task_id=task, freq="period", limit=10, offset=5)
    assert len(detail["by_period"]["rows"]) == 10 and detail["by_period"]["next_offset"] == 15
    assert detail["by_period"]["total_rows"] == 179 * len(totals)
    assert detail["by_period"]["rows"][0]["date"] == "2018-05-07"

    curves = mcp.ok("get_response_curves", task_id=task, points=5)
    frame = pd.DataFrame(curves["curves"])
    assert set(frame["channel"]) == {"x1", "x2"}
    assert all(len(g) <= 6 and g["current"].any() for _, g in frame.groupby("channel"))
    has_units_and_interval(curves)

    diagnostics = mcp.ok("get_diagnostics", task_id=task)
    assert diagnostics["status"] in ("ok", "care") and not diagnostics["do_not_use"]
    assert {c["check"] for c in diagnostics["checks"]} >= {"max r_hat", "divergences"}

    body, result = mcp.call("get_plot", task_id=task, name="saturation")
    assert not result.is_error, body
    image = next(c for c in result.content if c.type == "image")
    assert image.mime_type == "image/png"
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(image.data))) as png:
        assert png.format == "PNG" and png.width > 300 and png.height > 200
    has_units_and_interval(body)

    plan = mcp.ok("optimize_budget", task_id=task, n_periods=13)
    assert "incremental sales" in plan["summary"] and plan["verdict"]
    assert {row["channel"] for row in plan["channels"]} >= {"x1", "x2"}
    assert "override" not in plan
    has_units_and_interval(plan)

    resource = mcp.portal.call(mcp.session.read_resource, f"bayesmmm://tasks/{task}/roi")
    assert json.loads(text_of(resource.contents[0]))["rows"] == roi["rows"]


def test_guardrail_refuses_an_unconverged_fit_until_overridden(
        mcp: Mcp, tasks: dict[str, str]) -> None:
    task = tasks["unconverged"]
    assert mcp.wait(task)["status"] == "completed"
    diagnostics = mcp.ok("get_diagnostics", task_id=task)
    assert diagnostics["do_not_use"] and diagnostics["verdict"].startswith("do not use")
    for name, arguments in PLANS:
        body, result = mcp.call(name, task_id=task, **arguments)
        assert result.is_error and body["error"] == "refused_do_not_use", body
        assert "override_verdict=true" in body["detail"] and body["reasons"]
        rerun = body["run_instead"]
        assert rerun["tool"] == "start_fit" and rerun["arguments"]["chains"] >= 4
        assert rerun["arguments"]["channel_columns"] == ["x1", "x2"]
    for name, arguments in PLANS:
        body = mcp.ok(name, task_id=task, override_verdict=True, **arguments)
        assert body["override"]["applied"] is True
        assert body["verdict"].startswith("do not use")
        assert "unreliable" in body["override"]["warning"]
        has_units_and_interval(body)
