"""Loopback HTTP servers for the source tests: a plain one answering with a function,
and a stand-in for Kaggle's download API, each on 127.0.0.1 in a thread (CI has no
internet)."""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """A request as the server saw it."""

    path: str
    headers: dict[str, str]


App = Callable[[Seen], Reply]


class Loopback:
    """An HTTP server on 127.0.0.1 answering GETs with ``app``; ``seen`` records them."""

    def __init__(self, app: App) -> None:
        self.seen: list[Seen] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                request = Seen(self.path, dict(self.headers.items()))
                owner.seen.append(request)
                reply = app(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def basic(user: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


class KaggleStandIn:
    """Kaggle's public API as the download needs it, at ``url + '/api/v1'``:

    - ``GET /datasets/download/OWNER/DATASET/FILE``: Basic auth checked (401 JSON as
      Kaggle answers), then a 302 to a signed storage address, as Kaggle does; the
      storage refuses any Authorization header (as a signed URL does);
    - ``GET /datasets/download/OWNER/DATASET``: the whole dataset as a zip;
    - ``GET /datasets/list/OWNER/DATASET``: ``{"datasetFiles": [{"name": ...}]}``.

    ``zipped`` files are sent inside a zip of one member, as Kaggle sends large files.
    """

    def __init__(self, start: Callable[[App], Loopback], user: str, key: str,
                 datasets: dict[str, dict[str, bytes]], zipped: tuple[str, ...] = ()) -> None:
        self.user, self.key, self.datasets, self.zipped = user, key, datasets, zipped
        self.server = start(self.answer)
        self.api = self.server.url + "/api/v1"

    @property
    def seen(self) -> list[Seen]:
        return self.server.seen

    def answer(self, request: Seen) -> Reply:
        path = unquote(request.path.partition("?")[0])
        if path.startswith("/storage/"):
            if "Authorization" in request.headers:
                return Reply(400, b"signed URLs take no Authorization header")
            ref, _, name = path[len("/storage/"):].partition("::")
            body = self.datasets[ref][name]
            return Reply(200, _zip({name: body}) if name in self.zipped else body)
        if request.headers.get("Authorization") != basic(self.user, self.key):
            return Reply(401, json.dumps({"code": 401, "message": "Unauthenticated"}).encode(),
                         {"Content-Type": "application/json"})
        for prefix in ("/api/v1/datasets/download/", "/api/v1/datasets/list/"):
            if path.startswith(prefix):
                owner, dataset, *rest = path[len(prefix):].split("/")
                ref = f"{owner}/{dataset}"
                files = self.datasets.get(ref)
                if files is None:
                    return Reply(404, b'{"code": 404, "message": "Not found"}')
                if prefix.endswith("list/"):
                    listing = {"datasetFiles": [{"name": n} for n in files]}
                    return Reply(200, json.dumps(listing).encode(),
                                 {"Content-Type": "application/json"})
                if not rest:
                    return Reply(200, _zip(files), {"Content-Type": "application/zip"})
                name = "/".join(rest)
                if name not in files:
                    return Reply(404, b'{"code": 404, "message": "Not found"}')
                return Reply(302, b"", {"Location": f"/storage/{ref}::{name}?sig=abc"})
        return Reply(404, b"no such route")


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()
