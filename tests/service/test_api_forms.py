"""runMMMAsync's ``forms``: a structure search on the worker, its averaged fit stored and
served, and every answer saying which structures carry the weight; bad values refused
with a 422 naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import bayesmmm as bm
from bayesmmm.service import InlineExecutor, Service, Settings, create_app
from tests.service.conftest import FORM, ServiceFactory, example_bytes, upload

#: Two candidates (geometric or delayed adstock, logistic saturation) at settings that
#: converge on the example: the search takes seconds (two pilots, one or two full fits).
CANDIDATES = {"adstock": ["geometric", "delayed"], "saturation": ["logistic"]}
SEARCH = {**FORM, "chains": "2", "warmup": "200", "draws": "150", "seed": "3",
          "forms": json.dumps(CANDIDATES)}


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[TestClient, str, Service, list[tuple[str, float]]]]:
    """A service with one completed structure search of the example, and the progress
    phases its worker reported."""
    root = tmp_path_factory.mktemp("forms")
    settings = Settings(database_url=f"sqlite:///{root / 'jobs.db'}",
                        artifacts="memory://forms", instance="forms")
    service = Service.build(settings, executor=InlineExecutor())
    service.start(background=False)
    seen: list[tuple[str, float]] = []
    post = service.executor._post  # type: ignore[attr-defined]

    def spy(event: Any) -> None:
        if event.kind == "progress":
            seen.append((event.data["phase"], event.data["fraction"]))
        post(event)

    service.executor._post = spy  # type: ignore[attr-defined]
    client = TestClient(create_app(service=service, manage=False))
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=SEARCH)
    assert r.status_code == 202, r.text
    service.drain()
    yield client, r.json()["task_id"], service, seen
    service.stop()


def _carried(answer: dict[str, Any]) -> None:
    rows = answer["structures"]
    assert [r["structure"] for r in rows] and {r["structure"] for r in rows} == {
        "geometric+logistic", "delayed+logistic"}
    assert sum(r["weight"] for r in rows) == pytest.approx(1.0)
    assert rows[0]["weight"] >= rows[-1]["weight"]  # heaviest first
    assert all(r["why_left_out"] for r in rows if r["weight"] == 0)
    assert answer["carried_by"].startswith("averaged over structures: ")


def test_search_completes_and_stores_an_averaged_fit(searched: Any, tmp_path: Path) -> None:
    client, task_id, _, seen = searched
    s = client.get(f"/v1/tasks/{task_id}").json()
    assert s["status"] == "completed", s["error"]
    assert s["forms"] == CANDIDATES and "forms" not in s["sampler"]
    assert s["estimated_seconds"] is None and "structure search" in s["estimate_note"]
    assert {"seconds_total", "seconds_pilots"} <= set(s["fit_seconds"])
    _carried(s)
    phases = [p for p, _ in seen]
    assert "pilots" in phases and "fits" in phases
    fractions = [f for p, f in seen if p in ("pilots", "fits")]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    r = client.get(f"/v1/tasks/{task_id}/fit")
    assert r.status_code == 200
    path = tmp_path / "fit.nc"
    path.write_bytes(r.content)
    fitted = bm.load(path)
    assert isinstance(fitted, bm.AveragedFit)
    assert set(fitted.fits) <= {"geometric+logistic", "delayed+logistic"}
    listed = client.get("/v1/tasks").json()["tasks"][0]
    assert listed["forms"] == CANDIDATES and listed["structures"]


def test_answers_carry_the_structures(searched: Any) -> None:
    client, task_id, _, _ = searched
    base = f"/v1/tasks/{task_id}"
    summary = client.get(f"{base}/summary").json()
    assert {"model", "weight"} <= set(summary["summary"][0])  # a block per structure
    _carried(summary)
    for path, params in [("roi", {}), ("media-share", {}),
                         ("contributions", {"by": "channel", "freq": "Q"})]:
        r = client.get(f"{base}/{path}", params=params)
        assert r.status_code == 200, r.text
        _carried(r.json())
    roi = client.get(f"{base}/roi").json()
    assert [row["channel"] for row in roi["rows"]] == ["x1", "x2"]
    r = client.get(f"{base}/plots/roi")
    assert r.status_code == 200 and "data" in r.json()


def test_planning_on_an_averaged_fit(searched: Any) -> None:
    pytest.importorskip("bayesmmm.optimize")
    client, task_id, _, _ = searched
    base = f"/v1/tasks/{task_id}"
    r = client.get(f"{base}/response-curves")
    assert r.status_code == 200, r.text
    assert {"multiplier", "sales", "marginal_roi"} <= set(r.json()["curves"][0])
    _carried(r.json())
    r = client.post(f"{base}/optimize", json={"n_periods": 13, "budget": 20})
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["budget"] == pytest.approx(20)
    _carried(r.json())
    r = client.post(f"{base}/what-if", json={"channel": "x1", "spend_increase": 2,
                                              "n_periods": 13})
    assert r.status_code == 200, r.text
    _carried(r.json())


def test_one_structure_answers_say_none(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in ("TableResponse", "SummaryResponse", "TaskStatus"):
        assert {"structures", "carried_by"} <= set(schemas[name]["properties"])
    forms = schemas["RunMMMRequest"]["properties"]["forms"]
    assert forms["default"] == "spec" and "auto" in forms["description"]
    candidates = schemas["FormCandidates"]["properties"]
    assert candidates["adstock"]["maxItems"] == 5 and candidates["saturation"]["minItems"] == 1
    assert "geometric" in candidates["adstock"]["items"]["enum"]
    options = client.get("/v1/model-options").json()
    assert options["structure_search"]["candidates"] == 9
    assert options["defaults"]["forms"] == "spec"


@pytest.mark.parametrize(("fields", "words"), [
    ({"forms": "automatic"}, "forms"),
    ({"forms": json.dumps({"adstock": ["geo"]})}, "forms.candidates.adstock"),
    ({"forms": json.dumps({"adstock": ["geometric", "geometric"]})}, "twice"),
    ({"forms": json.dumps({"adstock": ["geometric", "delayed", "weibull_pdf", "binomial"],
                           "saturation": ["hill", "logistic", "tanh"]})}, "over the limit of 9"),
    ({"forms": json.dumps({"adstock": ["geometric"], "shape": ["x"]})}, "shape"),
    ({"forms": "auto", "adstock": "delayed"}, "also fixes adstock"),
    ({"forms": "auto", "chains": "1"}, "chains=2 or more"),
    ({"forms": "auto", "method": "advi"}, "method='nuts'"),
], ids=["unknown-word", "unknown-form", "twice", "too-many", "extra-key", "fixed-too",
        "one-chain", "advi"])
def test_bad_forms_answer_422_naming_the_field(client: TestClient, fields: dict[str, str],
                                               words: str) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes()),
                    data={**FORM, "chains": "2", **fields})
    assert r.status_code == 422, r.text
    body = r.json()
    assert "forms" in body["detail"] and words in body["detail"] and "Fix:" in body["detail"]
    assert any(e["field"].startswith("forms") for e in body["errors"])


def test_forms_as_json_body_and_preset(make_service: ServiceFactory, http_files: str) -> None:
    service = make_service(download_allow="127.0.0.1/32")
    client = TestClient(create_app(service=service, manage=False))
    body = {"date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
            "chains": 2, "preset": "hill_adstock", "forms": "auto",
            "openaiFileIdRefs": [{"download_link": f"{http_files}/example.csv"}]}
    r = client.post("/v1/tasks", json=body)
    assert r.status_code == 202, r.text
    s = client.get(f"/v1/tasks/{r.json()['task_id']}").json()
    assert s["forms"] == "auto" and s["structures"] is None
    assert s["spec"]["trend"] == "power"  # the preset gives all but the forms
    r = client.post("/v1/tasks", json={**body, "forms": {"adstock": "geometric"}})
    assert r.status_code == 422 and "forms" in r.json()["detail"]
