"""Service fixtures: a service with an inline executor (jobs run only when drained), a
local HTTP server for download links, and the example data."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

with warnings.catch_warnings():  # Starlette's note on httpx vs httpx2 in its test client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

import bayesmmm as bm  # noqa: E402
from bayesmmm.datasets import example_path  # noqa: E402
from bayesmmm.service import InlineExecutor, Service, Settings, create_app  # noqa: E402
from tests._databases import postgres_url  # noqa: E402

#: Tiny sampler settings: service tests check plumbing, not statistics.
QUICK = {"chains": 1, "warmup": 100, "draws": 100, "seed": 3}

#: The example's columns and tiny settings as multipart form fields.
FORM = {"date_column": "date_week", "y_column": "y", "channel_columns": "x1,x2",
        "control_columns": "event_1,event_2,t", **{k: str(v) for k, v in QUICK.items()}}

#: The same as a JSON body (without the data).
BODY = {"date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
        "control_columns": ["event_1", "event_2", "t"], **QUICK}


def example_bytes() -> bytes:
    return example_path().read_bytes()


def upload(content: bytes, name: str = "example.csv") -> dict[str, Any]:
    return {"file": (name, content, "text/csv")}


def completed_service(root: Path, name: str) -> tuple[TestClient, str, Service]:
    """A started service (inline executor, SQLite under ``root``) with one completed fit
    of the example at the tiny settings; the caller stops it."""
    settings = Settings(database_url=f"sqlite:///{root / 'jobs.db'}",
                        artifacts=f"memory://{name}", instance=name)
    service = Service.build(settings, executor=InlineExecutor())
    service.start(background=False)
    client = TestClient(create_app(service=service, manage=False))
    r = client.post("/v1/tasks", files=upload(example_bytes()), data=FORM)
    assert r.status_code == 202, r.text
    service.drain()
    return client, r.json()["task_id"], service


ServiceFactory = Callable[..., Service]


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[ServiceFactory]:
    """Build and start (without a background thread) services on a SQLite file."""
    made: list[Service] = []

    def factory(executor: Any = None, **overrides: Any) -> Service:
        settings = Settings(**{"database_url": f"sqlite:///{tmp_path / 'jobs.db'}",
                               "artifacts": str(tmp_path / "artifacts"), "instance": "test",
                               **overrides})
        service = Service.build(settings, executor=executor or InlineExecutor())
        service.start(background=False)
        made.append(service)
        return service

    yield factory
    for service in made:
        service.stop()


@pytest.fixture
def service(make_service: ServiceFactory) -> Service:
    return make_service()


@pytest.fixture
def client(service: Service) -> TestClient:
    return TestClient(create_app(service=service, manage=False))


class _Files(BaseHTTPRequestHandler):
    """GET routes for download-link tests."""

    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404, "Not Found")
            return
        route(self)

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


def _send(body: bytes, length: bool = True) -> Callable[[BaseHTTPRequestHandler], None]:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        if length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return route


def _redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return route


def _slow(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "100")
    h.end_headers()
    h.wfile.write(b"date")
    h.wfile.flush()
    time.sleep(6)


@pytest.fixture(scope="session")
def http_files() -> Iterator[str]:
    """A local HTTP server; returns its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    base = f"http://127.0.0.1:{server.server_port}"
    big = b"x" * (3 * 1024 * 1024)
    bad = bm.example_data().assign(date_week="not a date").to_csv(index=False).encode()
    _Files.routes = {
        "/example.csv": _send(example_bytes()),
        "/bad-dates.csv": _send(bad),
        "/big.csv": _send(big),
        "/big-chunked.csv": _send(big, length=False),
        "/to-example": _redirect("/example.csv"),
        "/to-private": _redirect("http://10.1.2.3/example.csv"),
        "/to-loopback": _redirect("http://127.0.0.2:9/example.csv"),
        "/loop": _redirect("/loop"),
        "/slow.csv": _slow,
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def _postgres_engine(url: str, schema: str) -> Any:
    import sqlalchemy as sa

    from bayesmmm.service.store._store import normalise_url

    return sa.create_engine(normalise_url(url), connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated, empty job store on SQLite and on PostgreSQL (a fresh schema per test
    in the database at ``BAYESMMM_TEST_POSTGRES_URL``)."""
    import uuid

    import sqlalchemy as sa

    from bayesmmm.service import JobStore

    if request.param == "sqlite":
        job_store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
        job_store.migrate()
        yield job_store
        job_store.dispose()
        return
    url = postgres_url("run the store tests on PostgreSQL too")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = _postgres_engine(url, "public")
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    job_store = JobStore(_postgres_engine(url, schema))
    job_store.migrate()
    yield job_store
    job_store.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
