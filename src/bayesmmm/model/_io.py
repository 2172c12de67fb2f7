"""One compact file per fit: NetCDF4 (HDF5, zlib) with the posterior as float32,
the data, and the spec, scalers and metadata as JSON attributes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayesmmm._files import atomic_write
from bayesmmm.data import MMMData
from bayesmmm.errors import FitFileError
from bayesmmm.model._result import Fit, Scalers
from bayesmmm.model._spec import ModelSpec

__all__ = ["save_fit", "load_fit", "FORMAT", "FORMAT_VERSION"]

FORMAT = "bayesmmm-fit"
FORMAT_VERSION = 2


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


def load_fit(path: str | Path) -> Fit:
    """Read a fit written by :func:`save_fit`; answers equal the original's exactly."""
    path = Path(path)
    if not path.is_file():
        raise FitFileError(f"fit file '{path}' does not exist. Fix: check the path "
                           "(`bayesmmm fit` writes it as OUT/fit.nc).")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as handle:
            ds = handle.load()
    except Exception as exc:  # h5py/xarray raise many types for a non-HDF5 file
        raise FitFileError(f"'{path}' is not a readable fit file ({type(exc).__name__}). "
                           "Fix: pass a file written by Fit.save or `bayesmmm fit`.") from None
    if ds.attrs.get("format") != FORMAT:
        raise FitFileError(f"'{path}' is not a BayesMMM fit file (no '{FORMAT}' marker).")
    if int(ds.attrs.get("format_version", -1)) > FORMAT_VERSION:
        raise FitFileError(f"'{path}' was written by a newer BayesMMM (format version "
                           f"{ds.attrs['format_version']}). Fix: upgrade bayesmmm.")
    spec = ModelSpec.from_dict(json.loads(ds.attrs["spec"]))
    info = json.loads(ds.attrs["data"])
    panels = tuple(info.get("panels", ()))
    if "data_geo" not in ds.dims:  # format version 1: national arrays without a geo axis
        ds = ds.assign({k: ds[k].expand_dims("data_geo") for k in
                        ("data__y", "data__media", "data__controls")})
    controls = ds["data__controls"].values.reshape(ds.sizes["data_geo"], ds.sizes["time"],
                                                   ds.sizes["control"])

    def shape(a: np.ndarray) -> np.ndarray:
        return a if panels else a[0]

    data = MMMData(
        dates=pd.DatetimeIndex(pd.to_datetime(ds["time"].values.astype(str), format="%Y-%m-%d")),
        y=shape(ds["data__y"].values), media=shape(ds["data__media"].values),
        controls=shape(controls), channel_names=spec.channel_columns,
        control_names=tuple(info.get("control_names", spec.control_columns)),
        date_column=info["date_column"], y_column=info["y_column"],
        frequency=info["frequency"], panels=panels,
        panel_columns=tuple(info.get("panel_columns", ())))
    names = [str(k) for k in ds.data_vars]
    posterior = {k.split("__", 1)[1]: ds[k].values for k in names if k.startswith("posterior__")}
    stats = {k.split("__", 1)[1]: ds[k].values for k in names if k.startswith("sample_stats__")}
    stats["diverging"] = stats["diverging"].astype(bool)
    return Fit(spec=spec, data=data, scalers=Scalers.from_dict(json.loads(ds.attrs["scalers"])),
               posterior=posterior, sample_stats=stats, meta=json.loads(ds.attrs["meta"]))
