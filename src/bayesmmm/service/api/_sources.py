"""A table from a source the operator named (a request's ``source``): what a user may
ask of it, the read itself, and messages that never show its address.

The read runs off the event loop, within the download timeout, and its result must fit
the upload limit as CSV; that CSV is then the request's table exactly as an uploaded
file would be (stored as the task's input, validated and explained the same way).
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bayesmmm.data._sql import READ_ONLY_SESSION
from bayesmmm.service._errors import RequestError
from bayesmmm.service._sources import NamedSource, placeholders
from bayesmmm.service.api._limits import SIZES

__all__ = ["SourceInfo", "SourceList", "SourceReader", "SourceRef"]

log = logging.getLogger("bayesmmm.service")

Scalar = Annotated[str, Field(max_length=SIZES["param_value"])] | int | float | bool | None


class SourceRef(BaseModel):
    """A table from a named source (listSources): its whole ``table``, the result of a
    ``query``, or, for a file or a source with its own query, just the ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=SIZES["source_name"],
                      description="A source listSources names.")
    table: str | None = Field(None, min_length=1, max_length=SIZES["table"],
                              description="One of the source's tables, read whole.")
    query: str | None = Field(None, min_length=1, max_length=SIZES["query"],
                              description="One SELECT, where the source allows queries; "
                              ":name placeholders take params.")
    params: dict[Annotated[str, Field(max_length=64)], Scalar] = Field(
        default_factory=dict, max_length=SIZES["params"],
        description="Values of the query's :name placeholders (text, numbers, booleans).")


class SourceInfo(BaseModel):
    name: str = Field(description="What to send as source.name.")
    description: str
    kind: Literal["sql", "file", "http", "fsspec", "kaggle"] = Field(
        description="sql: a database (send a table or a query); the others are one file "
        "(send only the name).")
    tables: list[str] = Field(description="Tables users may read whole (source.table).")
    queries: bool = Field(description="Whether users may send their own SELECT "
                          "(source.query).")
    fixed_query: bool = Field(description="The operator wrote the query: send only the "
                              "name (and params).")
    params: list[str] = Field(description="Placeholders of the operator's query, to give "
                              "in source.params.")


class SourceList(BaseModel):
    sources: list[SourceInfo] = Field(description="The named sources (empty: this service "
                                      "reads only uploaded files and download links).")


def _refuse(message: str, fix: str, field: str = "source") -> RequestError:
    return RequestError(422, "invalid_source", f"{field}: {message}. Fix: {fix}",
                        errors=[{"field": field, "message": message, "fix": fix}])


def _names(items: Iterable[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


#: A query sent by a user: leading spaces, comments and brackets before its first word.
_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.S)


def _check_select(query: str) -> None:
    """A user's query is one SELECT (or WITH ... SELECT): anything else is refused
    before it reaches the database (which runs it in a transaction rolled back anyway,
    but a statement such as ATTACH or VACUUM INTO does not wait for one)."""
    body = query.strip()
    body = body[:-1] if body.endswith(";") else body
    if ";" in body:
        raise _refuse("a query is one statement, and this one has a ';' inside it",
                      "send one SELECT without ';' (a value with ';' goes in params)",
                      "source.query")
    lead = _LEAD.match(body)
    first = re.match(r"\w+", body[lead.end() if lead else 0:])
    word = first.group(0).upper() if first else ""
    if word not in ("SELECT", "WITH"):
        raise _refuse(f"a query reads rows: it starts with SELECT or WITH, got "
                      f"{word[:30] or 'no word'!r}", "send a SELECT statement; nothing "
                      "sent here can change the database", "source.query")


class SourceReader:
    """The operator's named sources, read within the service's limits.

    Parameters
    ----------
    sources : sequence of NamedSource
    max_bytes : int
        Largest table accepted, as CSV (the upload limit).
    timeout : float
        Seconds a read may take in all (the download timeout).
    """

    def __init__(self, sources: Iterable[NamedSource], max_bytes: int,
                 timeout: float) -> None:
        self.sources = {s.name: s for s in sources}
        self.max_bytes = max_bytes
        self.timeout = timeout

    def listing(self) -> SourceList:
        return SourceList.model_validate(
            {"sources": [s.public() for s in self.sources.values()]})

    def how(self) -> str:
        """The third way to send data, for messages (empty when there are no sources)."""
        if not self.sources:
            return ""
        return (f", or source: {{name, table}} naming one of {_names(self.sources)} "
                "(listSources)")

    async def read(self, ref: SourceRef, sep: str | None = None) -> tuple[bytes, str]:
        """The table ``ref`` asks for, as CSV bytes (``sep`` or ``,``), and its display
        name (``source:NAME/TABLE``)."""
        source = self._find(ref.name)
        table, query = self._plan(source, ref)
        try:
            async with asyncio.timeout(self.timeout):
                content = await asyncio.to_thread(self._read, source, table, query,
                                                  ref.params, sep or ",")
        except TimeoutError:
            raise RequestError(
                504, "source_timeout", f"source '{source.name}' did not answer within "
                f"{self.timeout:g} s. Fix: read fewer rows (a narrower query or a smaller "
                "table); the operator may raise BAYESMMM_DOWNLOAD_TIMEOUT") from None
        label = f"/{table}" if table else "/query" if ref.query else ""
        return content, f"source:{source.name}{label}"[:200]

    def _find(self, name: str) -> NamedSource:
        source = self.sources.get(name)
        if source is not None:
            return source
        if not self.sources:
            raise _refuse(f"this service has no named sources (asked for '{name}')",
                          "upload the file, or send openaiFileIdRefs; the operator sets "
                          "up named sources with BAYESMMM_SOURCES_FILE", "source.name")
        raise _refuse(f"no source is named '{name}'; the sources are "
                      f"{_names(self.sources)}", "use one of them (listSources describes "
                      "each)", "source.name")

    def _plan(self, source: NamedSource, ref: SourceRef) -> tuple[str | None, str | None]:
        """``(table, query)`` to read, after the operator's rules."""
        name = source.name
        if source.kind != "sql":
            given = [k for k in ("table", "query", "params") if getattr(ref, k)]
            if given:
                kind = "" if source.kind == "file" else f" ({source.kind})"
                verb = "applies" if len(given) == 1 else "apply"
                raise _refuse(f"source '{name}' is a file{kind}, read whole; "
                              f"{' and '.join(given)} {verb} to databases",
                              f"send only source.name='{name}'", f"source.{given[0]}")
            return None, None
        if source.query is not None:
            given = [k for k in ("table", "query") if getattr(ref, k)]
            if given:
                raise _refuse(f"source '{name}' reads the query its operator wrote; it "
                              f"takes no {' or '.join(given)}", "send only source.name"
                              + (" and params" if source.user_params() else ""),
                              f"source.{given[0]}")
            self._check_params(source.user_params(), ref.params)
            return None, source.query
        if ref.table is not None and ref.query is not None:
            raise _refuse("give a table or a query, not both", "drop one of them",
                          "source.query")
        if ref.query is not None:
            if not source.queries:
                offer = (f"it offers the tables {_names(source.tables)}" if source.tables
                         else "it offers no tables either")
                raise _refuse(f"the operator has not allowed queries on source '{name}'; "
                              f"{offer}", "send source.table with one of those tables (the "
                              "operator may set queries = true)", "source.query")
            _check_select(ref.query)
            self._check_params(placeholders(ref.query), ref.params)
            return None, ref.query
        if ref.params:
            raise _refuse("params fill a query's :name placeholders, and no query was sent",
                          "drop params, or send a query", "source.params")
        if ref.table is None:
            ways = [f"source.table (one of {_names(source.tables)})"] if source.tables else []
            ways += ["source.query (one SELECT)"] if source.queries else []
            raise _refuse(f"source '{name}' is a database: say what to read",
                          f"send {' or '.join(ways)}", "source.table")
        if ref.table not in source.tables:
            offer = (f"the tables it offers are {_names(source.tables)}" if source.tables
                     else "it offers no tables, only queries")
            raise _refuse(f"table '{ref.table}' is not one source '{name}' offers; {offer}",
                          "use one of those" + (", or a query" if source.queries else ""),
                          "source.table")
        return ref.table, None

    @staticmethod
    def _check_params(wanted: list[str], params: dict[str, Any]) -> None:
        missing = [p for p in wanted if p not in params]
        extra = sorted(set(params) - set(wanted))
        if missing:
            raise _refuse(f"the query needs a value for {_names(missing)}",
                          f"send params: {{{', '.join(f'{p!r}: ...' for p in missing)}}}",
                          "source.params")
        if extra:
            raise _refuse(f"params {_names(extra)} match no :name placeholder the query "
                          f"takes (it takes {_names(wanted) or 'none'})", "drop them (a "
                          "query of your own: write them into it as :name)", "source.params")

    def _read(self, source: NamedSource, table: str | None, query: str | None,
              params: dict[str, Any], sep: str) -> bytes:
        """Read on a worker thread; the table as CSV bytes."""
        from bayesmmm.data import read_source
        from bayesmmm.errors import DataLoadError, SpecError

        options = _options(source, self.timeout)
        file_sep = options.pop("sep", None)
        fixed = options.pop("params", None) or {}
        if source.query is not None:  # the operator's values stay as the operator set them
            params = {**params, **fixed}
        if params:
            options["params"] = params
        try:
            frame = read_source(source.url, query=query, table=table, sep=file_sep,
                                **options)
        except (DataLoadError, SpecError) as exc:
            raise RequestError(422, "source_error", _told(source, str(exc), table, query)
                               ) from None
        except Exception as exc:  # a driver's or store's own error the library did not word
            log.error("named source %r failed (%s)", source.name, type(exc).__name__,
                      exc_info=exc)
            raise RequestError(502, "source_failed", f"source '{source.name}' could not be "
                               f"read ({type(exc).__name__}). Fix: try again later; if it "
                               "persists, tell the service's operator (the server log has "
                               "the details)") from None
        rows, columns = frame.shape
        if rows * columns * 2 > self.max_bytes:  # a cell and its separator: 2 bytes at least
            raise _too_large(source.name, rows, columns, None, self.max_bytes)
        content = frame.to_csv(index=False, sep=sep).encode("utf-8")
        if len(content) > self.max_bytes:
            raise _too_large(source.name, rows, columns, len(content), self.max_bytes)
        return content


def _options(source: NamedSource, timeout: float) -> dict[str, Any]:
    """``read_source`` options: the operator's, the download timeout for a web address;
    guards beside the rolled-back transaction: for PostgreSQL a statement timeout and
    read-only transactions (unless the operator set the session's options), a SQLite
    file opened read-only."""
    options = dict(source.options)
    if source.kind in ("http", "kaggle"):
        options.setdefault("timeout", timeout)
    scheme = source.url.partition("://")[0].lower()
    if source.kind == "sql" and scheme.partition("+")[0] in ("postgresql", "postgres"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", f"-c statement_timeout={int(timeout * 1000)} "
                                           f"{READ_ONLY_SESSION}")
        options["connect_args"] = connect_args
    if scheme in ("sqlite", "sqlite+pysqlite") and "creator" not in options:
        path = _sqlite_file(source.url)
        if path is not None:
            options["creator"] = _read_only(path)
    return options


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: in memory, already a URI, or no URL at all)."""
    try:
        import sqlalchemy as sa

        database = sa.engine.make_url(url).database
    except Exception:  # no SQLAlchemy or no URL: the library says so when it reads
        return None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def _read_only(path: Path) -> Any:
    """A connection factory that opens the SQLite file read-only (``mode=ro``)."""
    import sqlite3

    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    return connect


def _too_large(name: str, rows: int, columns: int, size: int | None,
               limit: int) -> RequestError:
    shown = f" ({size / 1024 / 1024:.3g} MB as CSV)" if size is not None else ""
    return RequestError(413, "too_large", f"source '{name}' returned {rows:,} rows x "
                        f"{columns:,} columns{shown}, over the {limit / 1024 / 1024:g} MB "
                        "limit of a table. Fix: select fewer rows or columns (a date range, "
                        "weekly sums, only the columns the model uses)")


def _told(source: NamedSource, message: str, table: str | None, query: str | None) -> str:
    """The library's message for a user: the source's address, paths, host and secrets
    replaced by its name; a cause that is the operator's to fix says so."""
    text = message
    for old, new in _hidden(source):
        text = text.replace(old, new)
    for where in ("on", "at"):  # "the query failed on <url>": the prefix names the source
        text = text.replace(f" {where} source '{source.name}'", "")
    host = urllib.parse.urlsplit(source.url).hostname if "://" in source.url else None
    if host and len(host) >= 3:  # a whole word only: "db" is not the "db" of "dbname"
        text = re.sub(rf"(?<![\w.-]){re.escape(host)}(?![\w-])", f"<host of {source.name}>",
                      text)
    about_request = (query is not None and "the query" in text) or (
        table is not None and f"'{table}'" in text)
    note = "" if about_request else (
        " (The source's address, credentials and files are set by the service's operator: "
        "pass this message on to them.)")
    return f"source '{source.name}': {text}{note}"


def _hidden(source: NamedSource) -> list[tuple[str, str]]:
    """``(text, replacement)`` pairs, longest text first: the URL in each form a message
    may give it, its secrets and a local file's path."""
    from bayesmmm.data._remote import mask_url, scheme_of, secrets_of

    url, name = source.url, source.name
    shown = f"source '{name}'"
    pairs = {url: shown, mask_url(url): shown}
    scheme = scheme_of(url)
    path: str | None = None
    if source.kind == "sql":
        try:
            import sqlalchemy as sa

            parsed = sa.engine.make_url(url)
            pairs[mask_url(parsed.render_as_string(hide_password=True))] = shown
            pairs[parsed.render_as_string(hide_password=False)] = shown
            path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        except Exception:  # no SQLAlchemy, or a URL it cannot parse: the library says so
            pass
    elif scheme is None:
        path = url
    elif scheme == "file":
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    if path and path != ":memory:":
        for form in {path, str(Path(path).expanduser()), str(Path(path).expanduser().resolve())}:
            pairs[form] = f"<{name}>"
    for secret in secrets_of(url):
        if len(secret) >= 3:
            pairs.setdefault(secret, "***")
    return sorted(pairs.items(), key=lambda p: len(p[0]), reverse=True)
