"""Task endpoints after a real (tiny) fit: status, answers, predictions, listing,
cancellation, API keys, and error bodies that leak nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import bayesmmm as bm
from bayesmmm.service import InlineExecutor, Service, create_app
from bayesmmm.service.api._deps import get_store
from tests.service.conftest import (
    FORM,
    QUICK,
    ServiceFactory,
    completed_service,
    example_bytes,
    upload,
)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Service]]:
    """A service with one completed fit of the example (tiny settings)."""
    client, task_id, service = completed_service(tmp_path_factory.mktemp("service"), "results")
    yield client, task_id, service
    service.stop()


def test_completed_status(done: tuple[TestClient, str, Service]) -> None:
    client, task_id, _ = done
    s = client.get(f"/v1/tasks/{task_id}").json()
    assert s["status"] == "completed" and s["progress"] == 1.0 and s["attempts"] == 1
    assert s["error"] is None
    assert set(s["fit_metrics"]) >= {"r2", "mape", "durbin_watson"}
    assert any("one chain" in w for w in s["warnings"])  # convergence warnings come along
    # advice for an API caller names request fields, not the CLI's flags
    assert not any(re.search(r"(?<![\w-])--[a-z]", w) for w in s["warnings"])
    assert s["verdict"]["status"] in ("ok", "care", "bad") and s["verdict"]["headline"]
    assert s["divergences"] >= 0
    assert s["fit_seconds"]["seconds_total"] > 0
    assert s["finished_at"].endswith("Z") and s["seconds_running"] is not None


def test_summary_equals_the_library_fit(done: tuple[TestClient, str, Service]) -> None:
    client, task_id, _ = done
    r = client.get(f"/v1/tasks/{task_id}/summary")
    assert r.status_code == 200
    rows = r.json()["summary"]
    assert list(rows[0]) == ["parameter", "mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk",
                             "ess_tail", "r_hat"]
    fitted = bm.fit(bm.example_data(), bm.example_spec(), progress=False, **QUICK)
    expected = fitted.summary()
    got = pd.DataFrame(rows).set_index("parameter")
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-6)
    np.testing.assert_allclose(got["hdi_97%"], expected["hdi_97%"], rtol=1e-6)
    # each channel's adstock half-life and peak lag come with the summary
    carry = pd.DataFrame(r.json()["carryover"]).set_index("channel")
    assert list(carry.index) == ["x1", "x2"] and set(carry["adstock"]) == {"geometric"}
    assert {"half_life", "half_life_hdi_3%", "half_life_hdi_97%", "peak_lag",
            "peak_lag_hdi_3%", "peak_lag_hdi_97%", "beyond_window"} <= set(carry.columns)
    alpha = fitted.posterior["adstock_alpha"].reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(carry["half_life"], (np.log(0.5) / np.log(alpha)).mean(axis=0),
                               rtol=1e-5)  # geometric: the closed form ln 0.5 / ln alpha
    assert (carry["peak_lag"] == 0).all()


def test_answer_tables(done: tuple[TestClient, str, Service]) -> None:
    client, task_id, _ = done
    roi = client.get(f"/v1/tasks/{task_id}/roi").json()
    assert [r["channel"] for r in roi["rows"]] == ["x1", "x2"]
    assert roi["columns"][:4] == ["channel", "spend", "contribution", "roi"]
    share = client.get(f"/v1/tasks/{task_id}/media-share", params={"hdi_prob": 0.5}).json()
    assert "hdi_25%" in share["columns"]
    # units and intervals travel with the numbers
    assert "incremental 'y' per unit of spend" in roi["units"]["roi"]
    assert roi["interval"].startswith("94% HDI") and "hdi_3%" in roi["interval"]
    assert "hdi_25%" in share["interval"] and "fraction" in share["units"]["spend_share"]
    r = client.get(f"/v1/tasks/{task_id}/roi", params={"hdi_prob": 2})
    assert r.status_code == 422 and "hdi_prob" in r.json()["detail"]


def _every_row(client: TestClient, path: str, **params: Any) -> tuple[list[dict[str, Any]],
                                                                     dict[str, Any]]:
    """All rows of a paged answer (and its first page), following next_offset."""
    rows: list[dict[str, Any]] = []
    offset: int | None = 0
    first: dict[str, Any] = {}
    while offset is not None:
        r = client.get(path, params={**params, "limit": 1000, "offset": offset})
        assert r.status_code == 200, r.text
        body = r.json()
        first = first or body
        rows += body["rows"]
        offset = body["next_offset"]
    return rows, first


@pytest.fixture(scope="module")
def fitted(done: tuple[TestClient, str, Service],
           tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The task's fit as the library reads it from downloadFit."""
    client, task_id, _ = done
    path = tmp_path_factory.mktemp("fit") / "fit.nc"
    path.write_bytes(client.get(f"/v1/tasks/{task_id}/fit").content)
    return bm.load_fit(path)


def test_contributions_per_period_are_the_library_table(
        done: tuple[TestClient, str, Service], fitted: Any) -> None:
    client, task_id, _ = done
    rows, first = _every_row(client, f"/v1/tasks/{task_id}/contributions", by="component",
                             freq="none")
    got = pd.DataFrame(rows)
    assert first["by"] == "component" and first["freq"] == "none"
    assert set(got["kind"]) == {"baseline", "control", "seasonality", "channel"}
    assert len(got) == 179 * got["component"].nunique() == first["total_rows"]
    assert list(got["date"]) == sorted(got["date"])  # period by period
    expected = fitted.contributions()
    merged = got.merge(expected, on=["date", "component", "kind"], suffixes=("", "_lib"))
    assert len(merged) == len(expected)
    for column in ("mean", "sd", "hdi_3%", "hdi_97%"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_lib"], rtol=1e-9)
    assert "'y' units" in first["units"]["mean, sd and HDI bounds"]


def test_contributions_summed_per_channel_and_period(
        done: tuple[TestClient, str, Service], fitted: Any) -> None:
    client, task_id, _ = done
    weekly = fitted.contributions()
    weekly["month"] = pd.to_datetime(weekly["date"]).dt.to_period("M").astype(str)
    r = client.get(f"/v1/tasks/{task_id}/contributions")  # default: by channel and month
    body = r.json()
    assert body["by"] == "channel" and body["freq"] == "M" and body["next_offset"] is None
    got = pd.DataFrame(body["rows"])
    assert list(got.columns) == ["period", "start", "end", "n_periods", "component", "kind",
                                 "mean", "sd", "hdi_3%", "hdi_97%"]
    assert set(got["component"]) == {"base", "x1", "x2"}
    assert got.groupby("component")["n_periods"].sum().eq(179).all()
    # a month's mean is the sum of its weeks' means; base is every other component
    for (month, name), row in got.set_index(["period", "component"]).iterrows():
        part = weekly[weekly["month"] == month]
        part = part[~part["kind"].eq("channel")] if name == "base" else part[
            part["component"] == name]
        np.testing.assert_allclose(row["mean"], part["mean"].sum(), rtol=1e-6, atol=1e-6)
        assert row["hdi_3%"] <= row["mean"] <= row["hdi_97%"]
    # the HDI of the draws summed over each month (not a sum of the weekly bounds)
    from bayesmmm.analysis import component_draws, hdi

    draws = component_draws(fitted)
    months = weekly.loc[weekly["component"] == "x1", "month"].to_numpy()
    for part, name in ((draws["x1"], "x1"),
                       (sum(v for k, v in draws.items() if k not in ("x1", "x2")), "base")):
        mine = got[got["component"] == name].set_index("period")
        summed = np.stack([part[:, months == m].sum(axis=1) for m in mine.index], axis=1)
        low, high = hdi(summed, 0.94)
        np.testing.assert_allclose(mine["hdi_3%"], low, rtol=1e-6)
        np.testing.assert_allclose(mine["hdi_97%"], high, rtol=1e-6)
        np.testing.assert_allclose(mine["sd"], summed.std(axis=0), rtol=1e-6)
    assert "summed over each calendar month" in body["units"]["mean, sd and HDI bounds"]
    assert "summed posterior draws" in body["interval"]
    # other periods and the component split
    dates = pd.to_datetime(weekly["date"].drop_duplicates())
    for freq in ("Q", "Y", "W"):
        table = pd.DataFrame(_every_row(client, f"/v1/tasks/{task_id}/contributions",
                                        freq=freq)[0])
        assert table["period"].nunique() == dates.dt.to_period(freq).nunique(), freq
        assert table.groupby("component")["n_periods"].sum().eq(179).all()
    by_component = pd.DataFrame(client.get(f"/v1/tasks/{task_id}/contributions", params={
        "by": "component", "freq": "Y", "hdi_prob": 0.5}).json()["rows"])
    assert set(by_component["component"]) == set(weekly["component"])
    assert {"hdi_25%", "hdi_75%"} <= set(by_component.columns)
    yearly = weekly.assign(year=weekly["date"].str[:4]).groupby(["year", "component"])["mean"]
    np.testing.assert_allclose(by_component.set_index(["period", "component"])["mean"],
                               yearly.sum().loc[list(zip(by_component["period"],
                                                         by_component["component"],
                                                         strict=True))], rtol=1e-6)


def test_predictions(done: tuple[TestClient, str, Service]) -> None:
    client, task_id, _ = done
    r = client.post(f"/v1/tasks/{task_id}/predictions", files=upload(example_bytes()))
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert len(rows) == 179 and {"date", "mean", "y"} <= set(rows[0])
    assert r.json()["next_offset"] is None and "'y' units" in str(r.json()["units"])
    r = client.post(f"/v1/tasks/{task_id}/predictions", files=upload(example_bytes()),
                    params={"limit": 100, "offset": 150})
    assert [row["date"] for row in r.json()["rows"]] == [row["date"] for row in rows[150:]]
    bad = bm.example_data().drop(columns=["x1"]).to_csv(index=False).encode()
    r = client.post(f"/v1/tasks/{task_id}/predictions", files=upload(bad))
    assert r.status_code == 422
    assert r.json()["validation"]["errors"][0]["column"] == "x1"


def test_fit_file_download(done: tuple[TestClient, str, Service], tmp_path: Path) -> None:
    client, task_id, _ = done
    r = client.get(f"/v1/tasks/{task_id}/fit")
    assert r.status_code == 200
    path = tmp_path / "fit.nc"
    path.write_bytes(r.content)
    assert bm.load_fit(path).spec == bm.example_spec().replace(adstock_max_lag=8)


def test_results_of_unfinished_or_failed_tasks(done: tuple[TestClient, str, Service]) -> None:
    client, _, service = done
    pending = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()
    r = client.get(f"/v1/tasks/{pending['task_id']}/summary")
    assert r.status_code == 409
    assert "pending" in r.json()["detail"] and "poll getTaskStatus" in r.json()["detail"]
    assert client.get(f"/v1/tasks/{pending['task_id']}/fit").status_code == 409
    assert client.post(f"/v1/tasks/{pending['task_id']}/cancel").json()["status"] == "cancelled"
    job = service.store.create(owner="", spec={}, sampler={}, input_name="x.csv",
                               input_key="none/input")
    service.store.fail(job.id, None, "invalid_data", "column 'x9' is missing. Fix: add it")
    advised = service.store.create(owner="", spec={}, sampler={}, input_name="x.csv",
                                   input_key="none/input")
    service.store.fail(advised.id, None, "SpecError", "Run more warm-up and draws (e.g. "
                       "--warmup 2000 --draws 2000).")
    message = client.get(f"/v1/tasks/{advised.id}").json()["error"]["message"]
    assert message == "Run more warm-up and draws (e.g. warmup=2000 and draws=2000)."
    r = client.get(f"/v1/tasks/{job.id}/roi")
    assert r.status_code == 409 and "column 'x9' is missing" in r.json()["detail"]
    status = client.get(f"/v1/tasks/{job.id}").json()
    assert status["error"] == {"code": "invalid_data", "details": None,
                               "message": "column 'x9' is missing. Fix: add it"}


def test_planning(done: tuple[TestClient, str, Service]) -> None:
    pytest.importorskip("bayesmmm.optimize")
    client, task_id, _ = done
    r = client.get(f"/v1/tasks/{task_id}/response-curves")
    assert r.status_code == 200, r.text
    assert {p["channel"] for p in r.json()["points"]} == {"x1", "x2"}
    assert {"multiplier", "spend", "sales", "marginal_roi"} <= set(r.json()["curves"][0])
    r = client.post(f"/v1/tasks/{task_id}/optimize", json={"n_periods": 13, "budget": 20})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert [c["channel"] for c in plan["channels"]] == ["x1", "x2", "total"]
    assert plan["totals"]["budget"] == pytest.approx(20) and plan["summary"]
    r = client.post(f"/v1/tasks/{task_id}/optimize",
                    json={"n_periods": 13, "budget": 20, "target_roi": 2})
    assert r.status_code == 422 and "exactly one of" in r.json()["detail"]
    r = client.post(f"/v1/tasks/{task_id}/optimize",
                    json={"n_periods": 13, "budget": 20, "bounds": {"tv": "0.5:2"}})
    assert r.status_code == 422 and "tv" in r.json()["detail"]
    r = client.post(f"/v1/tasks/{task_id}/what-if",
                    json={"channel": "x1", "spend_increase": 2, "n_periods": 13})
    assert r.status_code == 200, r.text
    assert r.json()["recommendation"] and r.json()["answer"]["channel"] == "x1"
    r = client.post(f"/v1/tasks/{task_id}/what-if",
                    json={"channel": "radio", "spend_increase": 2, "n_periods": 13})
    assert r.status_code == 422 and "radio" in r.json()["detail"]


def test_planning_without_the_optimizer(done: tuple[TestClient, str, Service],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    client, task_id, _ = done
    monkeypatch.setitem(sys.modules, "bayesmmm.optimize", None)  # as if not installed
    r = client.post(f"/v1/tasks/{task_id}/optimize", json={"n_periods": 13, "budget": 20})
    assert r.status_code == 501 and "not available" in r.json()["detail"]


def test_unknown_task(client: TestClient) -> None:
    for path in ("", "/summary", "/roi", "/contributions", "/media-share", "/fit"):
        r = client.get(f"/v1/tasks/AAAAAAAAAAAAAAAAAAAAAA{path}")
        assert r.status_code == 404 and "no task" in r.json()["detail"]
    assert client.post("/v1/tasks/AAAAAAAAAAAAAAAAAAAAAA/cancel").status_code == 404
    r = client.get("/v1/tasks/..%2F..%2Fetc")
    assert r.status_code in (404, 422)


def test_list_and_cancel(client: TestClient, service: Service) -> None:
    ids = [client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
           for _ in range(3)]
    listed = client.get("/v1/tasks", params={"limit": 2}).json()
    assert listed["total"] == 3 and len(listed["tasks"]) == 2
    assert [t["task_id"] for t in listed["tasks"]] == ids[::-1][:2]  # newest first
    r = client.post(f"/v1/tasks/{ids[0]}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.post(f"/v1/tasks/{ids[0]}/cancel")
    assert r.status_code == 409 and "already cancelled" in r.json()["detail"]
    only = client.get("/v1/tasks", params={"status": "cancelled"}).json()
    assert [t["task_id"] for t in only["tasks"]] == [ids[0]]
    assert client.get("/v1/tasks", params={"status": "odd"}).status_code == 422
    service.dispatcher.run_once()  # claims the two pending ones, not the cancelled one
    assert sorted(service.dispatcher.in_flight) == sorted(ids[1:])
    client.post(f"/v1/tasks/{ids[1]}/cancel")
    service.dispatcher.run_once()  # a run in flight is stopped too
    assert sorted(service.dispatcher.in_flight) == [ids[2]]


def test_api_keys_separate_callers(make_service: ServiceFactory) -> None:
    service = make_service(api_keys=("key-a", "key-b"))
    client = TestClient(create_app(service=service, manage=False))
    a, b = {"X-API-Key": "key-a"}, {"Authorization": "Bearer key-b"}
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
    assert r.status_code == 401 and "API key" in r.json()["detail"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM,
                    headers={"X-API-Key": "wrong"})
    assert r.status_code == 401
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM,
                       headers=a).json()["task_id"]
    assert client.get(f"/v1/tasks/{task}", headers=a).status_code == 200
    assert client.get(f"/v1/tasks/{task}", headers=b).status_code == 404  # not even its existence
    assert client.post(f"/v1/tasks/{task}/cancel", headers=b).status_code == 404
    assert client.get("/v1/tasks", headers=b).json()["total"] == 0
    assert client.get("/v1/tasks", headers=a).json()["total"] == 1
    assert client.get("/v1/health").status_code == 200  # health needs no key
    job = service.store.get(task)
    assert job is not None and "key-a" not in job.owner  # keys are not stored


def test_internal_errors_leak_nothing(service: Service) -> None:
    class Broken:
        def get(self, *args: Any) -> None:
            raise RuntimeError("password=hunter2 at /srv/secret/path.py")

    app = create_app(service=service, manage=False)
    app.dependency_overrides[get_store] = lambda: Broken()
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/v1/tasks/AAAAAAAAAAAAAAAAAAAAAA")
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error" and "reference" in r.json()["detail"]
    assert "hunter2" not in r.text and "Traceback" not in r.text and "/srv" not in r.text


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["database"] == "ok"
    assert health["executor"]["executor"] == "inline"
    doc = client.get("/openapi.json").json()
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert {"runMMMAsync", "getTaskStatus", "getSummaryStatistics", "getContributions",
            "getROI", "getMediaShare", "predictWithModel", "validateData",
            "generateSyntheticData", "listTasks", "cancelTask", "health", "downloadFit",
            "getResponseCurves", "optimizeBudget", "whatIf"} <= ops
    run = doc["paths"]["/v1/tasks"]["post"]
    assert set(run["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    body = doc["components"]["schemas"]["RunMMMRequest"]["properties"]
    assert {"openaiFileIdRefs", "date_column", "channel_columns", "y_column",
            "adstock_max_lag", "yearly_seasonality"} <= set(body)
    # real schema defaults (an assistant importing the document reads them), not prose
    assert body["adstock_max_lag"]["default"] == 8 == bm.ModelSpec.adstock_max_lag
    assert body["yearly_seasonality"]["default"] == 2 == bm.ModelSpec.yearly_seasonality
    assert "default 8" not in body["adstock_max_lag"].get("description", "")
    carry = doc["components"]["schemas"]["CarryoverRow"]["properties"]
    assert {"half_life", "half_life_hdi_3%", "peak_lag", "beyond_window"} <= set(carry)
    summary = doc["components"]["schemas"]["SummaryRow"]["properties"]
    assert {"hdi_3%", "hdi_97%", "r_hat", "ess_bulk"} <= set(summary)
    assert all(p.startswith("/v1/") for p in doc["paths"])


def test_store_is_swappable(service: Service, make_service: ServiceFactory,
                            tmp_path: Path) -> None:
    other = Service.build(service.settings.replace(
        database_url=f"sqlite:///{tmp_path / 'other.db'}"), executor=InlineExecutor())
    other.store.migrate()
    app = create_app(service=service, manage=False)
    app.dependency_overrides[get_store] = lambda: other.store
    client = TestClient(app)
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    assert other.store.get(task) is not None and service.store.get(task) is None
    other.stop()


def test_parquet_upload(client: TestClient) -> None:
    buffer = io.BytesIO()
    bm.example_data().to_parquet(buffer)
    r = client.post("/v1/tasks", files=upload(buffer.getvalue(), "data.parquet"), data=FORM)
    assert r.status_code == 202, r.text
