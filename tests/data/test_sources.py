"""read_source on files elsewhere: http(s) from a loopback server, file:// URLs, fsspec
stores (memory://), the scheme dispatch, masked secrets and missing extras."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.data import prepare, read_source, validate
from bayesmmm.data._remote import mask_url, scrub, secrets_of
from bayesmmm.errors import DataLoadError, SpecError
from tests.data._servers import App, Loopback, Reply, Seen, basic

Serve = Callable[[App], Loopback]


def _files(files: dict[str, bytes]) -> App:
    """An app serving ``files`` by path, 404 for any other."""
    def app(request: Seen) -> Reply:
        body = files.get(request.path.partition("?")[0])
        return Reply(404, b"not found") if body is None else Reply(200, body)
    return app


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def test_http_csv_reads_as_the_file_and_validates(serve: Serve,
                                                  example_df: pd.DataFrame) -> None:
    server = serve(_files({"/mmm/sales.csv": _csv(example_df),
                           "/sheets/ID/export": _csv(example_df)}))
    out = read_source(server.url + "/mmm/sales.csv?version=3")
    pd.testing.assert_frame_equal(out, example_df)
    assert validate(out, **bm.example_spec().data_kwargs()).ok
    assert server.seen[0].path == "/mmm/sales.csv?version=3"
    # an export link without a file name (a shared spreadsheet's CSV export)
    pd.testing.assert_frame_equal(read_source(server.url + "/sheets/ID/export?format=csv"),
                                  example_df)


def test_http_parquet_is_read_as_parquet(serve: Serve, example_df: pd.DataFrame,
                                         tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    example_df.to_parquet(tmp_path / "d.parquet")
    server = serve(_files({"/d.parquet": (tmp_path / "d.parquet").read_bytes()}))
    pd.testing.assert_frame_equal(read_source(server.url + "/d.parquet"), example_df)


def test_prepare_reads_a_url(serve: Serve, example_df: pd.DataFrame) -> None:
    """bm.fit and `bayesmmm fit` take their data through prepare."""
    server = serve(_files({"/sales.csv": _csv(example_df)}))
    data, report = prepare(server.url + "/sales.csv", **bm.example_spec().data_kwargs())
    assert report.ok and data.n_times == len(example_df)


def test_http_credentials_in_the_url_are_sent_and_never_shown(
        serve: Serve, example_df: pd.DataFrame) -> None:
    def app(request: Seen) -> Reply:
        if request.headers.get("Authorization") != basic("ana", "pa ss@word"):
            return Reply(401, b"who are you?")
        return Reply(200, _csv(example_df))

    server = serve(app)
    host = server.url.removeprefix("http://")
    out = read_source(f"http://ana:pa%20ss%40word@{host}/sales.csv")
    assert len(out) == len(example_df)
    with pytest.raises(DataLoadError, match="refused access") as info:
        read_source(f"http://ana:Wrong-Secret-77@{host}/sales.csv")
    message = str(info.value)
    assert "Wrong-Secret-77" not in message
    assert "ana:***@" in message and "401" in message


def test_http_missing_file_and_server_errors(serve: Serve) -> None:
    server = serve(_files({}))
    with pytest.raises(DataLoadError, match=r"no file at http://127\.0\.0\.1:\d+/gone\.csv "
                                            r"\(HTTP 404"):
        read_source(server.url + "/gone.csv")


def test_unreachable_host_is_named(serve: Serve) -> None:
    server = serve(_files({}))
    url = server.url
    server.close()  # the port is now closed
    with pytest.raises(DataLoadError, match="cannot reach 127.0.0.1: .*refused"):
        read_source(url + "/sales.csv")


def test_a_web_page_is_refused_naming_the_url_not_a_temporary_copy(serve: Serve) -> None:
    server = serve(_files({"/sales.csv": b"<!DOCTYPE html><html><body>Sign in</body></html>"}))
    with pytest.raises(DataLoadError) as info:
        read_source(server.url + "/sales.csv")
    message = str(info.value)
    assert f"file '{server.url}/sales.csv' is an HTML page" in message
    assert "bayesmmm-source-" not in message and "/tmp" not in message


def test_file_url_reads_a_local_file(tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "my sales.csv"
    example_df.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_source(path.as_uri()), example_df)
    with pytest.raises(SpecError, match="names the host 'server'"):
        read_source("file://server/share/sales.csv")
    with pytest.raises(DataLoadError, match="does not exist"):
        read_source((tmp_path / "none.csv").as_uri())


def test_fsspec_store_reads_and_names_a_missing_file(example_df: pd.DataFrame) -> None:
    fsspec = pytest.importorskip("fsspec")
    with fsspec.open("memory://bucket/mmm/sales.csv", "wb") as fh:
        fh.write(_csv(example_df))
    try:
        pd.testing.assert_frame_equal(read_source("memory://bucket/mmm/sales.csv"), example_df)
        with pytest.raises(DataLoadError, match="no file at memory://bucket/mmm/other.csv"):
            read_source("memory://bucket/mmm/other.csv")
    finally:
        fsspec.filesystem("memory").rm("/bucket", recursive=True)


def test_unsupported_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(SpecError) as info:
        read_source("ftpx://host/sales.csv")
    message = str(info.value)
    assert "unsupported source scheme 'ftpx://'" in message
    for scheme in ("https://", "s3://", "gs://", "kaggle://", "postgresql://", "sqlite:///",
                   "bigquery://", "snowflake://"):
        assert scheme in message


def test_a_query_for_a_file_and_unknown_options_are_usage_errors(
        tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "sales.csv"
    example_df.to_csv(path, index=False)
    with pytest.raises(SpecError, match=r"a query applies to databases.*sqlite:///"):
        read_source(path, query="SELECT 1")
    with pytest.raises(SpecError, match="option.* colour do not apply"):
        read_source("https://example.invalid/x.csv", colour="red")


def test_a_dataframe_is_copied(example_df: pd.DataFrame) -> None:
    out = read_source(example_df)
    out.loc[0, "y"] = -1
    assert example_df.loc[0, "y"] != -1


@pytest.mark.parametrize(("url", "shown", "secret"), [
    ("postgresql://ana:S3cret%40x@db:5432/sales", "postgresql://ana:***@db:5432/sales",
     "S3cret@x"),
    ("https://token123@host/a.csv", "https://***@host/a.csv", "token123"),
    ("https://host/a.csv?X-Amz-Signature=abc123&v=2", "https://host/a.csv?X-Amz-Signature=***&v=2",
     "abc123"),
    ("snowflake://u:pw999@acct/db?warehouse=wh", "snowflake://u:***@acct/db?warehouse=wh",
     "pw999"),
    ("sqlite:///sales.db", "sqlite:///sales.db", None),
], ids=["postgres", "token-user", "signed-url", "snowflake", "sqlite-unchanged"])
def test_urls_are_shown_masked(url: str, shown: str, secret: str | None) -> None:
    assert mask_url(url) == shown
    if secret:
        assert secret in secrets_of(url) and secret not in mask_url(url)


def test_scrub_removes_each_secret_from_a_message() -> None:
    url = "postgresql://ana:pa/ss-Secret9@db/sales?token=tok-777"
    message = "failed for ana with pa/ss-Secret9 (decoded tok-777); 'pa' stays"
    assert scrub(message, secrets_of(url)) == "failed for ana with *** (decoded ***); 'pa' stays"


def test_a_password_in_a_database_url_never_appears() -> None:
    pytest.importorskip("sqlalchemy")
    with pytest.raises(DataLoadError) as info:
        read_source("postgresql://ana:Hunter2-Secret@127.0.0.1:1/sales", query="SELECT 1")
    message = str(info.value)
    assert "Hunter2-Secret" not in message
    assert "postgresql://ana:***@127.0.0.1:1/sales" in message
    assert "cannot reach the database" in message


def test_a_password_with_a_slash_is_masked_even_without_sqlalchemy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib ends the host at the '/', SQLAlchemy reads 'pa/ss-Secret9' as the password."""
    url = "postgresql://ana:pa/ss-Secret9@127.0.0.1:1/sales"
    if importlib.util.find_spec("sqlalchemy") is not None:
        with pytest.raises(DataLoadError) as info:
            read_source(url, query="SELECT 1")
        assert "ss-Secret9" not in str(info.value) and "ana:***@127.0.0.1:1" in str(info.value)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(DataLoadError) as info:
        read_source(url, query="SELECT 1")
    assert "ss-Secret9" not in str(info.value) and "needs sqlalchemy" in str(info.value)


def test_missing_packages_name_the_extra_or_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(DataLoadError) as info:
        read_source("memory://bucket/sales.csv")
    assert "fsspec (the 'sources' extra). Fix: pip install 'bayesmmm[sources]'" in str(info.value)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(DataLoadError) as info:
        read_source("sqlite:///sales.db", query="SELECT 1")
    assert "sqlalchemy (the 'sources' extra)" in str(info.value)
    assert "\n" not in str(info.value)


def test_an_object_store_without_its_package_names_it() -> None:
    pytest.importorskip("fsspec")
    try:
        import s3fs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("s3fs is installed here")
    with pytest.raises(DataLoadError, match=r"reading s3://bucket/sales.csv needs s3fs\. "
                                            r"Fix: pip install s3fs"):
        read_source("s3://bucket/sales.csv")
