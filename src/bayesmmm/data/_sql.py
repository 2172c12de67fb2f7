"""Tables from databases: an SQLAlchemy URL and a query (or a table name) in, a
DataFrame out, every failure one line that says what to change.

The query runs inside a transaction that is always rolled back, so reading never
changes the database, whatever the query does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmmm.data._remote import first_line, mask_url, needs_package, scrub, secrets_of
from bayesmmm.errors import DataLoadError, SpecError

__all__ = ["DIALECT_PACKAGES", "read_sql_source", "table_names"]

#: Dialects SQLAlchemy does not ship -> the package that adds them.
DIALECT_PACKAGES = {"bigquery": "sqlalchemy-bigquery", "snowflake": "snowflake-sqlalchemy",
                    "redshift": "sqlalchemy-redshift", "duckdb": "duckdb-engine",
                    "trino": "'trino[sqlalchemy]'", "databricks": "databricks-sqlalchemy",
                    "clickhouse": "clickhouse-sqlalchemy",
                    "cockroachdb": "sqlalchemy-cockroachdb"}
#: Database drivers (their import names) -> the package to install.
_DRIVER_PACKAGES = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary",
                    "MySQLdb": "mysqlclient", "pymysql": "pymysql",
                    "mysql": "mysql-connector-python", "pyodbc": "pyodbc",
                    "pymssql": "pymssql", "oracledb": "oracledb", "cx_Oracle": "cx_Oracle"}
_MISSING_TABLE = re.compile(r"no such table|relation .* does not exist|table .* (doesn't|does "
                            r"not) exist|not found: table|object .* does not exist|invalid "
                            r"object name|unknown table", re.I)
_BAD_CREDENTIALS = re.compile(r"password authentication failed|authentication failed|access "
                              r"denied|incorrect username or password|invalid (username|"
                              r"password|credentials)|login failed|no password supplied", re.I)
_UNREACHABLE = re.compile(r"connection refused|could not translate host|name or service not "
                          r"known|nodename nor servname|timeout expired|timed out|no route to "
                          r"host|network is unreachable|can't connect|could not connect", re.I)
_SHOWN_TABLES = 20


def read_sql_source(url: str, *, query: str | None = None, table: str | None = None,
                    options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run ``query`` (or read ``table``) on the database at ``url``.

    ``options``: ``params`` (values for ``:name`` placeholders in the query) and any
    :func:`sqlalchemy.create_engine` keyword (``connect_args=`` ...).

    Raises
    ------
    DataLoadError
        SQLAlchemy or the driver is missing, the database cannot be reached or refuses
        the credentials, the query fails, the table is not there, or the result is no
        table (no rows, repeated column names). Passwords never appear.
    SpecError
        Neither or both of ``query`` and ``table``, a malformed URL or a bad option.
    """
    shown, secrets = _shown(url), secrets_of(url)
    options = dict(options or {})
    params = options.pop("params", None)
    try:
        return _read(url, shown, query, table, params, options)
    except (DataLoadError, SpecError) as exc:  # the database's own words may echo a secret
        raise type(exc)(scrub(str(exc), secrets)) from None


def _shown(url: str) -> str:
    """The URL without secrets, as SQLAlchemy parses it (a password may hold an
    unencoded '/', which would end urllib's host part)."""
    try:
        import sqlalchemy as sa

        rendered = sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # no SQLAlchemy, or no URL it can parse: mask as any URL
        return mask_url(url)
    return mask_url(rendered)


def _read(url: str, shown: str, query: str | None, table: str | None,
          params: Mapping[str, Any] | None, options: dict[str, Any]) -> pd.DataFrame:
    try:
        import sqlalchemy as sa
    except ImportError:
        raise DataLoadError(needs_package(f"reading {shown}", "sqlalchemy", extra="sources")
                            ) from None
    if query is not None and table is not None:
        raise SpecError(f"give a query or a table for {shown}, not both. Fix: drop table= "
                        "(CLI: --table) and select from it in the query.")
    engine = _engine(url, shown, options)
    try:
        with _connect(engine, shown) as conn:
            if query is None and table is None:
                raise SpecError(
                    f"{shown} is a database: say what to read. Fix: pass "
                    f"query='SELECT ...' or table='...' (CLI: --query 'SELECT ...' or "
                    f"--table NAME); {_listing(table_names(conn), 'its tables')}.")
            trans = conn.begin()
            try:
                frame = (_read_table(conn, table, shown) if table is not None
                         else _run_query(conn, query or "", params, shown))
            finally:
                trans.rollback()
    except sa.exc.SQLAlchemyError as exc:  # the rollback or closing failed: say so plainly
        raise DataLoadError(f"the database at {shown} failed: {_reason(exc)}") from None
    finally:
        engine.dispose()
    _check_result(frame, shown, table)
    return _dates_as_datetimes(frame)


#: PostgreSQL session options of every read (``connect_args={"options": ...}`` replaces
#: them, and then the caller answers for what the query may do).
READ_ONLY_SESSION = "-c default_transaction_read_only=on"


def _engine(url: str, shown: str, options: dict[str, Any]) -> Any:
    """An engine for ``url``; ``postgres://`` and a bare ``postgresql://`` mean the
    PostgreSQL driver that is installed; a SQLite file must exist (SQLite would create
    an empty one)."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise SpecError(f"{shown} is not a database URL SQLAlchemy can read. Fix: write it "
                        "as dialect://user:password@host:port/database (a password with "
                        "@ : / # must be percent-encoded: urllib.parse.quote_plus).") from None
    parsed = _with_driver(parsed, shown)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _check_sqlite_file(parsed.database, shown)
    if backend == "postgresql":
        connect_args = dict(options.get("connect_args") or {})
        if "connect_timeout" not in parsed.query:  # an unreachable host: fail, not hang
            connect_args.setdefault("connect_timeout", 15)
        if "options" not in parsed.query:
            # the rollback alone does not keep a query from writing: "COMMIT; DROP ..."
            # ends the transaction first. Every transaction of the session is read-only.
            connect_args.setdefault("options", READ_ONLY_SESSION)
        options = {**options, "connect_args": connect_args}
    try:
        engine = sa.create_engine(parsed, **options)
        if parsed.get_driver_name() == "pysqlite":
            _sqlite_transactions(engine)
        return engine
    except sa.exc.NoSuchModuleError:
        package = DIALECT_PACKAGES.get(backend)
        fix = (f"pip install {package}" if package else
               "install the SQLAlchemy dialect for this database, or check the URL's scheme")
        raise DataLoadError(f"{shown}: SQLAlchemy has no dialect '{parsed.drivername}'. "
                            f"Fix: {fix}.") from None
    except ImportError as exc:  # the dialect's driver (the DBAPI module) is not installed
        module = (exc.name or "").partition(".")[0] or parsed.drivername
        package = _DRIVER_PACKAGES.get(module) or DIALECT_PACKAGES.get(backend) or module
        raise DataLoadError(needs_package(f"reading {shown}", f"the driver {module}",
                                          pip=package)) from None
    except TypeError as exc:
        raise SpecError(f"an option for {shown} was not accepted: {first_line(exc)}. Fix: "
                        "pass params= for the query and create_engine's own keywords "
                        "(connect_args= ...).") from None


def _sqlite_transactions(engine: Any) -> None:
    """Make the transaction real on SQLite. Python's sqlite3 opens one only before a
    statement whose first word is INSERT, UPDATE, DELETE or REPLACE, so ``WITH x AS
    (...) DELETE FROM t`` ran outside any transaction and the rollback undid nothing.
    SQLAlchemy's recipe for pysqlite: no implicit transactions, BEGIN when it begins one
    (then VACUUM and ATTACH refuse to run inside it, too)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def _with_driver(parsed: Any, shown: str) -> Any:
    """``postgres`` and ``postgresql`` without a driver: psycopg 3 if installed (as the
    job store), else psycopg2."""
    if parsed.drivername not in ("postgres", "postgresql"):
        return parsed
    for module, name in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql")):
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=name)
    raise DataLoadError(needs_package(f"reading {shown}", "a PostgreSQL driver",
                                      pip="'psycopg[binary]'"))


def _check_sqlite_file(database: str | None, shown: str) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise DataLoadError(
            f"SQLite database file '{path}' ({shown}) {what}. Fix: check the path: "
            "sqlite:///sales.db is relative to the current folder, sqlite:////data/sales.db "
            "absolute.")


def _connect(engine: Any, shown: str) -> Any:
    """An open connection, or a DataLoadError saying why there is none."""
    try:
        return engine.connect()
    except Exception as exc:  # DBAPI errors, and the dialects' own (cloud auth ...)
        reason = _reason(exc)
        user = engine.url.username
        if _BAD_CREDENTIALS.search(reason):
            who = f" for user '{user}'" if user else ""
            raise DataLoadError(
                f"the database at {shown} refused the credentials{who}: {reason}. Fix: check "
                "the user name and password in the URL (dialect://USER:PASSWORD@host/db; "
                "percent-encode @ : / # in the password with urllib.parse.quote_plus), or "
                "the dialect's credential settings.") from None
        if _UNREACHABLE.search(reason):
            raise DataLoadError(
                f"cannot reach the database at {shown}: {reason}. Fix: check the host and "
                "port, that the server runs and that this machine may connect to it "
                "(firewall, VPN).") from None
        raise DataLoadError(f"could not connect to the database at {shown}: {reason}. Fix: "
                            "check the URL (host, port, database name, user).") from None


def _run_query(conn: Any, query: str, params: Mapping[str, Any] | None,
               shown: str) -> pd.DataFrame:
    import sqlalchemy as sa

    if not query.strip():
        raise SpecError("the query is empty. Fix: pass a SELECT statement.")
    # Through text(), a '%' reaches every driver as written (psycopg would read it as a
    # placeholder), and :name placeholders take params (a literal colon: \\:).
    try:
        return pd.read_sql(sa.text(query), conn, params=dict(params) if params else None)
    except sa.exc.ResourceClosedError:
        raise DataLoadError(f"the query returned no table (it is not a SELECT?) on {shown}. "
                            "Fix: pass a query that selects rows.") from None
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        reason = _reason(exc)
        tables = ""
        if _MISSING_TABLE.search(reason):
            tables = f" ({_listing(_tables_anew(conn.engine), 'the tables there')})"
        raise DataLoadError(f"the query failed on {shown}: {reason}{tables}. Fix: correct "
                            "the query (run it in the database's own console to see more)."
                            ) from None


def _read_table(conn: Any, table: str, shown: str) -> pd.DataFrame:
    """The whole table ``table`` (``schema.table`` names a schema)."""
    names = table_names(conn)
    schema, name = None, table
    if table not in names and "." in table:
        schema, _, name = table.rpartition(".")
        names = table_names(conn, schema)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        where = f"schema '{schema}' of the database" if schema else "the database"
        raise DataLoadError(f"table '{name}' is not in {where} at {shown}; "
                            f"{_listing(names, 'its tables')}. Fix: {hint}pass one of them "
                            "as the table (CLI: --table NAME), or a query.")
    return pd.read_sql_table(name, conn, schema=schema)


def table_names(conn: Any, schema: str | None = None) -> list[str]:
    """Tables and views of ``schema`` (the default one if None), sorted; empty when the
    database will not list them."""
    import sqlalchemy as sa

    try:
        inspector = sa.inspect(conn)
        return sorted({*inspector.get_table_names(schema), *inspector.get_view_names(schema)})
    except Exception:  # listing is a courtesy in a message; never the error itself
        return []


def _tables_anew(engine: Any) -> list[str]:
    """The tables, seen from a fresh connection (PostgreSQL refuses anything more in the
    transaction of a failed query)."""
    try:
        with engine.connect() as conn:
            return table_names(conn)
    except Exception:  # a courtesy in a message, as in table_names
        return []


def _listing(names: list[str], what: str) -> str:
    if not names:
        return f"{what}: none found"
    shown = ", ".join(names[:_SHOWN_TABLES])
    more = f" and {len(names) - _SHOWN_TABLES} more" if len(names) > _SHOWN_TABLES else ""
    return f"{what}: {shown}{more}"


def _reason(exc: BaseException) -> str:
    """The database's own one-line message: a DBAPI error's, not the wrappers' around
    it (pandas' "Execution failed on sql ...", SQLAlchemy's statement and link)."""
    seen: BaseException | None = exc
    while seen is not None:
        orig = getattr(seen, "orig", None)
        if isinstance(orig, BaseException):
            return first_line(orig)
        seen = seen.__cause__ or seen.__context__
    return first_line(exc)


def _check_result(frame: pd.DataFrame, shown: str, table: str | None) -> None:
    what = f"table '{table}'" if table is not None else "the query"
    if frame.shape[1] == 0:
        raise DataLoadError(f"{what} on {shown} returned no columns. Fix: select the date, "
                            "target and spend columns.")
    repeated = sorted({str(c) for c in frame.columns if list(frame.columns).count(c) > 1})
    if repeated:
        raise DataLoadError(f"{what} on {shown} returns column(s) {repeated} more than once "
                            "(a join's columns of the same name?). Fix: give each its own "
                            "name: SELECT a.spend AS spend_a, b.spend AS spend_b ...")
    if len(frame) == 0:
        raise DataLoadError(f"{what} on {shown} returned columns but no rows. Fix: check the "
                            "query's WHERE clause and joins.")


def _dates_as_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    """DATE columns arrive from a query as Python dates (from a table read, as
    datetimes): make both datetimes, as a parsed CSV date column would be."""
    for column in frame.columns:
        if not pd.api.types.is_object_dtype(frame[column].dtype):
            continue
        values = frame[column].dropna()
        if len(values) and all(isinstance(v, dt.date) for v in values):
            with contextlib.suppress(ValueError, TypeError):  # mixed zones: validation says
                frame[column] = pd.to_datetime(frame[column])
    return frame
