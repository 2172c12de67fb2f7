"""Configuration from BAYESMMM_* variables, and the serve / worker commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayesmmm.cli import app
from bayesmmm.service import ConfigError, Settings


def test_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAYESMMM_HOME", str(tmp_path))
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite:///{tmp_path / 'service.db'}"
    assert settings.artifacts == str(tmp_path / "artifacts")
    assert settings.dask_scheduler is None and settings.api_keys == ()
    assert settings.on_worker_loss == "retry" and settings.max_attempts == 3


def test_variables_are_read() -> None:
    settings = Settings.from_env({
        "BAYESMMM_DATABASE_URL": "postgresql://u:p@db/jobs", "BAYESMMM_ARTIFACTS": "s3://b/p",
        "BAYESMMM_DASK_SCHEDULER": "tcp://10.0.0.5:8786", "BAYESMMM_API_KEYS": "a, b,,",
        "BAYESMMM_MAX_UPLOAD_MB": "2", "BAYESMMM_DOWNLOAD_TIMEOUT": "7.5",
        "BAYESMMM_DOWNLOAD_ALLOW": "10.0.0.0/8, 127.0.0.1", "BAYESMMM_ON_WORKER_LOSS": "fail",
        "BAYESMMM_MAX_ATTEMPTS": "5", "BAYESMMM_LEASE_SECONDS": "12",
        "BAYESMMM_DASK_WORKERS": "3", "BAYESMMM_INSTANCE": "api-1",
        "BAYESMMM_ESTIMATE_TIME": "never"})
    assert settings.api_keys == ("a", "b")
    assert settings.max_upload_bytes == 2 * 1024 * 1024 and settings.download_timeout == 7.5
    assert [str(n) for n in settings.download_allow] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert (settings.on_worker_loss, settings.max_attempts, settings.lease_seconds) == (
        "fail", 5, 12.0)
    assert (settings.dask_workers, settings.instance) == (3, "api-1")
    assert settings.estimate_time == "never" and Settings().estimate_time == "auto"
    assert Settings.from_env({"BAYESMMM_DOWNLOAD_ALLOW": "all"}).download_allow == "all"
    assert Settings.from_env({}, dask_workers=4).dask_workers == 4  # arguments win


@pytest.mark.parametrize("env, fragment", [
    ({"BAYESMMM_ON_WORKER_LOSS": "maybe"}, "must be one of ['retry', 'fail']"),
    ({"BAYESMMM_DASK_WORKERS": "two"}, "BAYESMMM_DASK_WORKERS must be a number"),
    ({"BAYESMMM_MAX_ATTEMPTS": "0"}, "max_attempts must be an integer >= 1"),
    ({"BAYESMMM_LEASE_SECONDS": "-1"}, "lease_seconds must be > 0"),
    ({"BAYESMMM_DOWNLOAD_ALLOW": "intranet"}, "'intranet' is not an address or network"),
    ({"BAYESMMM_ESTIMATE_TIME": "sometimes"}, "must be one of ['auto', 'always', 'never']"),
])
def test_bad_settings_say_what_is_wrong(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert fragment in str(info.value)


def test_commands_exist() -> None:
    runner = CliRunner()
    serve = runner.invoke(app, ["serve", "--help"])
    assert serve.exit_code == 0 and "--scheduler" in serve.output
    worker = runner.invoke(app, ["worker", "--help"])
    assert worker.exit_code == 0 and "--nworkers" in worker.output


def test_serve_refuses_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAYESMMM_ON_WORKER_LOSS", "maybe")
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code != 0
    assert "BAYESMMM_ON_WORKER_LOSS" in result.output
    assert "Traceback" not in result.output
