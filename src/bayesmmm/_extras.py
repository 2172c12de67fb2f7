"""Which optional extra provides a third-party module, and the one-line message for a
missing one.

The core install (``pip install bayesmmm``) fits, analyses, plans, simulates and
reports; the service, PostgreSQL, Parquet files, notebooks, the MCP server and the peer
benchmark need extras (``pyproject.toml``). Code that imports an extra's package turns
the ``ModuleNotFoundError`` into :func:`missing_extra`'s message.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "extra_for", "missing_extra"]

#: Top-level module -> the extra that installs it.
EXTRAS: dict[str, str] = {
    "fastapi": "service", "starlette": "service", "uvicorn": "service",
    "multipart": "service", "python_multipart": "service", "httpx": "service",
    "sqlalchemy": "service", "alembic": "service", "distributed": "service",
    "dask": "service", "fsspec": "service", "pydantic": "service",
    "psycopg": "postgres", "psycopg2": "postgres",
    "pyarrow": "parquet", "fastparquet": "parquet",
    "ipywidgets": "notebook", "ipykernel": "notebook",
    "mcp": "mcp",
    "pymc_marketing": "bench", "nutpie": "bench",
}


def extra_for(module: str | None) -> str | None:
    """The extra providing ``module`` (a dotted name is read by its top level), or None."""
    if not module:
        return None
    return EXTRAS.get(module.partition(".")[0])


def missing_extra(exc: ImportError, what: str = "this") -> str | None:
    """``"<what> needs <module> (the '<extra>' extra). Fix: pip install
    'bayesmmm[<extra>]'"`` for a module of an extra, None for any other import error."""
    extra = extra_for(exc.name)
    if extra is None:
        return None
    return (f"{what} needs {exc.name} (the '{extra}' extra). Fix: pip install "
            f"'bayesmmm[{extra}]'")
