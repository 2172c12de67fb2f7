"""Writing a fit file: NetCDF4 (HDF5, zlib) with the posterior as float32, the data, and
the spec, scalers and metadata as JSON attributes. :mod:`bayesmmm.model._io` reads it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import xarray as xr

from bayesmmm._files import atomic_write
from bayesmmm.data import MMMData

__all__ = ["AVERAGED_FORMAT", "FORMAT", "FORMAT_VERSION", "save_averaged", "save_fit"]

FORMAT = "bayesmmm-fit"
FORMAT_VERSION = 2
#: An averaged fit: attributes in the root group (member labels, weights, comparison),
#: one group per member holding that member's fit as FORMAT does.
AVERAGED_FORMAT = "bayesmmm-averaged-fit"


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


def _write(ds: xr.Dataset, path: Path, group: str | None = None) -> None:
    encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True}
                for name in ds.data_vars}
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding, group=group,
                 mode="w" if group is None else "a")


def save_fit(fit: Fit, path: str | Path) -> Path:
    """Write ``fit`` atomically (a temporary file renamed into place: never half-written).

    Returns the path written. Posterior float32, zlib-compressed; nothing derived is stored.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = _to_dataset(fit)
    return atomic_write(path, lambda tmp: _write(ds, tmp))


def member_group(i: int) -> str:
    return f"member_{i}"


def save_averaged(fits: Mapping[str, Fit], weights: Mapping[str, float], comparison_json: str,
                  meta: dict[str, Any], path: str | Path) -> Path:
    """Write an averaged fit: its members (one group each) and their weights, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = xr.Dataset(attrs={"format": AVERAGED_FORMAT, "format_version": 1,
                             "members": json.dumps(list(fits)),
                             "weights": json.dumps(dict(weights)), "comparison": comparison_json,
                             "meta": json.dumps(meta, default=str)})

    def write(tmp: Path) -> None:
        _write(root, tmp)
        for i, member in enumerate(fits.values()):
            _write(_to_dataset(member), tmp, member_group(i))

    return atomic_write(path, write)
