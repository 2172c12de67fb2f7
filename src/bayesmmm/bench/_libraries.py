"""The libraries the benchmark fits: their samplers, interpreters and model differences."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LIBRARIES", "Library", "find_benchmarks", "find_interpreter"]


@dataclass(frozen=True)
class Library:
    """A library under benchmark.

    ``modules`` must import in its interpreter; ``venv`` is the folder (in the checkout)
    tried when the current interpreter lacks them; ``differences`` says, per data kind,
    where its model differs from BayesMMM's.
    """

    name: str
    samplers: tuple[str, ...]
    modules: tuple[str, ...]
    venv: str | None
    install: str
    differences: str


LIBRARIES: dict[str, Library] = {
    "bayesmmm": Library(
        "bayesmmm", ("nuts",), ("bayesmmm",), None, "pip install bayesmmm",
        "The reference: the spec written by the simulation (classic forms for "
        "small_business and medium_business; per-geo scaling and partial pooling of "
        "channel parameters and controls for panels). NumPyro NUTS at --target-accept."),
    "pymc-marketing": Library(
        "pymc-marketing", ("nutpie", "pymc", "numpyro", "blackjax"),
        ("pymc_marketing",), ".venv-bench", "pip install 'bayesmmm[bench]'",
        "National data: PyMC-Marketing's classic `MMM` from benchmarks/fit_speed.py: the "
        "same structure and default priors (normalised geometric adstock, logistic "
        "saturation, unscaled controls, yearly Fourier seasonality, max scaling). Panels: "
        "the multidimensional `MMM(dims=('geo',))` from benchmarks/geo_speed.py with "
        "per-geo max scaling and BayesMMM's non-centred geo hierarchy expressed in its "
        "priors (see that file's docstring for every difference). Only geometric adstock "
        "and logistic saturation are mirrored: data simulated with other forms are fitted "
        "with those two. Its summary's variable names are mapped to BayesMMM's "
        "(`adstock_alpha_raw_mu_raw` -> `adstock_alpha`, `adstock_alpha` -> "
        "`adstock_alpha_geo`, `intercept_contribution` -> `intercept` ...). Its sampler gets "
        "--target-accept as `target_accept`."),
    "meridian": Library(
        "meridian", ("tfp",), ("meridian",), ".venv-meridian", "pip install google-meridian",
        "Google Meridian: Hill saturation (it has no logistic form), so only `adstock_alpha` "
        "(its `alpha_m`, normalised geometric decay, max_lag = l_max - 1 so both use l_max "
        "weights, prior set to BayesMMM's Beta(1, 3)), the ROIs and the contributions are "
        "compared with the truth. Its ROI-parameterised media priors (roi_m ~ "
        "LogNormal(0.2, 0.9)) and its KPI/media scaling are its own defaults; the yearly "
        "Fourier terms are given as controls and the time-varying intercept has one knot "
        "(a constant baseline); panels get population 1 per geo, and its channel "
        "parameters are shared by all geos (no geo-level media parameters). TFP's "
        "windowed-adaptive NUTS, --tune adaptation draws, no extra burn-in, --target-accept "
        "as its step-size adaptation's `target_accept_prob`."),
}


def _repo_roots() -> list[Path]:
    """The current folder and the source checkout this package runs from, if any."""
    here = Path(__file__).resolve().parents[3]  # src/bayesmmm/bench/_x.py -> checkout
    return list(dict.fromkeys([Path.cwd(), here]))


def find_benchmarks() -> Path | None:
    """The checkout's ``benchmarks/`` folder with the peer adapters, if there is one."""
    for root in _repo_roots():
        if (root / "benchmarks" / "fit_speed.py").is_file():
            return root / "benchmarks"
    return None


def _imports(python: str, modules: tuple[str, ...]) -> bool:
    code = "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in " \
        f"{list(modules)!r}) else 1)"
    try:
        return subprocess.run([python, "-c", code], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_interpreter(lib: Library, given: str | Path | None = None) -> tuple[str | None, str]:
    """``(python, how)``: the interpreter to fit ``lib`` with, or ``(None, reason)``.

    ``given`` wins (the child then reports a missing library itself); otherwise the
    current interpreter when it has the library, else ``<checkout>/<venv>/bin/python``.
    """
    if given is not None:
        path = Path(given)
        if not path.exists():
            return None, f"--peer-python {given} does not exist"
        return str(path), f"given ({given})"
    if _imports(sys.executable, lib.modules):
        return sys.executable, "current interpreter"
    if lib.venv:
        for root in _repo_roots():
            python = root / lib.venv / "bin" / "python"
            if python.exists():
                return str(python), str(python)
    where = f" (nor in {lib.venv}/)" if lib.venv else ""
    return None, f"not installed in {sys.executable}{where}: {lib.install}"
