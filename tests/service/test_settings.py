"""Configuration from BAYESMMM_* variables, and the serve / worker commands."""

from __future__ import annotations

import json
import re
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


# -- named data sources (BAYESMMM_SOURCES_FILE) ----------------------------------------------
_TOML = '''
[warehouse]
url = "postgresql://reader:Hunter2-Secret@db.internal/marketing"
description = "Weekly sales"
tables = ["weekly_sales", "marketing.weekly_eu"]

[warehouse.options.connect_args]
sslmode = "require"

[adhoc]
url = "sqlite:////srv/data/sales.db"
queries = true

[example]
url = "/srv/data/example.csv"
options = {sep = ";"}
'''


def test_sources_are_read_from_a_toml_or_json_file(tmp_path: Path) -> None:
    toml = tmp_path / "sources.toml"
    toml.write_text(_TOML)
    settings = Settings.from_env({"BAYESMMM_SOURCES_FILE": str(toml)})
    assert settings.sources_file == str(toml)
    by_name = {s.name: s for s in settings.sources}
    assert list(by_name) == ["warehouse", "adhoc", "example"]
    assert by_name["warehouse"].kind == "sql"
    assert by_name["warehouse"].tables == ("weekly_sales", "marketing.weekly_eu")
    assert by_name["warehouse"].options == {"connect_args": {"sslmode": "require"}}
    assert by_name["adhoc"].queries and by_name["example"].kind == "file"
    assert "Hunter2-Secret" not in repr(settings) and "db.internal" not in repr(settings)
    as_json = tmp_path / "sources.json"
    as_json.write_text(json.dumps({"adhoc": {"url": "sqlite:////srv/sales.db",
                                             "query": "SELECT * FROM weekly"}}))
    (source,) = Settings(sources_file=str(as_json)).sources
    assert source.query == "SELECT * FROM weekly" and source.public()["fixed_query"]
    assert Settings().sources == ()


@pytest.mark.parametrize("text, fragment", [
    ('["my sales"]\nurl = "sqlite:////x.db"\ntables = ["t"]',
     "source name 'my sales' is not a short slug; a name is 1 to 64 letters, digits, '-' or "
     "'_' (users type it). Fix: rename it, e.g. 'my_sales'"),
    (f'[{"a" * 65}]\nurl = "sqlite:////x.db"\ntables = ["t"]', "is not a short slug"),
    ('[s]\nurl = "sqlite:////x.db"\ntable = ["t"]',
     "source 's': unknown setting(s) ['table']; a source takes url, description, tables, "
     "queries, query, options. Fix: did you mean 'tables'?"),
    ('[s]\ndescription = "no url"', "source 's' has no url. Fix: add url"),
    ('[s]\nurl = "gopher://u:Hunter2-Secret@host/x"',
     "source 's': url: unsupported source scheme 'gopher://'"),
    ('[s]\nurl = "postgresql://u:Hunter2-Secret@db/m"',
     "source 's' is a database, but says nothing users may read. Fix: add tables"),
    ('[s]\nurl = "https://example.com/sales.csv"\ntables = ["t"]\nqueries = true',
     "source 's' is a file (http); tables and queries apply to databases"),
    ('[s]\nurl = "sqlite:////x.db"\nquery = "SELECT 1"\ntables = ["t"]',
     "query fixes what users read, so tables and queries do not apply"),
    ('[s]\nurl = "sqlite:////x.db"\nqueries = "yes"', "queries must be true or false"),
    ('[s]\nurl = "sqlite:////x.db"\ntables = "weekly"', "tables must be a list"),
    ('[s]\nurl = "sqlite:////x.db"\ntables = ["t", "t"]', "lists ['t'] more than once"),
    ('[s]\nurl = "/srv/x.csv"\noptions = {headers = {}}',
     "option(s) ['headers'] do not apply to a file source; it takes sep"),
    ('s = "sqlite:////x.db"', "source 's' must be a table of settings"),
    ('[s\nurl = 1', "is not valid TOML: "),
], ids=["slug", "long-name", "unknown-key", "no-url", "scheme", "sql-nothing", "file-tables",
        "query-and-tables", "queries-not-bool", "tables-not-list", "tables-twice",
        "file-options", "not-a-table", "bad-toml"])
def test_bad_sources_files_say_what_is_wrong(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"BAYESMMM_SOURCES_FILE": str(path)})
    message = str(info.value)
    assert message.startswith(f"BAYESMMM_SOURCES_FILE ('{path}')")
    assert fragment in message
    assert "Fix:" in message and "Hunter2-Secret" not in message


@pytest.mark.parametrize("name, fragment", [
    ("missing.toml", "the file '{path}' does not exist. Fix: point BAYESMMM_SOURCES_FILE"),
    ("sources.yaml", "'{path}' must be a .toml or .json file"),
])
def test_a_sources_file_that_is_not_there_or_not_toml(tmp_path: Path, name: str,
                                                      fragment: str) -> None:
    path = tmp_path / name
    if name.endswith(".yaml"):
        path.write_text("s: {}")
    with pytest.raises(ConfigError, match=re.escape(fragment.format(path=path))):
        Settings.from_env({"BAYESMMM_SOURCES_FILE": str(path)})
    bad_json = tmp_path / "sources.json"
    bad_json.write_text('["not", "a", "table"]')
    with pytest.raises(ConfigError, match="must hold a table per source name, got list"):
        Settings(sources_file=str(bad_json))
