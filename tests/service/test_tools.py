"""validateData, generateSyntheticData, and the download guard on its own."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import bayesmmm as bm
from bayesmmm.service import DownloadError, Fetcher
from bayesmmm.service._settings import parse_networks
from bayesmmm.service.api._fetch import is_blocked
from tests.service.conftest import BODY, example_bytes, upload

COLUMNS = {k: v for k, v in BODY.items() if k not in ("chains", "warmup", "draws", "seed")}
FORM_COLUMNS = {"date_column": "date_week", "y_column": "y", "channel_columns": "x1,x2",
                "control_columns": "event_1,event_2,t"}


def test_validate_ok(client: TestClient) -> None:
    r = client.post("/v1/validate", files=upload(example_bytes()), data=FORM_COLUMNS)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["n_rows"] == 179
    assert r.json()["frequency"] == "weekly"


def test_validate_reports_every_problem(client: TestClient) -> None:
    df = bm.example_data()
    df.loc[3, "x1"] = -5.0
    df = df.drop(columns=["t"])
    r = client.post("/v1/validate", files=upload(df.to_csv(index=False).encode()),
                    data=FORM_COLUMNS)
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    expected = bm.validate(df, **bm.example_spec().data_kwargs()).to_dict()
    assert body["errors"] == expected["errors"]
    assert {e["code"] for e in body["errors"]} >= {"missing_column"}
    assert any(e["column"] == "x1" for e in body["errors"] + body["warnings"])


def test_validate_needs_columns(client: TestClient) -> None:
    r = client.post("/v1/validate", files=upload(example_bytes()), data={"y_column": "y"})
    assert r.status_code == 422
    assert "date_column: Field required" in r.json()["detail"]


def test_synthetic_json_and_csv(client: TestClient) -> None:
    r = client.post("/v1/synthetic-data", json={"preset": "small_business", "seed": 2})
    assert r.status_code == 200
    body = r.json()
    sim = bm.synth.simulate_preset("small_business", 2)
    assert len(body["rows"]) == len(sim.data) and body["columns"] == list(sim.data.columns)
    assert body["spec"]["channel_columns"] == list(sim.spec_kwargs["channel_columns"])
    assert "parameters" in body["truth"] and "contributions" not in body["truth"]
    r = client.post("/v1/synthetic-data", json={"preset": "small_business", "seed": 2,
                                                 "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(r.text)),
                                  pd.read_csv(io.StringIO(sim.data.to_csv(index=False))))


def test_synthetic_bad_preset(client: TestClient) -> None:
    r = client.post("/v1/synthetic-data", json={"preset": "huge"})
    assert r.status_code == 422
    assert "Unknown preset 'huge'" in r.json()["detail"]
    r = client.post("/v1/synthetic-data", json={"preset": "small_business", "seed": -1})
    assert r.status_code == 422


@pytest.mark.parametrize("address, blocked", [
    ("8.8.8.8", False), ("2606:4700::1111", False), ("127.0.0.1", True), ("10.1.1.1", True),
    ("172.16.0.1", True), ("192.168.0.1", True), ("169.254.169.254", True), ("100.64.0.1", True),
    ("0.0.0.0", True), ("224.0.0.1", True), ("::1", True), ("fe80::1", True), ("fc00::1", True),
    ("::ffff:10.0.0.1", True), ("2002:a00:1::", True),
])
def test_is_blocked(address: str, blocked: bool) -> None:
    assert is_blocked(ipaddress.ip_address(address)) is blocked


def test_allowed_networks() -> None:
    allow = parse_networks("127.0.0.1, 10.0.0.0/8")
    assert not is_blocked(ipaddress.ip_address("10.9.9.9"), allow)
    assert not is_blocked(ipaddress.ip_address("127.0.0.1"), allow)
    assert is_blocked(ipaddress.ip_address("127.0.0.2"), allow)
    assert not is_blocked(ipaddress.ip_address("192.168.1.1"), "all")


def _fetch(fetcher: Fetcher, url: str) -> bytes:
    return asyncio.run(fetcher.fetch(url))


def test_every_resolved_address_is_checked() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one public, one private: refused

    with pytest.raises(DownloadError, match=r"'files.test' \(10.0.0.7\) is a private"):
        _fetch(Fetcher(1000, 5, resolver=mixed), "https://files.test/data.csv")


def test_connects_to_the_checked_address(http_files: str) -> None:
    port = http_files.rsplit(":", 1)[1]
    seen: list[str] = []

    async def pinned(host: str, port: int) -> list[str]:
        seen.append(host)
        return ["127.0.0.1"]

    fetcher = Fetcher(10**6, 5, allow=parse_networks("127.0.0.1"), resolver=pinned)
    assert _fetch(fetcher, f"http://files.test:{port}/example.csv") == example_bytes()
    assert seen == ["files.test"]
    with pytest.raises(DownloadError, match="private"):  # without the allowance: refused
        _fetch(Fetcher(10**6, 5, resolver=pinned), f"http://files.test:{port}/example.csv")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_to_the_checked_address_keeps_the_host_name(tmp_path: Path) -> None:
    """TLS goes to the pinned address but is verified against the link's host name."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
                    "-subj", "/CN=files.test", "-addext", "subjectAltName=DNS:files.test"],
                   check=True, capture_output=True)

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = f"host={self.headers['Host']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port

    async def local(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

    def fetcher() -> Fetcher:
        return Fetcher(10**6, 5, allow="all", resolver=local,
                       transport=httpx.AsyncHTTPTransport(verify=trust))

    try:
        body = _fetch(fetcher(), f"https://files.test:{port}/x")
        assert body == f"host=files.test:{port}".encode()
        with pytest.raises(DownloadError, match="TLS certificate is not valid"):
            _fetch(fetcher(), f"https://other.test:{port}/x")
    finally:
        server.shutdown()
        server.server_close()
