"""Reading a fit file written by :func:`bayesmmm.model._fitfile.save_fit` (format versions
1 and 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesmmm._runtime import configure
from bayesmmm.data import MMMData
from bayesmmm.errors import FitFileError
from bayesmmm.model._averaged import AveragedFit
from bayesmmm.model._fitfile import (
    AVERAGED_FORMAT,
    FORMAT,
    FORMAT_VERSION,
    member_group,
    save_fit,
)
from bayesmmm.model._result import Fit, Scalers
from bayesmmm.model._spec import ModelSpec

__all__ = ["FORMAT", "FORMAT_VERSION", "load_averaged", "load_fit", "save_fit"]


def _open(path: Path, group: str | None = None) -> xr.Dataset:
    try:
        with xr.open_dataset(path, engine="h5netcdf", group=group) as handle:
            return handle.load()
    except Exception as exc:  # h5py/xarray raise many types for a non-HDF5 file
        raise FitFileError(f"'{path}' is not a readable fit file ({type(exc).__name__}). "
                           "Fix: pass a file written by Fit.save or `bayesmmm fit`.") from None


def _root(path: str | Path) -> tuple[Path, xr.Dataset]:
    configure()  # answers compute on JAX: set it up before its first computation
    path = Path(path)
    if not path.is_file():
        raise FitFileError(f"fit file '{path}' does not exist. Fix: check the path "
                           "(`bayesmmm fit` writes it as OUT/fit.nc).")
    return path, _open(path)


def load_fit(path: str | Path) -> Fit:
    """Read a fit written by :func:`save_fit`; answers equal the original's exactly."""
    path, ds = _root(path)
    if ds.attrs.get("format") == AVERAGED_FORMAT:
        raise FitFileError(f"'{path}' holds a model-averaged fit (forms='auto'). Fix: read "
                           "it with bayesmmm.load_averaged; the budget optimizer, what-if, "
                           "scenarios and the report work on one structure for now: fit "
                           "the structure that carries the weight (see comparison.csv)")
    return _fit_from(ds, path)


def load_averaged(path: str | Path) -> AveragedFit:
    """Read an averaged fit written by ``AveragedFit.save``; answers equal the original's
    exactly."""
    path, ds = _root(path)
    if ds.attrs.get("format") != AVERAGED_FORMAT:
        raise FitFileError(f"'{path}' holds one fitted model, not an averaged fit. Fix: "
                           "read it with bayesmmm.load_fit")
    return _averaged(path, ds.attrs)


def _averaged(path: Path, attrs: Any) -> AveragedFit:
    import pandas as pd

    labels = json.loads(attrs["members"])
    fits = {label: _fit_from(_open(path, member_group(i)), path)
            for i, label in enumerate(labels)}
    table = pd.read_json(io.StringIO(attrs["comparison"]), orient="split") \
        if attrs.get("comparison") else None
    return AveragedFit(fits, json.loads(attrs["weights"]), table, json.loads(attrs["meta"]))


def _fit_from(ds: xr.Dataset, path: Path) -> Fit:
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
