"""Data sources the operator names (``BAYESMMM_SOURCES_FILE``): where each table lives
and what users may read from it, checked once when the service starts.

Users name a source; its URL, credentials and options stay on the server. A server
that opened any database URL or fetched any address a user typed would let users reach
its internal network and see its credentials (server-side request forgery), so the
operator decides which sources exist, which tables of a database users may read whole,
and whether they may send their own SELECT at all.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayesmmm.service._errors import ConfigError

__all__ = ["LIMITS", "NamedSource", "load_sources", "parse_sources", "placeholders"]

VAR = "BAYESMMM_SOURCES_FILE"

#: Sizes of a source's settings (names and tables are also bounds of requests).
LIMITS: dict[str, int] = {
    "name": 64,            # characters of a source's name
    "table": 256,          # characters of a table name (schema.table)
    "tables": 200,         # tables one source offers
    "description": 500,    # characters of a description
    "listing": 90_000,     # characters of all sources as listSources shows them
}

_SLUG = re.compile(rf"[A-Za-z0-9_-]{{1,{LIMITS['name']}}}")
_KEYS = ("url", "description", "tables", "queries", "query", "options")
#: Options of a source that is a file, by kind (databases and object stores take their
#: driver's or file system's own).
_FILE_OPTIONS = {"file": ("sep",), "http": ("sep", "headers", "timeout"),
                 "kaggle": ("sep", "timeout")}
#: ``:name`` placeholders as SQLAlchemy's ``text()`` reads them (``\\:`` and ``::`` are not).
_PLACEHOLDER = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_EXAMPLE = ('[warehouse]\nurl = "postgresql://mmm_reader@db.internal/marketing"\n'
            'tables = ["weekly_sales"]')


@dataclass(frozen=True)
class NamedSource:
    """One source: its ``url`` (any :func:`bayesmmm.data.read_source` source), its
    ``kind`` (``sql``, ``file``, ``http``, ``fsspec`` or ``kaggle``) and what users may
    read: ``tables`` whole, their own SELECT (``queries``), or only the operator's
    ``query``. The URL, the query text and the options never leave the server."""

    name: str
    url: str = field(repr=False)
    kind: str
    description: str = ""
    tables: tuple[str, ...] = ()
    queries: bool = False
    query: str | None = field(default=None, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False,
                                       compare=False)

    def public(self) -> dict[str, Any]:
        """What users may know of it (listSources): no URL, options or query text."""
        return {"name": self.name, "description": self.description, "kind": self.kind,
                "tables": list(self.tables), "queries": self.queries,
                "fixed_query": self.query is not None, "params": self.user_params()}

    def user_params(self) -> list[str]:
        """The placeholders of the operator's query that users fill (those the operator
        gave in ``options.params`` are fixed)."""
        fixed = self.options.get("params") or {}
        return [p for p in placeholders(self.query) if p not in fixed] if self.query else []


def placeholders(query: str) -> list[str]:
    """The ``:name`` placeholders of a query, in order, each once."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(query)))


def load_sources(path: str | Path) -> tuple[NamedSource, ...]:
    """The sources of a TOML or JSON file: a table per source name.

    Raises
    ------
    ConfigError
        The file is missing or unreadable, is not valid TOML or JSON, or a source in it
        breaks a rule; the message names the variable, the source, the rule and a fix.
    """
    path = Path(path).expanduser()
    where = f"{VAR} ('{path}')"
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"{VAR}: '{path}' must be a .toml or .json file. Fix: name the "
                          "file sources.toml (or sources.json) and write one table per source "
                          f"in it, e.g.\n{_EXAMPLE}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{VAR}: the file '{path}' does not exist. Fix: point {VAR} at "
                          "the sources file (docs/service.md, 'Named data sources'), or "
                          "unset it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{VAR}: the file '{path}' cannot be read ({type(exc).__name__}: "
                          f"{exc}). Fix: make it a UTF-8 text file the service's user may "
                          "read") from None
    return parse_sources(_parse(text, suffix, where), where)


def _parse(text: str, suffix: str, where: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{where} is not valid JSON: {exc}. Fix: correct the file at "
                              "that line and column") from None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}. Fix: correct the file at "
                          "that line and column") from None


def parse_sources(data: Any, where: str = VAR) -> tuple[NamedSource, ...]:
    """Sources from a mapping ``{name: {url, description, tables, queries, query,
    options}}``, each checked (:class:`ConfigError` names ``where``, the source and the
    rule broken, never the URL)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the file must hold a table per source name, got "
                          f"{type(data).__name__}. Fix: write it as, e.g.\n{_EXAMPLE}")
    sources = tuple(_source(str(name), entry, where) for name, entry in data.items())
    size = len(json.dumps([s.public() for s in sources]))
    if size > LIMITS["listing"]:
        raise ConfigError(f"{where}: the sources and their tables take {size:,} characters "
                          f"to list, over the {LIMITS['listing']:,} one answer of listSources "
                          "may hold. Fix: offer fewer tables per source, or shorter "
                          "descriptions")
    return sources


def _source(name: str, entry: Any, where: str) -> NamedSource:
    if not _SLUG.fullmatch(name):
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:LIMITS["name"]] or "sales"
        raise ConfigError(f"{where}: source name {name[:100]!r} is not a short slug; a "
                          f"name is 1 to {LIMITS['name']} letters, digits, '-' or '_' (users "
                          f"type it). Fix: rename it, e.g. {slug!r}")
    what = f"{where}: source '{name}'"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{what} must be a table of settings ({', '.join(_KEYS)}), got "
                          f"{type(entry).__name__}. Fix: write [{name}] and url = \"...\" "
                          "under it (TOML), or \"" + name + "\": {\"url\": \"...\"} (JSON)")
    unknown = sorted(str(k) for k in entry if k not in _KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], _KEYS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ConfigError(f"{what}: unknown setting(s) {unknown}; a source takes "
                          f"{', '.join(_KEYS)}. Fix: {hint}remove or rename them")
    url = entry.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{what} has no url. Fix: add url = \"...\": a database URL "
                          "(postgresql://reader@host/db, sqlite:////srv/sales.db), an "
                          "https:// or s3:// address, or a local path")
    kind = _kind(url.strip(), what)
    description = _text(entry.get("description", ""), "description", what,
                        LIMITS["description"])
    tables = _tables(entry.get("tables", []), what)
    queries = entry.get("queries", False)
    if not isinstance(queries, bool):
        raise ConfigError(f"{what}: queries must be true or false, got {queries!r}. Fix: "
                          "queries = true lets users send their own SELECT; leave it out "
                          "(false) to offer only the tables")
    query = entry.get("query")
    if query is not None:
        query = _text(query, "query", what, 100_000)
        if not query.strip():
            raise ConfigError(f"{what}: query is empty. Fix: write the SELECT users read, "
                              "or remove query")
    options = entry.get("options", {})
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise ConfigError(f"{what}: options must be a table of named options (e.g. "
                          f"[{name}.options.connect_args]), got {type(options).__name__}. Fix: "
                          "write them as key = value under [" + name + ".options]")
    _check_reads(kind, tables, queries, query, what)
    _check_options(kind, options, what)
    return NamedSource(name=name, url=url.strip(), kind=kind, description=description,
                       tables=tables, queries=queries, query=query, options=dict(options))


def _kind(url: str, what: str) -> str:
    from bayesmmm.data._remote import scheme_of
    from bayesmmm.data._sources import source_kind
    from bayesmmm.errors import SpecError

    scheme = scheme_of(url)
    if scheme is None:
        return "file"  # a local path
    try:
        return source_kind(scheme)
    except SpecError as exc:  # names the scheme only: the URL may hold a password
        raise ConfigError(f"{what}: url: {exc}") from None


def _text(value: Any, key: str, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what}: {key} must be text, got {type(value).__name__}. Fix: "
                          f"write {key} = \"...\"")
    if len(value) > limit:
        raise ConfigError(f"{what}: {key} is {len(value):,} characters long, over the limit "
                          f"of {limit:,}. Fix: shorten it")
    return value


def _tables(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ConfigError(f"{what}: tables must be a list of table names, got {value!r}. "
                          "Fix: tables = [\"weekly_sales\", \"marketing.weekly_eu\"]")
    bad = [t for t in value if not t.strip() or len(t) > LIMITS["table"]]
    if bad:
        raise ConfigError(f"{what}: table name {bad[0][:300]!r} is empty or over "
                          f"{LIMITS['table']} characters. Fix: give each table as the "
                          "database names it (schema.table)")
    if len(value) > LIMITS["tables"]:
        raise ConfigError(f"{what}: {len(value)} tables, over the limit of "
                          f"{LIMITS['tables']}. Fix: offer fewer, or queries = true")
    if len(set(value)) < len(value):
        twice = sorted({t for t in value if value.count(t) > 1})
        raise ConfigError(f"{what}: tables lists {twice} more than once. Fix: list each "
                          "table once")
    return tuple(value)


def _check_reads(kind: str, tables: tuple[str, ...], queries: bool, query: str | None,
                 what: str) -> None:
    """A database says what users may read, in one way; a file takes none of it."""
    given = [k for k, on in (("tables", bool(tables)), ("queries", queries),
                             ("query", query is not None)) if on]
    if kind != "sql":
        if given:
            raise ConfigError(f"{what} is a file ({kind}); {' and '.join(given)} apply to "
                              "databases. Fix: remove them (users read the whole file), or "
                              "give a database URL")
        return
    if not given:
        raise ConfigError(f"{what} is a database, but says nothing users may read. Fix: add "
                          "tables = [\"...\"] (tables read whole), queries = true (users "
                          "send their own SELECT) or query = \"SELECT ...\" (the one table "
                          "users read)")
    if query is not None and (tables or queries):
        raise ConfigError(f"{what}: query fixes what users read, so tables and queries do "
                          "not apply. Fix: remove query, or remove tables and queries")


def _check_options(kind: str, options: Mapping[str, Any], what: str) -> None:
    if kind == "sql" and not isinstance(options.get("params", {}), Mapping):
        raise ConfigError(f"{what}: options.params must be a table of values for the "
                          "query's :name placeholders. Fix: write them under "
                          "[NAME.options.params]")
    allowed = _FILE_OPTIONS.get(kind)
    if allowed is None:
        return  # a database's create_engine keywords, a file system's own options
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"{what}: option(s) {unknown} do not apply to a {kind} source; it "
                          f"takes {', '.join(allowed)}. Fix: remove them")
