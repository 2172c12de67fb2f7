"""runMMMAsync: accepted submissions, and every way a submission is refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import bayesmmm as bm
from bayesmmm.service import Service, create_app
from tests.service.conftest import BODY, FORM, ServiceFactory, example_bytes, upload


def _csv(df: Any) -> bytes:
    return str(df.to_csv(index=False)).encode()


def test_upload_is_accepted_and_queued(client: TestClient, service: Service) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "pending"
    assert len(body["task_id"]) >= 22  # 128 random bits
    status = client.get(f"/v1/tasks/{body['task_id']}").json()
    assert status["status"] == "pending" and status["phase"] == "queued"
    assert status["input_name"] == "example.csv"
    assert status["spec"]["channel_columns"] == ["x1", "x2"]
    assert status["sampler"] == {"chains": 1, "warmup": 100, "draws": 100,
                                 "target_accept": 0.8, "seed": 3, "dense_mass": False,
                                 "centring": "auto", "time_limit": None}
    job = service.store.get(body["task_id"])
    assert job is not None and service.artifacts.get(job.input_key) == example_bytes()
    timed = client.post("/v1/tasks", files=upload(example_bytes()),
                        data={**FORM, "time_limit": "600"}).json()
    assert client.get(f"/v1/tasks/{timed['task_id']}").json()["sampler"]["time_limit"] == 600


def test_task_ids_are_unique_and_unguessable(client: TestClient) -> None:
    ids = {client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
           for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 22 for i in ids)


@pytest.mark.parametrize("form", [
    {**FORM, "channel_columns": ["x1", "x2"]},           # repeated fields
    {**FORM, "channel_columns": '["x1", "x2"]'},         # a JSON array
    {**FORM, "model_options": '{"trend": "linear"}'},     # any other ModelSpec field
    {**FORM, "preset": "classic", "adstock_max_lag": "4"},
], ids=["repeated", "json-list", "model-options", "preset"])
def test_form_field_styles(client: TestClient, form: dict[str, Any]) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=form)
    assert r.status_code == 202, r.text
    spec = client.get(f"/v1/tasks/{r.json()['task_id']}").json()["spec"]
    assert spec["channel_columns"] == ["x1", "x2"]
    if "model_options" in form:
        assert spec["trend"] == "linear"
    if "preset" in form:
        assert spec["adstock_max_lag"] == 4


def test_schema_defaults_leave_a_presets_own_values(client: TestClient) -> None:
    """adstock_max_lag's schema default (8) is the classic model's; a preset that sets its
    own length keeps it unless the request sends one."""
    def spec_of(extra: dict[str, str]) -> dict[str, Any]:
        r = client.post("/v1/tasks", files=upload(example_bytes()), data={**FORM, **extra})
        assert r.status_code == 202, r.text
        return dict(client.get(f"/v1/tasks/{r.json()['task_id']}").json()["spec"])

    assert spec_of({})["adstock_max_lag"] == 8 and spec_of({})["yearly_seasonality"] == 2
    assert spec_of({"preset": "carryover"})["adstock_max_lag"] == 13
    assert spec_of({"preset": "carryover", "adstock_max_lag": "6"})["adstock_max_lag"] == 6


def test_missing_columns_refused_with_the_cli_report(client: TestClient) -> None:
    data = _csv(bm.example_data().drop(columns=["x2"]))
    r = client.post("/v1/tasks", files=upload(data, "sales.csv"), data=FORM)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_data"
    assert "column 'x2'" in body["detail"]
    report = bm.validate(bm.example_data().drop(columns=["x2"]),
                         **bm.example_spec().data_kwargs()).to_dict()
    assert body["validation"] == report  # the same problems, rules and fixes as the CLI
    assert body["validation"]["errors"][0]["code"] == "missing_column"
    assert body["validation"]["errors"][0]["fix"]
    assert client.get("/v1/tasks").json()["total"] == 0  # nothing was queued


def test_bad_dates_refused(client: TestClient) -> None:
    df = bm.example_data()
    df.loc[5, "date_week"] = "2018-13-45"
    r = client.post("/v1/tasks", files=upload(_csv(df)), data=FORM)
    assert r.status_code == 422
    errors = r.json()["validation"]["errors"]
    assert [e["column"] for e in errors] == ["date_week"]
    assert "2018-13-45" in errors[0]["message"]
    assert errors[0]["fix"]


@pytest.mark.parametrize("content, fragment", [
    (b"PK\x03\x04 not really a workbook", "Excel workbook"),
    (b"\x00\x01\x02binary", "binary"),
    (b"date_week;y;x1\n2020-01-06;1;2\n", "semicolon-separated"),
], ids=["excel", "binary", "semicolons"])
def test_not_a_table_refused(client: TestClient, content: bytes, fragment: str) -> None:
    r = client.post("/v1/tasks", files=upload(content, "my data.csv"), data=FORM)
    assert r.status_code == 422
    assert r.json()["code"] == "unreadable_table"
    assert fragment in r.json()["detail"]
    assert "my data.csv" in r.json()["detail"]
    assert "/tmp" not in r.json()["detail"]  # no server path leaks


def test_empty_file_refused(client: TestClient) -> None:
    r = client.post("/v1/tasks", files=upload(b"  \n"), data=FORM)
    assert r.status_code == 422
    assert "is empty" in r.json()["detail"]


@pytest.mark.parametrize("change, fragment", [
    ({"adstock": "geo"}, "Unknown adstock 'geo'"),
    ({"model_options": '{"trend": "wiggly"}'}, "Unknown trend 'wiggly'"),
    ({"model_options": '{"colour": 1}'}, "Unknown spec field(s) ['colour']"),
    ({"model_options": '{"adstock": "geometric"}', "adstock": "geometric"},
     "given both as fields and inside model_options"),
    ({"preset": "nope"}, "nope"),
], ids=["adstock", "trend", "unknown-field", "twice", "preset"])
def test_invalid_model_options_refused(client: TestClient, change: dict[str, str],
                                       fragment: str) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes()), data={**FORM, **change})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_options"
    assert fragment in r.json()["detail"]


@pytest.mark.parametrize("change, fragment", [
    ({"chains": "0"}, "chains: Input should be greater than or equal to 1"),
    ({"target_accept": "1.5"}, "target_accept"),
    ({"y_column": None}, "y_column: Field required"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"model_options": "{not json"}, "'model_options' is not valid JSON"),
    ({"time_limit": "0"}, "time_limit: Input should be greater than 0"),
], ids=["chains", "target-accept", "missing-field", "extra-field", "bad-json", "time-limit"])
def test_invalid_fields_refused(client: TestClient, change: dict[str, Any],
                                fragment: str) -> None:
    form = {k: v for k, v in {**FORM, **change}.items() if v is not None}
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=form)
    assert r.status_code == 422
    assert fragment in r.json()["detail"]


def test_json_body_without_data_refused(client: TestClient) -> None:
    r = client.post("/v1/tasks", json=BODY)
    assert r.status_code == 422
    assert r.json()["code"] == "missing_data"
    assert "openaiFileIdRefs" in r.json()["detail"]


def test_file_and_link_together_refused(client: TestClient) -> None:
    form = {**FORM, "openaiFileIdRefs": "x"}
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=form)
    assert r.status_code == 422


def test_wrong_content_type_refused(client: TestClient) -> None:
    r = client.post("/v1/tasks", content=b"date,y", headers={"Content-Type": "text/csv"})
    assert r.status_code == 415
    assert "multipart/form-data" in r.json()["detail"]


def test_invalid_json_refused(client: TestClient) -> None:
    r = client.post("/v1/tasks", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["detail"]


def test_upload_over_the_limit_refused(make_service: ServiceFactory) -> None:
    service = make_service(max_upload_bytes=10_000)
    client = TestClient(create_app(service=service, manage=False))
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)  # 12.5 KB
    assert r.status_code == 413
    assert "0.0095" in r.json()["detail"] and "MB limit" in r.json()["detail"]
    big = example_bytes() * 90  # over the limit plus the room for form fields
    r = client.post("/v1/tasks", files=upload(big), data=FORM)
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"


def test_streamed_body_over_the_limit_refused(make_service: ServiceFactory) -> None:
    service = make_service(max_upload_bytes=10_000)
    client = TestClient(create_app(service=service, manage=False))

    def chunks():  # no Content-Length: the limit is enforced while the body streams in
        yield b'{"date_column": "'
        for _ in range(200):
            yield b"x" * 10_000
        yield b'"}'

    r = client.post("/v1/tasks", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"


# -- download links -------------------------------------------------------------------------
def _link(url: str) -> dict[str, Any]:
    return {**BODY, "openaiFileIdRefs": [{"name": "sales.csv", "id": "file-1",
                                          "mime_type": "text/csv", "download_link": url}]}


@pytest.fixture
def link_client(make_service: ServiceFactory) -> TestClient:
    """Loopback allowed (the test server), with a 1 MB limit and a 2.5 s timeout."""
    service = make_service(download_allow="127.0.0.1/32", max_upload_bytes=1024 * 1024,
                           download_timeout=2.5)
    return TestClient(create_app(service=service, manage=False))


def test_download_link_accepted(link_client: TestClient, http_files: str) -> None:
    r = link_client.post("/v1/tasks", json=_link(f"{http_files}/to-example"))
    assert r.status_code == 202, r.text
    status = link_client.get(f"/v1/tasks/{r.json()['task_id']}").json()
    assert status["input_name"] == "sales.csv"


@pytest.mark.parametrize("path, status, fragment", [
    ("/missing.csv", 422, "answered HTTP 404 (Not Found)"),
    ("/big.csv", 413, "larger than the 1 MB limit"),
    ("/big-chunked.csv", 413, "larger than the 1 MB limit"),
    ("/to-private", 422, "'10.1.2.3' is a private, loopback or link-local address"),
    ("/to-loopback", 422, "'127.0.0.2' is a private, loopback or link-local address"),
    ("/loop", 422, "redirected more than 5 times"),
    ("/slow.csv", 504, "did not finish within 2.5 s"),
    ("/bad-dates.csv", 422, "the data has 1 problem"),
], ids=["404", "too-large", "too-large-chunked", "redirect-private", "redirect-loopback",
        "redirect-loop", "timeout", "bad-dates"])
def test_bad_download_links(link_client: TestClient, http_files: str, path: str, status: int,
                            fragment: str) -> None:
    r = link_client.post("/v1/tasks", json=_link(http_files + path))
    assert r.status_code == status, r.text
    assert fragment in r.json()["detail"]


@pytest.mark.parametrize("url, fragment", [
    ("http://127.0.0.1:9/x.csv", "'127.0.0.1' is a private, loopback"),
    ("http://localhost:9/x.csv", "host 'localhost' ("),
    ("http://169.254.169.254/latest/meta-data", "'169.254.169.254' is a private"),
    ("http://10.0.0.8/x.csv", "'10.0.0.8' is a private"),
    ("http://[::1]:9/x.csv", "'::1' is a private"),
    ("http://[::ffff:192.168.1.1]/x.csv", "'::ffff:192.168.1.1' is a private"),
    ("http://2130706433/x.csv", "is a private"),
    ("file:///etc/passwd", "must use http or https, got file scheme"),
    ("ftp://example.com/x.csv", "must use http or https, got ftp scheme"),
    ("not a url", "must use http or https"),
], ids=["loopback", "localhost", "metadata", "private", "ipv6-loopback", "ipv4-mapped",
        "decimal-ip", "file", "ftp", "garbage"])
def test_private_and_odd_links_refused_by_default(client: TestClient, url: str,
                                                  fragment: str) -> None:
    r = client.post("/v1/tasks", json=_link(url))
    assert r.status_code == 422, r.text
    assert fragment in r.json()["detail"]


def test_unresolvable_host_refused(client: TestClient) -> None:
    r = client.post("/v1/tasks", json=_link("http://no-such-host.invalid/x.csv"))
    assert r.status_code == 422
    assert "could not be resolved" in r.json()["detail"]


def test_two_links_refused(client: TestClient) -> None:
    body = _link("http://example.com/a.csv")
    body["openaiFileIdRefs"] *= 2
    r = client.post("/v1/tasks", json=body)
    assert r.status_code == 422
    assert "2 openaiFileIdRefs" in r.json()["detail"]
