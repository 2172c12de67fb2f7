"""Writing a fit file: NetCDF4 (HDF5, zlib) with the posterior as float32, the data, and
the spec, scalers and metadata as JSON attributes. :mod:`bayesmmm.model._io` reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import xarray as xr

from bayesmmm._files import atomic_write
from bayesmmm.data import MMMData

__all__ = ["FORMAT", "FORMAT_VERSION", "save_fit"]

FORMAT = "bayesmmm-fit"
FORMAT_VERSION = 2


class Fit(Protocol):
    """What the writer reads of a :class:`bayesmmm.Fit`."""

    spec: Any
    data: MMMData
    scalers: Any
    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    meta: dict[str, Any]

    @property
    def coords(self) -> dict[str, list[str]]: ...

    @property
    def dims(self) -> dict[str, list[str]]: ...


def _to_dataset(fit: Fit) -> xr.Dataset:
    coords = fit.coords
    dims = fit.dims
    d = fit.data
    variables: dict[str, tuple[list[str], np.ndarray]] = {}
    for name, draws in fit.posterior.items():
        variables[f"posterior__{name}"] = (["chain", "draw", *dims.get(name, [])],
                                           draws.astype(np.float32))
    for name, values in fit.sample_stats.items():
        arr = values.astype(np.int8) if values.dtype == bool else values
        variables[f"sample_stats__{name}"] = (["chain", "draw"], arr)
    variables["data__y"] = (["data_geo", "time"], d.y_gt)
    variables["data__media"] = (["data_geo", "time", "channel"], d.media_gt)
    variables["data__controls"] = (["data_geo", "time", "control"], d.controls_gt)
    ds = xr.Dataset(
        {k: xr.Variable(v[0], v[1]) for k, v in variables.items()},
        coords={"time": d.dates.strftime("%Y-%m-%d").to_numpy(dtype=str),
                "data_geo": list(d.panels) or ["national"],
                **{k: v for k, v in coords.items()}},
    )
    ds.attrs = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "spec": json.dumps(fit.spec.to_dict()),
        "scalers": json.dumps(fit.scalers.to_dict()),
        "meta": json.dumps(fit.meta, default=str),
        "data": json.dumps({"date_column": d.date_column, "y_column": d.y_column,
                            "frequency": d.frequency, "panels": list(d.panels),
                            "panel_columns": list(d.panel_columns),
                            "control_names": list(d.control_names)}),
    }
    return ds


def save_fit(fit: Fit, path: str | Path) -> Path:
    """Write ``fit`` atomically (a temporary file renamed into place: never half-written).

    Returns the path written. Posterior float32, zlib-compressed; nothing derived is stored.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = _to_dataset(fit)
    encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True}
                for name in ds.data_vars}
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf",
                                                       encoding=encoding))
