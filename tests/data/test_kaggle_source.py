"""kaggle:// sources against a stand-in for Kaggle's download API on 127.0.0.1
(tests/data/_servers.py: Basic auth, the redirect to signed storage, zips, listings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.data import read_source, validate
from bayesmmm.errors import DataLoadError, SpecError
from tests.data._servers import App, KaggleStandIn, Loopback, Reply, basic

Serve = Callable[[App], Loopback]
USER, KEY = "ana", "0123456789abcdef0123456789abcdef"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Kaggle settings of the machine's: an empty home, no KAGGLE_* variables."""
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "KAGGLE_API_TOKEN",
                 "XDG_CONFIG_HOME", "BAYESMMM_KAGGLE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def kaggle(serve: Serve, home: Path, monkeypatch: pytest.MonkeyPatch,
           example_df: pd.DataFrame) -> KaggleStandIn:
    """The stand-in with the example data and a dataset of two tables; the environment
    holds the right credentials."""
    csv = example_df.to_csv(index=False).encode()
    stand_in = KaggleStandIn(serve, USER, KEY, {
        "ana/weekly-mmm": {"sales.csv": csv},
        "ana/two-tables": {"sales.csv": csv, "regions.csv": b"region\nnorth\n",
                           "README.md": b"# read me"},
    })
    monkeypatch.setenv("BAYESMMM_KAGGLE_URL", stand_in.api)
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    return stand_in


def test_a_file_downloads_with_basic_auth_and_validates(kaggle: KaggleStandIn,
                                                        example_df: pd.DataFrame) -> None:
    out = read_source("kaggle://ana/weekly-mmm/sales.csv")
    pd.testing.assert_frame_equal(out, example_df)
    assert validate(out, **bm.example_spec().data_kwargs()).ok
    api, storage = kaggle.seen
    assert api.path == "/api/v1/datasets/download/ana/weekly-mmm/sales.csv"
    assert api.headers["Authorization"] == basic(USER, KEY)
    assert storage.path.startswith("/storage/")  # followed the redirect ...
    assert "Authorization" not in storage.headers  # ... without the key


def test_kaggle_json_is_read_when_the_variables_are_not_set(
        kaggle: KaggleStandIn, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(json.dumps({"username": USER, "key": KEY}))
    assert len(read_source("kaggle://ana/weekly-mmm/sales.csv")) > 100
    config = home / "elsewhere"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": USER}))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))
    with pytest.raises(DataLoadError, match=r"kaggle\.json' lacks \"username\" or \"key\""):
        read_source("kaggle://ana/weekly-mmm/sales.csv")


def test_a_dataset_with_one_table_needs_no_file_name(kaggle: KaggleStandIn,
                                                     example_df: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(read_source("kaggle://ana/weekly-mmm"), example_df)


def test_a_dataset_with_several_tables_asks_for_one(kaggle: KaggleStandIn) -> None:
    with pytest.raises(DataLoadError) as info:
        read_source("kaggle://ana/two-tables")
    message = str(info.value)
    assert "dataset ana/two-tables holds 2 tables: sales.csv, regions.csv" in message
    assert "kaggle://ana/two-tables/sales.csv" in message


def test_a_zipped_file_is_unpacked(serve: Serve, home: Path, monkeypatch: pytest.MonkeyPatch,
                                   example_df: pd.DataFrame) -> None:
    stand_in = KaggleStandIn(serve, USER, KEY, {"ana/big": {
        "sales.csv": example_df.to_csv(index=False).encode()}}, zipped=("sales.csv",))
    monkeypatch.setenv("BAYESMMM_KAGGLE_URL", stand_in.api)
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    pd.testing.assert_frame_equal(read_source("kaggle://ana/big/sales.csv"), example_df)


def test_bad_credentials_say_whose_and_how_to_set_them(
        kaggle: KaggleStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_KEY", "not-the-key-0000")
    with pytest.raises(DataLoadError) as info:
        read_source("kaggle://ana/weekly-mmm/sales.csv")
    message = str(info.value)
    assert "Kaggle refused the credentials of user 'ana' (from KAGGLE_USERNAME and " \
           "KAGGLE_KEY): HTTP 401" in message
    assert "Settings > API" in message and "not-the-key-0000" not in message


def test_missing_credentials_say_how_to_set_them(home: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    with pytest.raises(DataLoadError, match=r"need your Kaggle API credentials and none "
                                            r"were found\. Fix: set KAGGLE_USERNAME and "
                                            r"KAGGLE_KEY.*~/\.kaggle/kaggle\.json"):
        read_source("kaggle://ana/weekly-mmm")
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    with pytest.raises(DataLoadError, match="KAGGLE_USERNAME is set but KAGGLE_KEY is not"):
        read_source("kaggle://ana/weekly-mmm")


def test_a_missing_file_lists_the_files_and_a_missing_dataset_says_so(
        kaggle: KaggleStandIn) -> None:
    with pytest.raises(DataLoadError, match=r"dataset ana/two-tables on Kaggle has no file "
                                            r"'sale.csv'; its files: sales.csv, regions.csv"):
        read_source("kaggle://ana/two-tables/sale.csv")
    with pytest.raises(DataLoadError, match="Kaggle has no dataset ana/nothing that 'ana' may "
                                            "see"):
        read_source("kaggle://ana/nothing/sales.csv")


def test_an_unreachable_kaggle_is_named(serve: Serve, home: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(lambda request: Reply(404))
    url = server.url
    server.close()
    monkeypatch.setenv("BAYESMMM_KAGGLE_URL", url + "/api/v1")
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    with pytest.raises(DataLoadError, match=r"cannot reach Kaggle at 127\.0\.0\.1:\d+: "):
        read_source("kaggle://ana/weekly-mmm")


def test_a_malformed_address_is_a_usage_error(home: Path) -> None:
    with pytest.raises(SpecError, match="kaggle://OWNER/DATASET"):
        read_source("kaggle://just-a-name")
