"""`import bayesmmm` and the command line's help load neither JAX nor the model; the
public names and a fit's answers still work on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import bayesmmm
from bayesmmm.cli import app

FITFILE = Path(__file__).parent / "model" / "fitfiles" / "example_v2.nc"
runner = CliRunner()


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    return done.stdout.strip()


def test_the_package_and_the_cli_load_no_jax() -> None:
    out = _run("import sys, bayesmmm, bayesmmm.cli\n"
               "print(sorted(m for m in ('jax', 'numpyro', 'bayesmmm.model', 'arviz') "
               "if m in sys.modules))")
    assert out == "[]"


def test_a_public_name_loads_on_first_use() -> None:
    out = _run("import bayesmmm as bm, sys\n"
               "print(bm.ModelSpec.__module__, 'bayesmmm.analysis' in sys.modules)")
    assert out == "bayesmmm.model._spec True"


def test_a_fit_read_through_the_model_layer_alone_has_its_answers() -> None:
    out = _run("from bayesmmm.model import load_fit\n"
               f"fit = load_fit({str(FITFILE)!r})\n"
               "print(list(fit.roi().index))")
    assert out == "['x1', 'x2']"


def test_unknown_names_are_attribute_errors() -> None:
    try:
        bayesmmm.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected an AttributeError")
    assert {"fit", "load", "ModelSpec"} <= set(dir(bayesmmm))


def test_every_public_name_resolves() -> None:
    """``bm.estimate_time`` and the rest of ``__all__`` are what the issue and the docs
    call them (a name missing from the lazy table would be an AttributeError)."""
    from bayesmmm.model import estimate_time

    for name in bayesmmm.__all__:
        assert getattr(bayesmmm, name) is not None, name
    assert bayesmmm.estimate_time is estimate_time


def test_version_and_quiet() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"bayesmmm {bayesmmm.__version__}"
    help_text = runner.invoke(app, ["--help"]).output
    assert "--quiet" in help_text and "--install-completion" in help_text


def test_quiet_prints_no_results_but_writes_them(tmp_path: Path) -> None:
    out = tmp_path / "whatif"
    args = ["whatif", str(FITFILE), "--channel", "x1", "--spend-increase", "1",
            "--periods", "4", "--out", str(out)]
    loud = runner.invoke(app, args)
    assert loud.exit_code == 0 and "What if" in loud.output
    quiet = runner.invoke(app, ["--quiet", *args])
    assert quiet.exit_code == 0, quiet.output
    assert "What if" not in quiet.output and "Wrote" not in quiet.output
    assert (out / "whatif.csv").is_file()
