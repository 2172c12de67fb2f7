"""One reader for every place a table lives (:func:`read_source`): local files, web
addresses, object stores, Kaggle datasets and databases.

A file from elsewhere is downloaded to a private temporary folder and read by
:func:`bayesmmm.data.load_table`, so it is checked (and refused with a fix) exactly as
a local CSV; a database's result is checked for what a file cannot get wrong. Either
way the caller validates the DataFrame as any other.
"""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmmm.data._kaggle import fetch_kaggle
from bayesmmm.data._load import load_table
from bayesmmm.data._remote import (
    FetchError,
    file_name,
    fsspec_get,
    http_get,
    mask_url,
    scheme_of,
    scrub,
    secrets_of,
)
from bayesmmm.data._sql import read_sql_source
from bayesmmm.errors import DataLoadError, SpecError

__all__ = ["SQL_SCHEMES", "SUPPORTED", "describe_source", "read_source", "source_kind"]

#: Database URL schemes recognised without asking SQLAlchemy (a ``+driver`` may follow).
SQL_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql",
                         "oracle", "bigquery", "snowflake", "redshift", "duckdb", "trino",
                         "databricks", "clickhouse", "cockroachdb"})
#: Object stores read through fsspec (any other protocol fsspec knows is accepted too).
_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"})
#: What a source can be, for messages and the docs.
SUPPORTED = ("a local path or file:///absolute/path", "http:// or https://",
             "s3://, gs://, az:// (and the other fsspec protocols)",
             "kaggle://OWNER/DATASET[/FILE]", "a database URL with a query or table: "
             "postgresql://, sqlite:///, mysql://, bigquery://, snowflake:// (any "
             "SQLAlchemy dialect)")
_OPTIONS = {"path": (), "file": (), "http": ("headers", "timeout"), "kaggle": ("timeout",)}


def read_source(source: str | Path | pd.DataFrame, *, query: str | None = None,
                table: str | None = None, sep: str | None = None,
                **options: Any) -> pd.DataFrame:
    """Read a table from a file, a URL, an object store, Kaggle or a database.

    Parameters
    ----------
    source : str, Path or DataFrame
        - a local CSV / Parquet path, or ``file:///absolute/path.csv``;
        - ``https://`` / ``http://`` address of a CSV or Parquet file (a user and
          password in the URL are sent as Basic authentication);
        - ``s3://``, ``gs://``, ``az://`` ... (fsspec; needs ``s3fs``, ``gcsfs``,
          ``adlfs``);
        - ``kaggle://OWNER/DATASET[/FILE]``: a Kaggle dataset, with the credentials of
          ``KAGGLE_USERNAME`` / ``KAGGLE_KEY`` or ``~/.kaggle/kaggle.json``;
        - an SQLAlchemy URL (``postgresql://``, ``sqlite:///sales.db``, ``bigquery://``,
          ``snowflake://`` ...) with ``query`` or ``table``;
        - a DataFrame (returned as a copy).
    query : str, optional
        SQL whose result is the table (databases only). It runs in a transaction that
        is rolled back: reading never changes the database.
    table : str, optional
        A table (or ``schema.table``) to read whole, instead of ``query``.
    sep : str, optional
        CSV delimiter of a file source (default ``","``).
    **options
        For the source kind: ``headers``, ``timeout`` (https); ``timeout`` (kaggle); the
        file system's options (fsspec: ``anon=True``, ``profile=`` ...); ``params``
        (values for ``:name`` placeholders in ``query``) and
        :func:`sqlalchemy.create_engine` keywords (databases).

    Returns
    -------
    DataFrame
        Columns as the source has them; validate it as any table
        (:func:`bayesmmm.data.validate` or :func:`bayesmmm.data.prepare`).

    Raises
    ------
    DataLoadError
        The source cannot be read: not there, unreachable, credentials refused (the
        message says which and how to set them), a failed query (with the database's
        one-line message), a missing table (with the tables there are), a missing
        optional package (with the extra to install), or a file that is not a table.
        Passwords and tokens in the source never appear in a message.
    SpecError
        An unsupported scheme (the message lists the supported ones), a query for a
        file, neither query nor table for a database, or an unknown option.

    Examples
    --------
    >>> df = read_source("sqlite:///sales.db", query="SELECT * FROM weekly")  # doctest: +SKIP
    >>> df = read_source("s3://bucket/mmm/sales.parquet", anon=True)  # doctest: +SKIP
    >>> df = read_source("kaggle://owner/marketing-mix/data.csv")  # doctest: +SKIP
    """
    if isinstance(source, pd.DataFrame):
        _file_only(query, table, "a DataFrame")
        _take(options, (), "a DataFrame")
        return source.copy()
    scheme = scheme_of(source) if isinstance(source, str) else None
    if scheme is None or not isinstance(source, str):
        return _read_path(Path(source), query, table, sep, options)
    secrets = secrets_of(source) + tuple(str(v) for v in
                                         (options.get("headers") or {}).values())
    try:
        return _read_url(source, scheme, query, table, sep, options)
    except (DataLoadError, SpecError) as exc:  # belt and braces: no secret in a message
        raise type(exc)(scrub(str(exc), secrets)) from None


def source_kind(scheme: str) -> str:
    """``'file'``, ``'http'``, ``'kaggle'``, ``'fsspec'`` or ``'sql'`` for a URL scheme.

    Raises
    ------
    SpecError
        A scheme that is neither; the message lists the supported ones.
    """
    base = scheme.partition("+")[0]
    if scheme in ("file", "kaggle"):
        return scheme
    if scheme in ("http", "https"):
        return "http"
    if base in SQL_SCHEMES:
        return "sql"
    if scheme in _STORES or _fsspec_knows(scheme):
        return "fsspec"
    if _sqlalchemy_knows(base):
        return "sql"
    raise SpecError(f"unsupported source scheme '{scheme}://'. Fix: use one of: "
                    f"{'; '.join(SUPPORTED)} (docs/data-sources.md).")


def describe_source(source: str | Path | pd.DataFrame, *, table: str | None = None) -> str:
    """A short name of the source for titles and notes: a file's name, or the URL
    with its secrets masked (and the table read)."""
    if isinstance(source, pd.DataFrame):
        return "DataFrame"
    if isinstance(source, str) and scheme_of(source):
        shown = mask_url(source)
        return f"{shown} (table {table})" if table else shown
    return Path(source).name


def _read_path(path: Path, query: str | None, table: str | None, sep: str | None,
               options: Mapping[str, Any]) -> pd.DataFrame:
    _file_only(query, table, f"'{path}' (a file)")
    _take(options, _OPTIONS["path"], f"'{path}'")
    return load_table(path, sep=sep)


def _read_url(url: str, scheme: str, query: str | None, table: str | None,
              sep: str | None, options: dict[str, Any]) -> pd.DataFrame:
    kind = source_kind(scheme)
    shown = mask_url(url)
    if kind == "sql":
        return read_sql_source(url, query=query, table=table, options=options)
    _file_only(query, table, shown)
    _take(options, _OPTIONS.get(kind, tuple(options)), shown)  # fsspec: the store's own
    if kind == "file":
        return load_table(_local_path(url), sep=sep)
    fetch = _fetcher(kind, url, shown, options)
    with tempfile.TemporaryDirectory(prefix="bayesmmm-source-") as tmp:
        folder = Path(tmp)
        path = fetch(folder)
        try:
            return load_table(path, sep=sep)
        except DataLoadError as exc:  # name the source, not our temporary copy of it
            names_file = kind != "kaggle" or "/" in urllib.parse.urlsplit(url).path.strip("/")
            label = shown if names_file else f"{shown}/{path.name}"
            message = str(exc).replace(str(path), label)
            raise DataLoadError(message.replace(f"{folder}/", "").replace(str(folder), "")
                                ) from None


def _fetcher(kind: str, url: str, shown: str, options: Mapping[str, Any]
             ) -> Callable[[Path], Path]:
    """A function that downloads the source into a folder and returns the file."""
    def fetch_http(folder: Path) -> Path:
        dest = folder / file_name(url)
        try:
            http_get(url, dest, headers=options.get("headers"),
                     timeout=float(options.get("timeout", 60.0)))
        except FetchError as exc:
            raise DataLoadError(_http_refusal(exc, url, shown)) from None
        return dest

    def fetch_kaggle_file(folder: Path) -> Path:
        return fetch_kaggle(url, folder, **options)

    def fetch_store(folder: Path) -> Path:
        dest = folder / file_name(url)
        fsspec_get(url, dest, shown, options)
        return dest

    return {"http": fetch_http, "kaggle": fetch_kaggle_file}.get(kind, fetch_store)


def _http_refusal(exc: FetchError, url: str, shown: str) -> str:
    host = urllib.parse.urlsplit(url).hostname or url
    if exc.status in (401, 403):
        return (f"{shown} refused access ({exc.detail}). Fix: give credentials: "
                "https://USER:PASSWORD@host/... or headers={'Authorization': 'Bearer ...'}; "
                "for a shared link, use its direct-download address.")
    if exc.status == 404:
        return f"no file at {shown} ({exc.detail}). Fix: check the address."
    if exc.status is not None:
        return f"{shown} answered {exc.detail}. Fix: check the address, or try again later."
    return (f"cannot reach {host}: {exc.detail}. Fix: check the address and the network "
            "connection.")


def _local_path(url: str) -> Path:
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise SpecError(f"'{url}' names the host '{parts.netloc}'; file:// URLs read this "
                        "machine's files. Fix: write an absolute path after three slashes, "
                        "file:///home/ana/sales.csv, or pass the path itself.")
    return Path(urllib.request.url2pathname(parts.path))


def _file_only(query: str | None, table: str | None, what: str) -> None:
    if query is not None or table is not None:
        given = "query" if query is not None else "table"
        raise SpecError(f"a {given} applies to databases, and {what} is not one. Fix: drop "
                        f"{given}= (CLI: --{given}), or give a database URL (a SQLite file: "
                        "sqlite:///path/to/file.db).")


def _take(options: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        takes = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
        raise SpecError(f"option(s) {', '.join(unknown)} do not apply to {what}; {takes}.")


def _fsspec_knows(protocol: str) -> bool:
    try:
        from fsspec.registry import known_implementations, registry
    except ImportError:
        return False
    return protocol in known_implementations or protocol in registry


def _sqlalchemy_knows(dialect: str) -> bool:
    """SQLAlchemy has (or a package registered) a dialect of this name."""
    try:
        from sqlalchemy.dialects import registry
    except ImportError:
        return False
    try:
        registry.load(dialect)
    except Exception:  # NoSuchModuleError, or a broken third-party dialect
        return False
    return True
