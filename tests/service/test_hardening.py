"""Issue 24 (hardening), the service's items: each test fails on the code before the fix.

5 Excel fix that keeps the workbook · 8 bounded requests, planning on the workers ·
9 deep JSON and strict JSON types · 10 holidays checked at submit · 11 artifact
checksums, damaged fits reported, re-run · 12 store writes: health, 503, no orphans,
backoff · 13 SSRF through IPv4 embedded in IPv6 · 14 graceful stops, private store,
keyed key hashes, health, nosniff, /docs offline, multipart names.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import logging
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bayesmmm.service import InlineExecutor, JobStore, Service, Settings, create_app
from bayesmmm.service.api._fetch import Fetcher, is_blocked
from bayesmmm.service.api._security import legacy_owner_of, owner_of
from bayesmmm.service.jobs import CallFailed
from bayesmmm.service.store._store import make_engine
from tests.service.conftest import BODY, FORM, ServiceFactory, example_bytes, upload


def _service(root: Path, name: str = "h", store: JobStore | None = None,
             executor: Any = None, **settings: Any) -> Service:
    options = {"database_url": f"sqlite:///{root / 'jobs.db'}",
               "artifacts": str(root / "artifacts"), "instance": name, **settings}
    service = Service.build(Settings(**options), store=store,
                            executor=executor or InlineExecutor())
    service.start(background=False)
    return service


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Service]]:
    """A completed fit of the example, artifacts in a local folder."""
    service = _service(tmp_path_factory.mktemp("hardening"))
    client = TestClient(create_app(service=service, manage=False))
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
    assert r.status_code == 202, r.text
    service.drain()
    yield client, r.json()["task_id"], service
    service.stop()


def _fix_named(r: httpx.Response, field: str) -> None:
    """A refusal that names the field and gives a fix."""
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert field in detail and "Fix:" in detail, detail


# -- 5: the fix for an Excel upload converts it, never overwrites it -----------------------
def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def test_excel_upload_fix_writes_a_csv_beside_the_workbook(client: TestClient) -> None:
    r = client.post("/v1/tasks", files=upload(_xlsx(), "sales.xlsx"), data=FORM)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "pd.read_excel('sales.xlsx').to_csv('sales.csv', index=False)" in detail
    assert ".to_csv('sales.xlsx'" not in detail
    assert "/tmp" not in detail and "bayesmmm-upload" not in detail


# -- 8: every number bounded; planning runs on the workers -----------------------------------
@pytest.mark.parametrize(("path", "body", "field"), [
    ("optimize", {"n_periods": 100_000_000}, "n_periods"),
    ("optimize", {"n_periods": 13, "gap": 10**6}, "gap"),
    ("optimize", {"n_periods": 13, "budget": 1e300}, "budget"),
    ("optimize", {"n_periods": 13, "target_roi": 1e9}, "target_roi"),
    ("what-if", {"channel": "x1", "spend_increase": 1e300, "n_periods": 13}, "spend_increase"),
    ("what-if", {"channel": "x1", "spend_increase": 5, "n_periods": 1_000_000}, "n_periods"),
    ("scenarios", {"scenarios": {f"s{i}": {"x1": 5} for i in range(51)}, "n_periods": 13},
     "scenarios"),
    ("scenarios", {"scenarios": {"a": {"x1": 1e9}}, "n_periods": 13}, "limit"),
], ids=["periods", "gap", "budget", "target-roi", "spend", "whatif-periods", "n-scenarios",
        "percent"])
def test_planning_numbers_have_limits(done: tuple[TestClient, str, Service], path: str,
                                      body: dict[str, Any], field: str) -> None:
    client, task_id, _ = done
    r = client.post(f"/v1/tasks/{task_id}/{path}", json=body)
    assert r.status_code == 422, r.text
    _fix_named(r, field)


@pytest.mark.parametrize(("change", "field"), [
    ({"adstock_max_lag": "500"}, "adstock_max_lag"),
    ({"yearly_seasonality": "400"}, "yearly_seasonality"),
    ({"model_options": '{"adstock_max_lag": 500}'}, "adstock_max_lag"),
    ({"model_options": '{"trend": "piecewise", "trend_changepoints": 100000}'},
     "trend_changepoints"),
    ({"draws": "10000000"}, "draws"),
], ids=["lag", "seasonality", "lag-in-options", "changepoints", "draws"])
def test_model_numbers_have_limits(client: TestClient, change: dict[str, str],
                                   field: str) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes()), data={**FORM, **change})
    assert r.status_code == 422, r.text
    _fix_named(r, field)
    assert client.get("/v1/tasks", params={"offset": 10**9}).status_code == 422


class _Recording(InlineExecutor):
    """Runs planning calls as the workers would, and remembers them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.fail: str | None = None

    def call(self, fn: Any, arg: Any, timeout: float) -> Any:
        self.calls.append(arg.kind)
        if self.fail:
            raise CallFailed(self.fail, "KilledWorker")
        return super().call(fn, arg, timeout)


def test_planning_runs_on_the_executor_not_in_the_api(tmp_path: Path) -> None:
    executor = _Recording()
    service = _service(tmp_path, executor=executor, plan_timeout=7)
    client = TestClient(create_app(service=service, manage=False))
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    service.drain()
    r = client.post(f"/v1/tasks/{task}/optimize", json={"n_periods": 13, "budget": 20})
    assert r.status_code == 200, r.text
    assert r.json()["comparison"] == "historical mix"
    r = client.post(f"/v1/tasks/{task}/what-if",
                    json={"channel": "x1", "spend_increase": 2, "n_periods": 13})
    assert r.status_code == 200
    assert executor.calls == ["optimize", "what_if"]
    executor.fail = "timeout"
    r = client.post(f"/v1/tasks/{task}/optimize", json={"n_periods": 13})
    assert r.status_code == 504 and "longer than 7 s" in r.json()["detail"]
    executor.fail = "lost"
    r = client.post(f"/v1/tasks/{task}/scenarios",
                    json={"scenarios": {"a": {"x1": 10}}, "n_periods": 13})
    assert r.status_code == 503 and "KilledWorker" in r.json()["detail"]
    service.stop()


# -- 9: deep JSON is a 422; JSON types are strict ----------------------------------------
@pytest.mark.parametrize("where", ["body", "model_options", "channel_columns", "optimize"])
def test_deeply_nested_json_is_refused(done: tuple[TestClient, str, Service],
                                       where: str) -> None:
    client, task_id, _ = done
    deep = "[" * 5000 + "]" * 5000
    body = json.dumps({**BODY, "model_options": {}}).replace('"model_options": {}', "%s")
    if where == "body":
        text, path = deep, "/v1/tasks"
    elif where == "optimize":
        text, path = '{"n_periods": ' + deep + "}", f"/v1/tasks/{task_id}/optimize"
    elif where == "model_options":
        text, path = body % ('"model_options": ' + '{"a": ' * 60 + "1" + "}" * 60), "/v1/tasks"
    else:
        text, path = body % ('"model_options": {}, "channel_columns": ' + deep), "/v1/tasks"
    r = client.post(path, content=text, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert "nested deeper than 32 levels" in r.json()["detail"]
    # the connection stays usable
    assert client.get("/v1/health").status_code == 200
    r = client.post("/v1/tasks", files=upload(example_bytes()),
                    data={**FORM, "model_options": '{"a":' * 50 + "1" + "}" * 50})
    assert r.status_code == 422 and "model_options" in r.json()["detail"]


@pytest.mark.parametrize("value", ["4", 4.0, True], ids=["text", "float", "bool"])
def test_json_numbers_are_strict(client: TestClient, value: Any) -> None:
    body = {**BODY, "chains": value, "openaiFileIdRefs": [
        {"download_link": "http://example.invalid/x.csv"}]}
    r = client.post("/v1/tasks", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "chains"
    _fix_named(r, "chains")
    r = client.post("/v1/tasks", files=upload(example_bytes()), data={**FORM, "chains": "true"})
    assert r.status_code == 422 and "chains" in r.json()["detail"]


def test_plan_json_numbers_are_strict(done: tuple[TestClient, str, Service]) -> None:
    client, task_id, _ = done
    for bad in ("13", 13.0, True):
        r = client.post(f"/v1/tasks/{task_id}/optimize", json={"n_periods": bad})
        assert r.status_code == 422, (bad, r.text)
        _fix_named(r, "n_periods")


# -- 10: holidays checked at submission -------------------------------------------------
@pytest.mark.parametrize("code", ["XX", "../../etc/passwd"])
def test_unknown_holidays_refused_at_submit(client: TestClient, code: str) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes()), data={**FORM, "holidays": code})
    assert r.status_code == 422, r.text
    _fix_named(r, "holidays")
    assert client.get("/v1/tasks").json()["total"] == 0
    r = client.post("/v1/tasks", json={**BODY, "holidays": [code], "openaiFileIdRefs": [
        {"download_link": "http://example.invalid/x.csv"}]})
    assert r.status_code == 422 and "holidays" in r.json()["detail"]
    r = client.post("/v1/tasks", files=upload(example_bytes()), data={**FORM, "holidays": "US"})
    assert r.status_code == 202, r.text
    assert "US" in client.get("/v1/model-options").json()["holiday_countries"]


# -- 11: checksums, damaged fits, re-run --------------------------------------------------
@pytest.mark.parametrize("damage", ["garbage", "truncated", "deleted"])
def test_a_damaged_fit_is_reported_and_can_run_again(tmp_path: Path, damage: str) -> None:
    service = _service(tmp_path)
    client = TestClient(create_app(service=service, manage=False))
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    service.drain()
    job = service.store.get(task)
    assert job is not None and job.status == "completed" and job.fit_sha256
    path = tmp_path / "artifacts" / str(job.fit_key)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == job.fit_sha256
    if damage == "garbage":
        path.write_bytes(b"not a fit at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.unlink()
    kind = "missing" if damage == "deleted" else "damaged"
    for endpoint in ("/fit", "/summary", "/roi", "/plots/roi"):
        r = client.get(f"/v1/tasks/{task}{endpoint}")
        assert r.status_code == 409, (endpoint, r.status_code, r.text[:200])
        assert f"is {kind}" in r.json()["detail"] and "/rerun" in r.json()["detail"]
        assert str(tmp_path) not in r.text and "/tmp" not in r.text
    r = client.post(f"/v1/tasks/{task}/optimize", json={"n_periods": 13})
    assert r.status_code == 409 and f"is {kind}" in r.json()["detail"]
    status = client.get(f"/v1/tasks/{task}").json()
    assert status["status"] == "failed" and status["error"]["code"] == f"fit_{kind}"
    assert "Fix:" in status["error"]["message"]
    r = client.post(f"/v1/tasks/{task}/rerun")
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    assert r.json()["attempts"] == 0 and r.json()["error"] is None
    service.drain()
    again = client.get(f"/v1/tasks/{task}").json()
    assert again["status"] == "completed" and again["attempts"] == 1
    r = client.get(f"/v1/tasks/{task}/fit")
    assert r.status_code == 200
    assert r.headers["x-checksum-sha256"] == hashlib.sha256(r.content).hexdigest()
    assert client.post(f"/v1/tasks/{task}/rerun").status_code == 409  # completed
    service.stop()


def test_a_damaged_input_fails_the_run_and_the_rerun_says_so(tmp_path: Path) -> None:
    service = _service(tmp_path)
    client = TestClient(create_app(service=service, manage=False))
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    (tmp_path / "artifacts" / task / "input").write_bytes(b"date,y\n")  # changed on disk
    service.drain()
    status = client.get(f"/v1/tasks/{task}").json()
    assert status["status"] == "failed" and status["error"]["code"] == "input_damaged"
    r = client.post(f"/v1/tasks/{task}/rerun")
    assert r.status_code == 409 and "submit the data again" in r.json()["detail"]
    service.stop()


# -- 12: a store that refuses writes --------------------------------------------------------
def _inputs(root: Path) -> set[str]:
    folder = root / "artifacts"
    return {p.parent.name for p in folder.glob("*/input")} if folder.exists() else set()


def test_health_reports_a_writable_store(client: TestClient) -> None:
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["store"]["writable"] is True
    assert health["dispatcher"]["state"] == "ok"


def test_locked_store_answers_503_and_keeps_nothing(tmp_path: Path) -> None:
    service = _service(tmp_path, store_timeout=0.5)
    client = TestClient(create_app(service=service, manage=False))
    accepted = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()
    holder = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the store
    try:
        r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "store_unavailable" and r.json()["store"] == "locked"
        assert "write lock" in r.json()["detail"] and "Fix:" in r.json()["detail"]
        assert r.headers["retry-after"]
        assert _inputs(tmp_path) == {accepted["task_id"]}  # no orphaned input file
        health = client.get("/v1/health")
        assert health.status_code == 503
        body = health.json()
        assert body["database"] == "locked" and body["store"]["writable"] is False
        assert body["store"]["last_failure"]["operation"] in ("submit", "health check")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.get("/v1/health").json()["store"]["writable"] is True
    assert client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).status_code == 202
    service.stop()


def test_read_only_store_answers_503_reads_still_work(tmp_path: Path) -> None:
    writable = _service(tmp_path)
    client = TestClient(create_app(service=writable, manage=False))
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    writable.stop()
    ro_url = f"sqlite:///file:{tmp_path / 'jobs.db'}?mode=ro&uri=true"
    service = _service(tmp_path, "ro", database_url=ro_url)  # read-only from the start
    client = TestClient(create_app(service=service, manage=False))
    assert client.get(f"/v1/tasks/{task}").json()["status"] == "pending"
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
    assert r.status_code == 503 and r.json()["store"] == "read_only", r.text
    assert _inputs(tmp_path) == {task}
    r = client.post(f"/v1/tasks/{task}/cancel")
    assert r.status_code == 503
    assert client.get("/v1/health").status_code == 503  # the next request still answers
    health = client.get("/v1/health").json()
    assert health["database"] == "read_only" and health["store"]["writable"] is False
    service.stop()


def test_full_store_answers_503_and_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    setup = JobStore(url)
    setup.migrate()
    with setup.engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    setup.dispose()
    engine = make_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _limit(dbapi: Any, _: Any) -> None:  # a disk that is full after a few more pages
        dbapi.execute(f"PRAGMA max_page_count={pages + 12}")

    service = _service(tmp_path, store=JobStore(engine))
    client = TestClient(create_app(service=service, manage=False))
    accepted, refused = [], None
    for _ in range(200):
        r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
        if r.status_code != 202:
            refused = r
            break
        accepted.append(r.json()["task_id"])
    assert refused is not None and refused.status_code == 503, "the store never filled up"
    assert refused.json()["store"] == "full" and "full" in refused.json()["detail"]
    assert _inputs(tmp_path) == set(accepted)  # nothing orphaned
    listed = client.get("/v1/tasks", params={"limit": 200}).json()
    assert sorted(t["task_id"] for t in listed["tasks"]) == sorted(accepted)  # none lost
    health = client.get("/v1/health")
    assert health.status_code == 503 and health.json()["database"] == "full"
    service.stop()


class _BrokenStore(JobStore):
    """A store whose writes are refused (read-only) until ``healed``."""

    healed = False

    def claim(self, *args: Any, **kwargs: Any) -> Any:
        if not self.healed:
            from bayesmmm.service._errors import StoreUnavailable

            raise StoreUnavailable("read_only", "the job store is read-only")
        return super().claim(*args, **kwargs)


def test_dispatcher_backs_off_and_logs_once_per_state(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    store = _BrokenStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    service = _service(tmp_path, store=store)
    dispatcher = service.dispatcher
    caplog.set_level(logging.INFO, logger="bayesmmm.service")
    waits = []
    for _ in range(8):  # what the loop does, without its sleeps
        try:
            dispatcher.run_once()
        except Exception as exc:
            dispatcher._failed(exc)
            waits.append(dispatcher.backoff())
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]
    state = dispatcher.state()
    assert state["state"] == "failing" and "read-only" in state["reason"]
    assert state["failed_passes"] == 8
    client = TestClient(create_app(service=service, manage=False))
    assert client.get("/v1/health").json()["dispatcher"]["state"] == "failing"
    store.healed = True
    dispatcher.run_once()
    dispatcher._recovered_from_failure()
    assert dispatcher.state()["state"] == "ok"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("refuses writes" in m for m in messages) == 1  # once, not per pass
    assert sum("work again" in m for m in messages) == 1
    assert not any(r.exc_info for r in caplog.records)  # no tracebacks
    service.stop()


# -- 13: IPv4 inside IPv6 -------------------------------------------------------------------
@pytest.mark.parametrize(("address", "blocked"), [
    ("::127.0.0.1", True), ("64:ff9b::7f00:1", True), ("::ffff:0:7f00:1", True),
    ("64:ff9b:1::a00:1", True), ("2002:7f00:1::", True), ("2002:a9fe:a9fe::", True),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", True), ("fec0::1", True), ("::8.8.8.8", True),
    ("64:ff9b::808:808", False), ("::ffff:8.8.8.8", False), ("2002:808:808::1", False),
    ("::ffff:0:808:808", False),
])
def test_embedded_ipv4_is_checked(address: str, blocked: bool) -> None:
    assert is_blocked(ipaddress.ip_address(address)) is blocked


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[::ffff:0:7f00:1]"])
def test_embedded_loopback_links_never_connect(host: str) -> None:
    import asyncio

    tried: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tried.append(str(request.url))
        return httpx.Response(200, content=b"date,y\n")

    fetcher = Fetcher(10**6, 5, transport=httpx.MockTransport(handler))
    from bayesmmm.service import DownloadError

    with pytest.raises(DownloadError, match="private, loopback"):
        asyncio.run(fetcher.fetch(f"http://{host}/x.csv"))
    assert tried == []


# -- 14: smaller points -----------------------------------------------------------------------
def test_graceful_stop_does_not_use_an_attempt(tmp_path: Path) -> None:
    first = _service(tmp_path, "host:8000")
    client = TestClient(create_app(service=first, manage=False))
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM).json()["task_id"]
    first.dispatcher.run_once()
    payload = first.executor.queue[0]  # type: ignore[attr-defined]
    from bayesmmm.service import JobEvent

    first.dispatcher.post(JobEvent("started", task, payload.token, {"worker": "w"}))
    first.dispatcher.handle_events()
    assert first.store.get(task).attempts == 1  # type: ignore[union-attr]
    first.stop()  # SIGTERM: a graceful stop hands the job back
    job = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}").get(task)
    assert job is not None and (job.status, job.attempts) == ("pending", 0)
    second = _service(tmp_path, "host:8000")
    second.drain()
    done_job = second.store.get(task)
    assert done_job is not None and (done_job.status, done_job.attempts) == ("completed", 1)
    second.stop()


def test_store_file_is_private(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    for path in (tmp_path / "new" / "service.db", old):
        service = _service(tmp_path, database_url=f"sqlite:///{path}")
        TestClient(create_app(service=service, manage=False)).get("/v1/health")
        assert path.stat().st_mode & 0o777 == 0o600, oct(path.stat().st_mode)
        service.stop()


def test_api_keys_are_stored_as_keyed_hashes(tmp_path: Path) -> None:
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.migrate()
    legacy = store.create(owner=legacy_owner_of("key-a"), spec={}, sampler={},
                          input_name="x.csv", input_key="none/input").id  # older version
    store.dispose()
    service = _service(tmp_path, api_keys=("key-a",))
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    client = TestClient(create_app(service=service, manage=False))
    headers = {"X-API-Key": "key-a"}
    assert client.get(f"/v1/tasks/{legacy}", headers=headers).status_code == 200  # migrated
    task = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM,
                       headers=headers).json()["task_id"]
    owner = service.store.get(task).owner  # type: ignore[union-attr]
    assert owner != hashlib.sha256(b"key-a").hexdigest()[:32]
    assert owner == service.store.get(legacy).owner  # type: ignore[union-attr]
    assert owner == owner_of("key-a", (tmp_path / "secret").read_bytes())
    assert owner != owner_of("key-a", b"another secret")  # the hash needs the secret
    service.stop()


class _Remote(InlineExecutor):
    def info(self) -> dict[str, Any]:
        return {"executor": "dask", "scheduler": "tcp://10.1.2.3:8786", "workers": 2}


def test_health_shows_the_scheduler_only_with_a_key(tmp_path: Path) -> None:
    service = _service(tmp_path, executor=_Remote(), api_keys=("key-a",))
    client = TestClient(create_app(service=service, manage=False))
    anonymous = client.get("/v1/health")
    assert anonymous.status_code == 200 and "10.1.2.3" not in anonymous.text
    assert anonymous.json()["executor"]["workers"] == 2
    wrong = client.get("/v1/health", headers={"X-API-Key": "nope"})
    assert "10.1.2.3" not in wrong.text
    keyed = client.get("/v1/health", headers={"Authorization": "Bearer key-a"})
    assert keyed.json()["executor"]["scheduler"] == "tcp://10.1.2.3:8786"
    service.stop()


def test_nosniff_everywhere_and_docs_offline(make_service: ServiceFactory) -> None:
    service = make_service(max_upload_bytes=10_000)
    client = TestClient(create_app(service=service, manage=False))
    responses = [client.get("/"), client.get("/static/app.css"), client.get("/docs"),
                 client.get("/openapi.json"), client.get("/v1/health"),
                 client.get("/v1/tasks/AAAAAAAAAAAAAAAAAAAAAA"), client.get("/nowhere"),
                 client.post("/v1/tasks", content=b"x" * 2_000_000,
                             headers={"Content-Type": "application/json"}),
                 client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)]
    for r in responses:
        assert r.headers.get("x-content-type-options") == "nosniff", (r.url, r.status_code)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "https://" not in docs.text
    assert "/openapi.json" in docs.text
    assert client.get("/redoc").status_code == 404


def test_multipart_file_without_a_name(client: TestClient) -> None:
    r = client.post("/v1/tasks", files={"file": (None, example_bytes(), "text/csv")}, data=FORM)
    assert r.status_code == 422, r.text
    assert "without a file name" in r.json()["detail"]
    assert "Extra inputs" not in r.json()["detail"]
    _fix_named(r, "file")


@pytest.mark.parametrize("length", [300, 5000])
def test_very_long_file_names(client: TestClient, length: int) -> None:
    r = client.post("/v1/tasks", files=upload(example_bytes(), "a" * length + ".csv"), data=FORM)
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert "file name" in detail and "Fix:" in detail and "sales.csv" in detail


def test_no_server_paths_in_library_errors(tmp_path: Path) -> None:
    service = _service(tmp_path)
    client = TestClient(create_app(service=service, manage=False))
    r = client.post("/v1/tasks", files=upload(b"\x1f\x8b\x08garbage", "sales.csv.gz"), data=FORM)
    assert r.status_code == 422 and str(tmp_path) not in r.text and "/tmp" not in r.text
    service.stop()


def test_probe_write_reports_a_lock_on_either_database(store: JobStore) -> None:
    from bayesmmm.service._errors import StoreUnavailable

    store.probe_write()
    assert store.health.failure is None
    if store.engine.dialect.name == "sqlite":
        holder: Any = sqlite3.connect(str(store.engine.url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = store.engine.connect()
        holder.begin()
        holder.execute(sa.text("LOCK TABLE bayesmmm_probe IN ACCESS EXCLUSIVE MODE"))
    try:
        with pytest.raises(StoreUnavailable) as refused:
            store.probe_write(timeout=0.5)
        assert refused.value.kind == "locked" and refused.value.status == 503
        assert store.health.failure is not None and store.health.failure.kind == "locked"
    finally:
        if store.engine.dialect.name == "sqlite":
            holder.execute("ROLLBACK")
        else:
            holder.rollback()
        holder.close()
    store.probe_write()
    assert store.health.failure is None


def test_planning_answers_are_json_without_nan(done: tuple[TestClient, str, Service]) -> None:
    """Found by the service fuzz suite: a target-ROI plan has no objective value (NaN),
    which made the answer unencodable (500)."""
    client, task_id, _ = done
    r = client.post(f"/v1/tasks/{task_id}/optimize", json={"n_periods": 4, "target_roi": 1})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["totals"]["objective"] is None
