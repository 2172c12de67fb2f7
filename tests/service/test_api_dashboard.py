"""Endpoints the dashboard added: result plots as Plotly JSON (getPlot), exploratory plots
before any fit (exploreData), scenarios (compareScenarios), the optimiser's default
budget, column guesses (inspectData), model options, and the page with its assets (served
locally, no CDN)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import bayesmmm as bm
import bayesmmm.report as report
from bayesmmm.service import InlineExecutor, Service, Settings, create_app
from bayesmmm.service.api._guess import guess_roles
from bayesmmm.service.api._routes_plots import PLOT_NAMES
from bayesmmm.service.web import WEB_DIR
from tests.service.conftest import (
    FORM,
    ServiceFactory,
    completed_service,
    example_bytes,
    upload,
)

Done = tuple[TestClient, str, Service, Any]


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Done]:
    """A service with one completed fit of the example, and that fit as the library
    reads it back."""
    client, task_id, service = completed_service(tmp_path_factory.mktemp("dashboard"),
                                                 "dashboard")
    job = service.store.get(task_id)
    assert job is not None and job.fit_key is not None
    yield client, task_id, service, service.fits.get(job.fit_key)
    service.stop()


def _values(encoded: Any) -> np.ndarray:
    """A Plotly JSON array: a list, or ``{dtype, bdata}`` (base64 typed array)."""
    if isinstance(encoded, dict) and "bdata" in encoded:
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"])
    return np.asarray(encoded)


@pytest.mark.parametrize("name", PLOT_NAMES)
def test_plot_json_is_the_plot_functions_figure(done: Done, name: str) -> None:
    client, task_id, _, fitted = done
    r = client.get(f"/v1/tasks/{task_id}/plots/{name}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    expected = getattr(report, f"plot_{name}")(fitted)
    assert r.json() == json.loads(expected.to_json())
    assert r.json()["data"], "a figure without traces"


def test_plot_numbers_match_the_plot_data(done: Done) -> None:
    client, task_id, _, fitted = done
    roi = client.get(f"/v1/tasks/{task_id}/plots/roi", params={"hdi_prob": 0.5}).json()
    data = report.plot_data_roi(fitted, hdi_prob=0.5)
    bars = roi["data"][0]
    assert list(bars["x"]) == ["x1", "x2"]
    np.testing.assert_allclose(_values(bars["y"]), data["roi"])
    np.testing.assert_allclose(_values(bars["error_y"]["array"]), data["high"] - data["roi"])
    fall = client.get(f"/v1/tasks/{task_id}/plots/waterfall").json()["data"][0]
    table = report.plot_data_waterfall(fitted)
    assert list(fall["x"]) == list(table["component"])
    np.testing.assert_allclose(_values(fall["y"]), table["contribution"])
    fitted_line = next(t for t in client.get(f"/v1/tasks/{task_id}/plots/actual_vs_fitted")
                       .json()["data"] if t.get("name") == "fitted (mean)")
    np.testing.assert_allclose(_values(fitted_line["y"]),
                               report.plot_data_actual_vs_fitted(fitted)["fitted"])


def test_plot_errors(done: Done) -> None:
    client, task_id, service, _ = done
    r = client.get(f"/v1/tasks/{task_id}/plots/pie_in_the_sky")
    assert r.status_code == 422
    assert "name" in r.json()["detail"] and "actual_vs_fitted" in r.json()["detail"]
    r = client.get("/v1/tasks/AAAAAAAAAAAAAAAAAAAAAA/plots/roi")
    assert r.status_code == 404 and "no task" in r.json()["detail"]
    r = client.get(f"/v1/tasks/{task_id}/plots/roi", params={"panel": "north"})
    assert r.status_code == 422 and "north" in r.json()["detail"]
    r = client.get(f"/v1/tasks/{task_id}/plots/trace", params={"panel": "north"})
    assert r.status_code == 422 and "no panel option" in r.json()["detail"]
    assert client.get(f"/v1/tasks/{task_id}/plots/roi",
                      params={"hdi_prob": 1.5}).status_code == 422
    pending = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()
    r = client.get(f"/v1/tasks/{pending['task_id']}/plots/roi")
    assert r.status_code == 409 and "poll getTaskStatus" in r.json()["detail"]
    client.post(f"/v1/tasks/{pending['task_id']}/cancel")


#: The example's columns, no sampler settings (exploreData takes none).
COLUMNS = {k: FORM[k] for k in ("date_column", "y_column", "channel_columns",
                                "control_columns")}


@pytest.fixture(scope="module")
def example_mmm() -> Any:
    return bm.prepare(bm.example_data(), **bm.example_spec().data_kwargs())[0]


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """exploreData's answer for the example."""
    root = tmp_path_factory.mktemp("explore")
    service = Service.build(Settings(database_url=f"sqlite:///{root / 'jobs.db'}",
                                     artifacts="memory://explore", instance="explore"),
                            executor=InlineExecutor())
    service.start(background=False)
    try:
        r = TestClient(create_app(service=service, manage=False)).post(
            "/v1/explore", files=upload(example_bytes()), data={**COLUMNS,
                                                                 "all_figures": "true"})
    finally:
        service.stop()
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    return body


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f["figure"] for f in body["figures"]}


def _traces(figure: dict[str, Any]) -> dict[str, Any]:
    return {t.get("name"): t for t in figure["data"]}


def test_explore_figures_are_the_eda_figures(explored: dict[str, Any], example_mmm: Any
                                            ) -> None:
    expected = report.eda_figures(example_mmm)
    got = _figures(explored)
    assert list(got) == list(expected) == [
        "spend_over_time", "spend_monthly", "spend_quarterly", "sales_over_time",
        "sales_vs_spend", "total_spend", "correlation", "seasonality_by_week",
        "seasonality_by_month", "outliers"]
    for name, figure in expected.items():
        assert got[name] == json.loads(figure.to_json()), name
    flagged = report.plot_data_outliers(example_mmm)
    assert explored["outliers"] == [f"{d:%Y-%m-%d}" for d in
                                    flagged.loc[flagged["outlier"], "date"]]
    assert {k: explored[k] for k in ("name", "n_periods", "frequency", "start", "end",
                                     "panel", "panels", "warnings")} == {
        "name": "example.csv", "n_periods": 179, "frequency": "weekly",
        "start": "2018-04-02", "end": "2021-08-30", "panel": None, "panels": [],
        "warnings": []}


@pytest.mark.parametrize(("name", "freq"), [("spend_over_time", None),
                                            ("spend_monthly", "M"), ("spend_quarterly", "Q")])
def test_explore_spend_numbers(explored: dict[str, Any], example_mmm: Any, name: str,
                               freq: str | None) -> None:
    frame = report.plot_data_spend(example_mmm, freq)
    traces = _traces(_figures(explored)[name])
    assert list(traces) == ["x1", "x2"]
    for channel, part in frame.groupby("channel"):
        trace = traces[channel]
        assert pd.to_datetime(list(trace["x"])).equals(pd.DatetimeIndex(part["period"]))
        np.testing.assert_allclose(_values(trace["y"]), part["spend"])


def test_explore_sales_and_scatter_numbers(explored: dict[str, Any], example_mmm: Any
                                           ) -> None:
    figures = _figures(explored)
    sales = report.plot_data_sales(example_mmm)
    line = figures["sales_over_time"]["data"][0]
    np.testing.assert_allclose(_values(line["y"]), sales["target"])
    assert pd.to_datetime(list(line["x"])).equals(pd.DatetimeIndex(sales["period"]))
    scatter = report.plot_data_sales_vs_spend(example_mmm)
    traces = _traces(figures["sales_vs_spend"])
    for channel, part in scatter.groupby("channel"):
        np.testing.assert_allclose(_values(traces[channel]["x"]), part["spend"])
        np.testing.assert_allclose(_values(traces[channel]["y"]), part["target"])
    total = report.plot_data_total_spend(example_mmm)
    bars = figures["total_spend"]["data"][0]
    assert list(bars["y"]) == list(total["channel"])
    np.testing.assert_allclose(_values(bars["x"]), total["spend"])


def test_explore_correlation_seasonality_outlier_numbers(explored: dict[str, Any],
                                                         example_mmm: Any) -> None:
    figures = _figures(explored)
    corr = report.plot_data_correlation(example_mmm)
    heat = figures["correlation"]["data"][0]
    assert list(heat["x"]) == list(corr.columns) == ["y", "x1", "x2", "event_1", "event_2", "t"]
    z = np.array([_values(row) for row in heat["z"]]) if isinstance(heat["z"], list) \
        else _values(heat["z"]).reshape(corr.shape)
    np.testing.assert_allclose(z, corr.to_numpy())
    for name, by in (("seasonality_by_month", "month"), ("seasonality_by_week", "week")):
        frame = report.plot_data_seasonality(example_mmm, by)
        mean = _traces(figures[name])["mean"]
        assert list(_values(mean["x"])) == list(frame["period_of_year"])
        np.testing.assert_allclose(_values(mean["y"]), frame["mean"])
    outliers = report.plot_data_outliers(example_mmm)
    traces = figures["outliers"]["data"]
    np.testing.assert_allclose(_values(traces[1]["y"]), outliers["baseline"])
    flagged = outliers[outliers["outlier"]]
    assert len(flagged) >= 1
    np.testing.assert_allclose(_values(traces[2]["y"]), flagged["target"])


def test_explore_refuses_bad_data(client: TestClient) -> None:
    broken = bm.example_data().drop(columns=["y"])
    broken["date_week"] = broken["date_week"].astype(str)
    broken.loc[5, "date_week"] = "2018-13-45"
    r = client.post("/v1/explore", files=upload(broken.to_csv(index=False).encode()),
                    data=COLUMNS)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_data" and "2 problems" in body["detail"]
    codes = {p["code"] for p in body["validation"]["errors"]}
    assert codes == {"missing_column", "bad_date_format"}
    assert all(p["fix"] for p in body["validation"]["errors"])
    # the same report validateData gives
    same = client.post("/v1/validate", files=upload(broken.to_csv(index=False).encode()),
                       data=COLUMNS).json()
    assert body["validation"] == same
    r = client.post("/v1/explore", files=upload(example_bytes()), data={**COLUMNS,
                                                                         "panel": "north"})
    assert r.status_code == 422 and "no panel columns" in r.json()["detail"]
    r = client.post("/v1/explore", files=upload(b"\x00\x01binary", "notes.csv"),
                    data=COLUMNS)
    assert r.status_code == 422 and "notes.csv" in r.json()["detail"]
    r = client.post("/v1/explore", json={"date_column": "date_week", "y_column": "y",
                                         "channel_columns": ["x1"]})
    assert r.status_code == 422 and r.json()["code"] == "missing_data"  # no table
    assert client.post("/v1/explore", files=upload(example_bytes()),
                       data={"y_column": "y"}).status_code == 422  # no columns


def test_explore_size_limit(make_service: ServiceFactory) -> None:
    small = TestClient(create_app(service=make_service(max_upload_bytes=1000), manage=False))
    r = small.post("/v1/explore", files=upload(example_bytes()), data=COLUMNS)
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_explore_panel_data(client: TestClient) -> None:
    north = bm.example_data().assign(geo="north")
    south = bm.example_data().assign(geo="south", x1=lambda d: 2 * d["x1"])
    table = pd.concat([north, south], ignore_index=True)
    data, _ = bm.prepare(table, **{**bm.example_spec().data_kwargs(),
                                   "panel_columns": ["geo"]})
    form = {**COLUMNS, "panel_columns": "geo"}
    content = table.to_csv(index=False).encode()
    total = client.post("/v1/explore", files=upload(content), data=form).json()
    assert total["panels"] == ["north", "south"] and total["panel"] is None
    assert _figures(total)["total_spend"] == json.loads(
        report.plot_total_spend(data).to_json())
    one = client.post("/v1/explore", files=upload(content), data={**form, "panel": "south"})
    assert one.status_code == 200, one.text
    bars = _figures(one.json())["total_spend"]["data"][0]
    np.testing.assert_allclose(_values(bars["x"]),
                               report.plot_data_total_spend(data, panel="south")["spend"])
    r = client.post("/v1/explore", files=upload(content), data={**form, "panel": "east"})
    assert r.status_code == 422 and "east" in r.json()["detail"]


def test_compare_scenarios(done: Done) -> None:
    import bayesmmm.optimize as optimize

    client, task_id, _, fitted = done
    scenarios = {"more": {"default": 20}, "digital": {"x1": -30, "x2": "+40%"}}
    r = client.post(f"/v1/tasks/{task_id}/scenarios",
                    json={"scenarios": scenarios, "n_periods": 13})
    assert r.status_code == 200, r.text
    body = r.json()
    got = pd.DataFrame(body["scenarios"]).set_index("scenario")
    expected = optimize.compare_scenarios(fitted, scenarios, n_periods=13)
    assert list(got.index) == ["current", "more", "digital"]
    assert body["columns"][0] == "scenario" and "spend:x1" in body["columns"]
    for column in ("spend", "sales", "sales_change", "sales_change_hdi_97%", "spend:x2"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-9, err_msg=column)
    assert got.loc["more", "prob_better"] == pytest.approx(expected.loc["more", "prob_better"])


@pytest.mark.parametrize(("body", "message"), [
    ({"scenarios": {"a": {"tv": 10}}, "n_periods": 13}, "tv"),
    ({"scenarios": {"current": {"x1": 10}}, "n_periods": 13}, "current"),
    ({"scenarios": {"a": {"x1": -150}}, "n_periods": 13}, "100%"),
    ({"scenarios": {"a": {"x1": "lots"}}, "n_periods": 13}, "lots"),
    ({"scenarios": {}, "n_periods": 13}, "scenarios"),
    ({"scenarios": {"a": {"x1": 10}}, "n_periods": 0}, "n_periods"),
], ids=["unknown-channel", "reserved-name", "below-minus-100", "not-a-number", "none",
        "no-periods"])
def test_compare_scenarios_refusals(done: Done, body: dict[str, Any], message: str) -> None:
    client, task_id, _, _ = done
    r = client.post(f"/v1/tasks/{task_id}/scenarios", json=body)
    assert r.status_code == 422 and message in r.json()["detail"], r.text


def test_compare_scenarios_unknown_task(client: TestClient) -> None:
    r = client.post("/v1/tasks/AAAAAAAAAAAAAAAAAAAAAA/scenarios",
                    json={"scenarios": {"a": {"x1": 10}}, "n_periods": 13})
    assert r.status_code == 404


def test_optimize_defaults_to_the_historical_budget(done: Done) -> None:
    import bayesmmm.optimize as optimize

    client, task_id, _, fitted = done
    r = client.post(f"/v1/tasks/{task_id}/optimize", json={"n_periods": 13})
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["budget"] == pytest.approx(
        float(optimize.historical_spend(fitted, 13).sum()))


def test_inspect_guesses_the_example(client: TestClient) -> None:
    r = client.post("/v1/inspect", files=upload(example_bytes()))
    assert r.status_code == 200, r.text
    body = r.json()
    spec = bm.example_spec()
    assert body["n_rows"] == 179 and body["name"] == "example.csv"
    assert body["guess"] == {"date_column": spec.date_column, "y_column": spec.y_column,
                             "channel_columns": list(spec.channel_columns),
                             "control_columns": list(spec.control_columns),
                             "panel_columns": [], "unused": ["dayofyear"]}
    kinds = {c["name"]: c["kind"] for c in body["columns"]}
    assert kinds["date_week"] == "date" and kinds["y"] == "number"
    r = client.post("/v1/inspect", files=upload(b"\x00\x01binary", "notes.csv"))
    assert r.status_code == 422 and "notes.csv" in r.json()["detail"]
    assert client.post("/v1/inspect", files=upload(b"  ")).status_code == 422


def test_guess_roles_from_common_headers() -> None:
    weeks = pd.date_range("2024-01-01", periods=4, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"Week": list(weeks) * 2, "region": ["a"] * 4 + ["b"] * 4,
                          "TV_Spend": range(8), "searchImpressions": range(8),
                          "Revenue": range(8), "price": [1.0] * 8, "month": [1] * 8})
    assert guess_roles(frame) == {
        "date_column": "Week", "y_column": "Revenue",
        "channel_columns": ["TV_Spend", "searchImpressions"], "control_columns": ["price"],
        "panel_columns": ["region"], "unused": ["month"]}
    plain = pd.DataFrame({"when": ["2024-01-01", "2024-01-08"], "a": [1, 2], "b": [3, 4]})
    guess = guess_roles(plain)
    assert guess["date_column"] == "when" and guess["y_column"] is None
    assert guess["channel_columns"] == [] and guess["control_columns"] == ["a", "b"]


def test_model_options(client: TestClient) -> None:
    from bayesmmm.model import PRESETS, TRENDS
    from bayesmmm.transforms import ADSTOCKS, SATURATIONS

    body = client.get("/v1/model-options").json()
    assert body["presets"] == list(PRESETS.names()) and "classic" in body["presets"]
    assert body["adstocks"] == list(ADSTOCKS.names())
    assert body["saturations"] == list(SATURATIONS.names())
    assert body["trends"] == list(TRENDS) and body["plots"] == list(PLOT_NAMES)
    assert body["defaults"]["chains"] == 4 and body["defaults"]["adstock_max_lag"] == 8


def test_the_page_and_its_assets_are_served_locally(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "connect-src 'self'" in csp and "script-src 'self'" in csp
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/vendor/plotly.min.js" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    plotly = client.get("/vendor/plotly.min.js")
    import plotly as plotly_package

    bundled = Path(plotly_package.__file__).parent / "package_data" / "plotly.min.js"
    assert plotly.status_code == 200 and plotly.content == bundled.read_bytes()
    assert plotly.headers["content-type"].startswith("text/javascript")
    # every module the page imports is served, with a JavaScript type, and none is remote
    queue, seen = ["/static/js/app.js"], set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/javascript"), path
        assert "http://" not in r.text and "https://" not in r.text, path
        base = path.rsplit("/", 1)[0]
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', r.text):
            parts = (base + "/" + target).split("/")
            out: list[str] = []
            for part in parts:
                if part == "..":
                    out.pop()
                elif part != ".":
                    out.append(part)
            queue.append("/".join(out))
    on_disk = {"/static/" + p.relative_to(WEB_DIR / "static").as_posix()
               for p in (WEB_DIR / "static").rglob("*.js")}
    assert seen == on_disk  # no module left unused, none missing
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/../_app.py").status_code == 404
    doc = client.get("/openapi.json").json()
    assert all(p.startswith("/v1/") for p in doc["paths"])
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert {"getPlot", "compareScenarios", "inspectData", "getModelOptions",
            "exploreData"} <= ops
    inspect = doc["paths"]["/v1/inspect"]["post"]["requestBody"]["content"]
    assert set(inspect) == {"application/json", "multipart/form-data"}
    explore = doc["paths"]["/v1/explore"]["post"]
    assert set(explore["requestBody"]["content"]) == {"application/json",
                                                      "multipart/form-data"}
    assert "413" in explore["responses"] and "422" in explore["responses"]
