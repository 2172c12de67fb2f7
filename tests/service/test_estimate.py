"""Time estimates: estimated_seconds in the API document, a worker's pilot chain before the
fit (a range, then the actual seconds beside it), a failed estimate that costs nothing,
and stores from before the estimate column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bayesmmm.service import InlineExecutor, JobPayload, Service, create_app, run_fit
from bayesmmm.service.jobs._estimate import PENDING_NOTE, why_not
from bayesmmm.service.store._migrate import current_revision, upgrade
from tests.service.conftest import FORM, QUICK, ServiceFactory, example_bytes, upload


def test_the_estimate_is_in_the_api_document(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    seconds = schemas["SecondsEstimate"]
    assert seconds["required"] == ["low", "expected", "high"]
    for name in ("low", "expected", "high"):
        field = seconds["properties"][name]
        assert field["type"] == "number" and field["minimum"] == 0
        assert field["x-unit"] == "seconds" and field["description"].startswith("Seconds")
    for model in ("TaskStatus", "TaskAccepted"):
        field = schemas[model]["properties"]["estimated_seconds"]
        assert {"$ref": "#/components/schemas/SecondsEstimate"} in field["anyOf"]
        assert field["x-unit"] == "seconds" and "seconds" in field["description"].lower()
    actual = schemas["TaskStatus"]["properties"]["actual_seconds"]
    assert {"type": "number", "minimum": 0} in actual["anyOf"]
    assert actual["x-unit"] == "seconds"


def test_who_gets_a_pilot() -> None:
    assert why_not("auto", {}) is None  # the defaults: 4 x 1000 x 1000
    assert "too short" in str(why_not("auto", QUICK))
    assert why_not("always", QUICK) is None
    assert "BAYESMMM_ESTIMATE_TIME" in str(why_not("never", {}))
    assert "advi" in str(why_not("always", {"method": "advi"}))
    assert "small data (624 rows x channels" in str(why_not("auto", {}, 624))
    assert why_not("auto", {}, 1572) is None  # 131 weeks x 2 geos x 6 channels
    assert why_not("always", QUICK, 624) is None


def _service(make_service: ServiceFactory, seen: dict[str, Any]) -> tuple[Service, TestClient]:
    """A service whose fits read getTaskStatus right after the worker's estimate."""
    holder: dict[str, Any] = {}

    def run(payload: JobPayload, emit: Any) -> dict[str, Any]:
        def spy(kind: str, **fields: Any) -> None:
            emit(kind, **fields)
            if kind == "estimate":  # the worker planned the job; the fit has not begun
                holder["service"].dispatcher.handle_events()
                seen.update(holder["client"].get(f"/v1/tasks/{payload.task_id}").json())
        return run_fit(payload, spy)

    service = make_service(InlineExecutor(run), estimate_time="always")
    client = TestClient(create_app(service=service, manage=False))
    holder.update(service=service, client=client)
    return service, client


def test_a_range_while_running_then_the_actual_seconds(make_service: ServiceFactory) -> None:
    seen: dict[str, Any] = {}
    service, client = _service(make_service, seen)
    accepted = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()
    assert accepted["estimated_seconds"] is None and accepted["estimate_note"] == PENDING_NOTE
    task = accepted["task_id"]
    assert client.get(f"/v1/tasks/{task}").json()["estimate_note"] == PENDING_NOTE
    service.drain()

    assert seen["status"] == "running" and seen["actual_seconds"] is None
    during = seen["estimated_seconds"]
    assert 0 < during["low"] <= during["expected"] <= during["high"]
    assert seen["estimate_note"].startswith("from a pilot chain on the data: about")

    done = client.get(f"/v1/tasks/{task}").json()
    assert done["status"] == "completed", done
    assert done["estimated_seconds"] == during  # kept with the job
    assert done["actual_seconds"] == done["fit_seconds"]["seconds_total"] > 0
    stored = service.store.get(task)
    assert stored is not None and stored.estimate is not None
    assert stored.estimate["seconds_measuring"] > 0


def test_a_failed_estimate_leaves_the_fit_alone(make_service: ServiceFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("pilot exploded")

    monkeypatch.setattr("bayesmmm.model.estimate_time", broken)
    seen: dict[str, Any] = {}
    service, client = _service(make_service, seen)
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    service.drain()
    assert seen["estimated_seconds"] is None and "pilot chain failed" in seen["estimate_note"]
    r = client.get(f"/v1/tasks/{task}")
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "completed" and done["estimated_seconds"] is None
    assert "RuntimeError" in done["estimate_note"] and done["actual_seconds"] > 0


def test_a_store_from_before_the_estimate_opens(make_service: ServiceFactory,
                                                tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(engine, "0002")
    now = "2026-12-01 10:00:00"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO bayesmmm_jobs (id, owner, status, spec, sampler, input_name, "
            "input_key, created_at, updated_at, started_at, finished_at, progress, attempts, "
            "result) VALUES ('old', '', 'completed', :spec, :sampler, 'x.csv', 'old/input', "
            ":t, :t, :t, :t, 1.0, 1, :result)"),
            {"spec": json.dumps({"channel_columns": ["x1"]}), "sampler": json.dumps(QUICK),
             "t": now, "result": json.dumps({"seconds": {"seconds_total": 4.5}})})
    engine.dispose()

    service = make_service()  # migrates to the newest revision
    assert current_revision(service.store.engine) == "0003"
    client = TestClient(create_app(service=service, manage=False))
    r = client.get("/v1/tasks/old")
    assert r.status_code == 200, r.text
    old = r.json()
    assert old["estimated_seconds"] is None and old["actual_seconds"] == 4.5
    assert old["estimate_note"].startswith("not estimated")
    assert client.get("/v1/tasks").json()["tasks"][0]["task_id"] == "old"
