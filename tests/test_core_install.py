"""The core install (``pip install bayesmmm``, no extras) fits, analyses, saves and
reports; what needs an extra says which one, in one line.

CI builds ``.venv-core`` (``CORE=1 bash scripts/setup.sh``: the package and pytest, no
extras) and runs this file there with ``BAYESMMM_CORE_ONLY=1``. In the full environment
the same tests run with the extras' packages made unimportable.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORE_ONLY = os.environ.get("BAYESMMM_CORE_ONLY") == "1"
#: Packages of the extras. pandas and xarray import some on their own when present
#: (pyarrow, fsspec; xarray's to_netcdf asks dask, which asks distributed, for a
#: scheduler), so NEVER_LOADED lists those BayesMMM alone would import.
EXTRA_PACKAGES = {"fastapi": "service", "uvicorn": "service", "multipart": "service",
                  "httpx": "service", "sqlalchemy": "service", "alembic": "service",
                  "distributed": "service", "fsspec": "service", "psycopg": "postgres",
                  "pyarrow": "parquet", "ipywidgets": "notebook", "mcp": "mcp"}
NEVER_LOADED = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "httpx", "mcp", "ipywidgets",
                "psycopg")


@pytest.mark.skipif(not CORE_ONLY, reason="the core-only venv of .ci/run")
def test_the_core_install_has_no_extra() -> None:
    present = [m for m in EXTRA_PACKAGES if importlib.util.find_spec(m) is not None]
    assert present == []


def test_the_demo_and_report_run_on_the_core(tmp_path: Path) -> None:
    """`bayesmmm demo` (fit, answers, fit file) and `bayesmmm report` (the HTML report,
    optimizer, figures) load no extra's package."""
    out = tmp_path / "demo"
    code = (
        "import json, sys\n"
        "from bayesmmm.cli import app\n"
        "codes = []\n"
        f"for args in (['demo', '--out', {str(out)!r}, '--chains', '2', '--warmup', '100',\n"
        "              '--draws', '50'],\n"
        f"             ['report', {str(out / 'fit.nc')!r}, '--out',\n"
        f"              {str(out / 'report.html')!r}]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        codes.append(exc.code)\n"
        "import bayesmmm as bm\n"
        f"fit = bm.load_fit({str(out / 'fit.nc')!r})\n"
        "print(json.dumps({'codes': codes, 'groups': sorted(fit.idata.groups()),\n"
        f"    'loaded': sorted(m for m in {list(NEVER_LOADED)!r} if m in sys.modules)}}))\n")
    env = {**os.environ, "BAYESMMM_CACHE_DIR": str(tmp_path / "jax")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(c in (0, None) for c in result["codes"]), (result, proc.stderr[-3000:])
    assert result["loaded"] == []
    assert "log_likelihood" in result["groups"]
    assert (out / "fit.nc").is_file() and (out / "report.html").stat().st_size > 10_000


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Make packages unimportable (in the core venv they already are)."""
    def hide(*names: str) -> None:
        if not CORE_ONLY:
            for name in names:
                monkeypatch.setitem(sys.modules, name, None)
    return hide


def test_a_parquet_file_without_pyarrow_names_the_extra(tmp_path: Path, without) -> None:  # type: ignore[no-untyped-def]
    import bayesmmm as bm

    path = tmp_path / "sales.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    without("pyarrow", "fastparquet")
    with pytest.raises(bm.DataLoadError) as info:
        bm.load_table(path)
    message = str(info.value)
    assert "\n" not in message
    assert "pip install 'bayesmmm[parquet]'" in message


@pytest.mark.parametrize(("args", "extra"), [
    (["serve"], "service"),
    (["worker", "tcp://127.0.0.1:1"], "service"),
    (["mcp"], "mcp"),
])
def test_a_command_without_its_extra_names_it(args: list[str], extra: str, without) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from bayesmmm.cli import app

    without("fastapi", "uvicorn", "sqlalchemy", "distributed", "dask", "mcp")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"pip install 'bayesmmm[{extra}]'" in lines[0]
