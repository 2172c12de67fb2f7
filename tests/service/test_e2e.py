"""End to end: the real server process (embedded Dask cluster) on loopback, the bundled
example by upload and by download link, results equal to the library's own fit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.datasets import example_path
from tests.service._server import QUICK_FORM, Server

SAMPLER = {"chains": 1, "warmup": 100, "draws": 100, "seed": 11}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Loopback is allowed here only because the test's file server lives there.
    srv = Server(tmp_path_factory.mktemp("e2e"), BAYESMMM_DOWNLOAD_ALLOW="127.0.0.1/32")
    srv.start()
    yield srv
    srv.kill()


def test_upload_and_download_link_give_the_library_fit(server: Server, http_files: str
                                                       ) -> None:
    by_upload = server.submit(files={"file": ("example.csv", example_path().read_bytes())},
                              **QUICK_FORM, **{k: str(v) for k, v in SAMPLER.items()})
    spec = bm.example_spec()
    by_link = server.submit(
        date_column=spec.date_column, y_column=spec.y_column,
        channel_columns=list(spec.channel_columns), control_columns=list(spec.control_columns),
        adstock_max_lag=spec.adstock_max_lag, yearly_seasonality=spec.yearly_seasonality,
        **SAMPLER, openaiFileIdRefs=[{"name": "mmm_example.csv", "id": "file-abc",
                                      "mime_type": "text/csv",
                                      "download_link": f"{http_files}/example.csv"}])
    seen = set()
    for task in (by_upload, by_link):
        status = server.wait(task)
        seen.add(status["status"])
        assert status["status"] == "completed", status
        assert status["progress"] == 1.0 and status["attempts"] == 1
    expected = bm.fit(bm.example_data(), spec, progress=False, **SAMPLER).summary()
    for task in (by_upload, by_link):
        r = httpx.get(f"{server.url}/v1/tasks/{task}/summary", timeout=60)
        assert r.status_code == 200
        got = pd.DataFrame(r.json()["summary"]).set_index("parameter")
        assert list(got.index) == list(expected.index)
        for column in ("mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk"):
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-5, atol=1e-9,
                                       err_msg=column)
    roi = httpx.get(f"{server.url}/v1/tasks/{by_link}/roi", timeout=60).json()
    assert [row["channel"] for row in roi["rows"]] == ["x1", "x2"]


def test_refusals_from_the_real_server(server: Server, http_files: str) -> None:
    bad = bm.example_data().drop(columns=["x1"]).to_csv(index=False).encode()
    r = httpx.post(f"{server.url}/v1/tasks", files={"file": ("bad.csv", bad)},
                   data=QUICK_FORM, timeout=60)
    assert r.status_code == 422 and r.json()["validation"]["errors"][0]["column"] == "x1"
    body = {**{k: v for k, v in QUICK_FORM.items()}, "channel_columns": ["x1", "x2"],
            "control_columns": ["event_1", "event_2", "t"],
            "openaiFileIdRefs": [{"download_link": f"{http_files}/missing.csv"}]}
    r = httpx.post(f"{server.url}/v1/tasks", json=body, timeout=60)
    assert r.status_code == 422 and "HTTP 404" in r.json()["detail"]
    body["openaiFileIdRefs"] = [{"download_link": "http://10.0.0.1/x.csv"}]
    r = httpx.post(f"{server.url}/v1/tasks", json=body, timeout=60)
    assert r.status_code == 422 and "private" in r.json()["detail"]
    health = httpx.get(f"{server.url}/v1/health", timeout=30).json()
    assert health["executor"]["workers"] == 1 and health["executor"]["embedded"] is True


def test_state_lives_under_home(server: Server) -> None:
    assert (server.home / "service.db").is_file()
    assert any(Path(server.home / "artifacts").glob("*/fit.nc"))
