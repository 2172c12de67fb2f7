"""Reading a fit file written by :func:`bayesmmm.model._fitfile.save_fit`: format version
3 (ArviZ InferenceData groups) and the flat versions 1 and 2; averaged fits of versions
1 (flat members) and 2 (members as InferenceData groups)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
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
    AVERAGED_FORMAT_VERSION,
    FORMAT,
    FORMAT_VERSION,
    member_group,
    save_fit,
)
from bayesmmm.model._idata import CHANNEL_DATA, CONTROL, CONTROL_DATA, DATE, GEO, STAT_NAMES
from bayesmmm.model._quiet import quiet_arviz
from bayesmmm.model._result import Fit, Scalers
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import Site

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "load_averaged", "load_fit", "save_fit"]

#: The groups a fit needs (the log likelihood is recomputed, never read).
_READ = ("posterior", "sample_stats", "observed_data", "constant_data", "prior")


def _unreadable(path: Path, exc: BaseException) -> FitFileError:
    return FitFileError(f"'{path}' is not a readable fit file ({type(exc).__name__}). "
                        "Fix: pass a file written by Fit.save or `bayesmmm fit`.")


def _open(path: Path, group: str | None = None) -> xr.Dataset:
    try:
        with xr.open_dataset(path, engine="h5netcdf", group=group) as handle:
            return handle.load()
    except Exception as exc:  # h5py/xarray raise many types for a non-HDF5 file
        raise _unreadable(path, exc) from None


def _groups(path: Path, base: str | None) -> list[str]:
    import h5netcdf

    try:
        with h5netcdf.File(path, mode="r") as handle:
            node = handle if base is None else handle[base]
            return list(node.groups)
    except Exception as exc:
        raise _unreadable(path, exc) from None


def _root(path: str | Path) -> tuple[Path, xr.Dataset]:
    configure()  # answers compute on JAX: set it up before its first computation
    quiet_arviz(load=False)  # answers use ArviZ: keep its import-time notice away
    path = Path(path)
    if not path.is_file():
        raise FitFileError(f"fit file '{path}' does not exist. Fix: check the path "
                           "(`bayesmmm fit` writes it as OUT/fit.nc).")
    return path, _open(path)


def load(path: str | Path) -> Fit | AveragedFit:
    """Read any fit file: one fitted model (:func:`load_fit`) or a model-averaged fit
    (:func:`load_averaged`, written by ``forms='auto'``), whichever it holds. Every answer,
    the planner and the report take either."""
    path, ds = _root(path)
    if ds.attrs.get("format") == AVERAGED_FORMAT:
        return load_averaged(path)
    return _fit_at(path, ds, None)


def load_fit(path: str | Path) -> Fit:
    """Read a fit written by :func:`save_fit` (any format version); answers equal the
    original's exactly."""
    path, ds = _root(path)
    if ds.attrs.get("format") == AVERAGED_FORMAT:
        raise FitFileError(f"'{path}' holds a model-averaged fit (forms='auto'). Fix: read "
                           "it with bayesmmm.load (either kind) or bayesmmm.load_averaged")
    return _fit_at(path, ds, None)


def load_averaged(path: str | Path) -> AveragedFit:
    """Read an averaged fit written by ``AveragedFit.save``; answers equal the original's
    exactly."""
    path, ds = _root(path)
    if ds.attrs.get("format") != AVERAGED_FORMAT:
        raise FitFileError(f"'{path}' holds one fitted model, not an averaged fit. Fix: "
                           "read it with bayesmmm.load_fit")
    if int(ds.attrs.get("format_version", -1)) > AVERAGED_FORMAT_VERSION:
        raise FitFileError(f"'{path}' was written by a newer BayesMMM (averaged format "
                           f"version {ds.attrs['format_version']}). Fix: upgrade bayesmmm.")
    return _averaged(path, ds.attrs)


def _averaged(path: Path, attrs: Any) -> AveragedFit:
    labels = json.loads(attrs["members"])
    fits = {}
    for i, label in enumerate(labels):
        group = member_group(i)
        fits[label] = _fit_at(path, _open(path, group), group)
    table = pd.read_json(io.StringIO(attrs["comparison"]), orient="split") \
        if attrs.get("comparison") else None
    return AveragedFit(fits, json.loads(attrs["weights"]), table, json.loads(attrs["meta"]))


def _fit_at(path: Path, ds: xr.Dataset, base: str | None) -> Fit:
    """The fit whose attributes (and, before version 3, arrays) are ``ds``, read from
    group ``base`` of ``path`` (None: the root)."""
    if ds.attrs.get("format") != FORMAT:
        raise FitFileError(f"'{path}' is not a BayesMMM fit file (no '{FORMAT}' marker).")
    version = int(ds.attrs.get("format_version", -1))
    if version > FORMAT_VERSION:
        raise FitFileError(f"'{path}' was written by a newer BayesMMM (format version "
                           f"{version}). Fix: upgrade bayesmmm.")
    if version < 3:
        return _flat_fit(ds)
    present = set(_groups(path, base))
    groups = {name: _open(path, name if base is None else f"{base}/{name}")
              for name in _READ if name in present}
    missing = {"posterior", "sample_stats", "observed_data", "constant_data"} - set(groups)
    if missing:
        raise FitFileError(f"'{path}' lacks the group(s) {sorted(missing)} of a BayesMMM "
                           "fit file. Fix: pass a file written by Fit.save or `bayesmmm fit`.")
    return _grouped_fit(ds.attrs, groups)


def _geo_first(a: np.ndarray, panel: bool) -> np.ndarray:
    """``(T, G, ...)`` -> ``(G, T, ...)`` for panels; national arrays as they are."""
    return np.moveaxis(a, 1, 0) if panel else a


def _draws(ds: xr.Dataset) -> dict[str, np.ndarray]:
    return {str(k): ds[k].values for k in ds.data_vars}


def _grouped_fit(attrs: Mapping[str, Any], groups: Mapping[str, xr.Dataset]) -> Fit:
    """Format version 3: InferenceData groups."""
    spec = ModelSpec.from_dict(json.loads(attrs["spec"]))
    info = json.loads(attrs["data"])
    observed, constant = groups["observed_data"], groups["constant_data"]
    panel = GEO in observed.dims
    panels = tuple(str(g) for g in observed[GEO].values) if panel else ()
    data = MMMData(
        dates=pd.DatetimeIndex(observed[DATE].values),
        y=_geo_first(observed[Site.Y].values, panel),
        media=_geo_first(constant[CHANNEL_DATA].values, panel),
        controls=_geo_first(constant[CONTROL_DATA].values, panel),
        channel_names=spec.channel_columns,
        control_names=tuple(str(c) for c in constant[CONTROL_DATA].coords[CONTROL].values),
        date_column=info["date_column"], y_column=info["y_column"],
        frequency=info["frequency"], panels=panels,
        panel_columns=tuple(info.get("panel_columns", ())))
    names = {v: k for k, v in STAT_NAMES.items()}
    stats = {names.get(k, k): v for k, v in _draws(groups["sample_stats"]).items()
             if k != "tree_depth"}
    stats["diverging"] = stats["diverging"].astype(bool)
    prior = _draws(groups["prior"]) if "prior" in groups else None
    return Fit(spec=spec, data=data, scalers=Scalers.from_dict(json.loads(attrs["scalers"])),
               posterior=_draws(groups["posterior"]), sample_stats=stats,
               meta=json.loads(attrs["meta"]), prior=prior)


def _flat_fit(ds: xr.Dataset) -> Fit:
    """Format versions 1 and 2: one flat dataset of prefixed variables."""
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
