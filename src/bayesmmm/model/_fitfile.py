"""Writing a fit file: ArviZ ``InferenceData`` on disk (NetCDF4/HDF5, zlib).

Format version 3 (this writer): the groups of :mod:`bayesmmm.model._idata` as NetCDF
groups, so ``az.from_netcdf(path)`` and ``xarray.open_datatree(path)`` read it::

    /                 attributes: format, format_version, spec, scalers, meta, data (column
                      names, frequency, panel columns), bayesmmm/JAX/NumPyro/ArviZ versions
    /posterior        every site, float32, (chain, draw, *dims)
    /sample_stats     diverging, n_steps, energy, acceptance_rate
    /observed_data    y (date[, geo]), original units
    /constant_data    channel_data (date[, geo], channel), control_data (date[, geo], control)
    /log_likelihood   y (chain, draw, date[, geo]), float32: when not too large (see
                      :data:`LOG_LIKELIHOOD_MAX_VALUES`)
    /prior            prior draws, when the fit has them

Nothing else derived is stored (contributions, ROI, predictions are recomputed from the
posterior and the data). Versions 1 and 2 (one flat dataset of ``posterior__*``,
``sample_stats__*`` and ``data__*`` variables) are still read by
:mod:`bayesmmm.model._io`.

An averaged fit (format ``bayesmmm-averaged-fit``, version 2) keeps its weights and
comparison in the root attributes and each member's fit as above under ``/member_<i>``:
``az.InferenceData.from_netcdf(path, base_group="member_0")`` reads one member.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import xarray as xr

from bayesmmm._files import atomic_write
from bayesmmm.model import _quiet  # noqa: F401  (first: quiets tqdm before NumPyro loads it)
from bayesmmm.model._idata import (
    FitLike,
    constant_dataset,
    log_likelihood_dataset,
    observed_dataset,
    posterior_dataset,
    prior_dataset,
    sample_stats_dataset,
)

__all__ = ["AVERAGED_FORMAT", "AVERAGED_FORMAT_VERSION", "FORMAT", "FORMAT_VERSION",
           "LOG_LIKELIHOOD_MAX_VALUES", "GROUPS", "LogLikelihood", "file_attrs",
           "member_group", "save_averaged", "save_fit"]

FORMAT = "bayesmmm-fit"
FORMAT_VERSION = 3
#: An averaged fit: attributes in the root group (member labels, weights, comparison),
#: one group per member holding that member's fit as FORMAT does.
AVERAGED_FORMAT = "bayesmmm-averaged-fit"
AVERAGED_FORMAT_VERSION = 2
#: The InferenceData groups a fit file may hold, in the order written.
GROUPS = ("posterior", "sample_stats", "observed_data", "constant_data", "log_likelihood",
          "prior")
#: ``log_likelihood="auto"`` stores the pointwise log likelihood when it has at most this
#: many values (draws x observations: 4 x 1000 draws of 500 observations, ~8 MB). It is the
#: largest group by far (the posterior of a model has tens of values per draw, the
#: likelihood one per observation) and is recomputed on demand by ``Fit.idata``, so
#: above this the file leaves it out rather than grow many times over.
LOG_LIKELIHOOD_MAX_VALUES = 2_000_000

LogLikelihood = bool | Literal["auto"]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - a source checkout
        return "unknown"


def versions() -> dict[str, str]:
    """Versions of the libraries that made a fit (written as file attributes)."""
    return {f"{p}_version": _version(p) for p in ("bayesmmm", "jax", "numpyro", "arviz")}


def file_attrs(fit: FitLike) -> dict[str, Any]:
    """The root attributes of a fit's file: what it is, how to rebuild the model, who
    made it."""
    d = fit.data
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "spec": json.dumps(fit.spec.to_dict()),
        "scalers": json.dumps(fit.scalers.to_dict()),
        "meta": json.dumps(fit.meta, default=str),
        "data": json.dumps({"date_column": d.date_column, "y_column": d.y_column,
                            "frequency": d.frequency, "panel_columns": list(d.panel_columns)}),
        **versions(),
        "inference_library": "numpyro",
        "inference_library_version": _version("numpyro"),
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def wants_log_likelihood(fit: FitLike, log_likelihood: LogLikelihood) -> bool:
    """Whether the file stores the log likelihood (``"auto"``: when it is not too large)."""
    if log_likelihood != "auto":
        return bool(log_likelihood)
    draws = int(fit.sample_stats["diverging"].size)
    return draws * fit.data.n_geos * fit.data.n_times <= LOG_LIKELIHOOD_MAX_VALUES


def fit_groups(fit: FitLike, log_likelihood: LogLikelihood = "auto") -> dict[str, xr.Dataset]:
    """The groups written for ``fit`` (see the module's docstring)."""
    groups = {"posterior": posterior_dataset(fit),
              "sample_stats": sample_stats_dataset(fit, tree_depth=False),
              "observed_data": observed_dataset(fit),
              "constant_data": constant_dataset(fit)}
    if wants_log_likelihood(fit, log_likelihood):
        groups["log_likelihood"] = log_likelihood_dataset(fit)
    if getattr(fit, "prior", None) is not None:
        groups["prior"] = prior_dataset(fit)
    return groups


def _write(ds: xr.Dataset, path: Path, group: str | None = None) -> None:
    encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True}
                for name in ds.data_vars if ds[name].size}
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding, group=group,
                 mode="w" if group is None else "a")


def _write_fit(fit: FitLike, tmp: Path, base: str | None,
               log_likelihood: LogLikelihood) -> None:
    """The root attributes of ``fit`` on ``base`` (None: the file's root) and its groups
    below it."""
    _write(xr.Dataset(attrs=file_attrs(fit)), tmp, base)
    for name, ds in fit_groups(fit, log_likelihood).items():
        _write(ds, tmp, name if base is None else f"{base}/{name}")


def save_fit(fit: FitLike, path: str | Path, *,
             log_likelihood: LogLikelihood = "auto") -> Path:
    """Write ``fit`` atomically (a temporary file renamed into place: never half-written).

    Returns the path written. ``log_likelihood``: store the pointwise log likelihood
    (``True``), leave it out (``False``: ``Fit.idata`` recomputes it) or store it when
    it has at most :data:`LOG_LIKELIHOOD_MAX_VALUES` values (``"auto"``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda tmp: _write_fit(fit, tmp, None, log_likelihood))


def member_group(i: int) -> str:
    return f"member_{i}"


def save_averaged(fits: Mapping[str, FitLike], weights: Mapping[str, float],
                  comparison_json: str, meta: dict[str, Any], path: str | Path, *,
                  log_likelihood: LogLikelihood = "auto") -> Path:
    """Write an averaged fit: its members (one group each) and their weights, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = xr.Dataset(attrs={"format": AVERAGED_FORMAT,
                             "format_version": AVERAGED_FORMAT_VERSION,
                             "members": json.dumps(list(fits)),
                             "weights": json.dumps(dict(weights)), "comparison": comparison_json,
                             "meta": json.dumps(meta, default=str), **versions()})

    def write(tmp: Path) -> None:
        _write(root, tmp)
        for i, member in enumerate(fits.values()):
            _write_fit(member, tmp, member_group(i), log_likelihood)

    return atomic_write(path, write)
