"""Fit files of format version 3 are ArviZ InferenceData on disk; versions 1 and 2 (and
averaged files of version 1) still load with identical answers."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr

import bayesmmm as bm
from bayesmmm.analysis import log_likelihood
from bayesmmm.model import AveragedFit
from bayesmmm.model import _fitfile as fitfile

FILES = Path(__file__).parent / "fitfiles"
GROUPS = {"posterior", "sample_stats", "observed_data", "constant_data", "log_likelihood"}


def write_flat(fit: bm.Fit, path: Path, version: int) -> Path:
    """The writer of format versions 1 and 2 (one flat dataset), kept to make old files."""
    d = fit.data
    variables = {f"posterior__{k}": (["chain", "draw", *fit.dims.get(k, [])], v)
                 for k, v in fit.posterior.items()}
    variables.update({f"sample_stats__{k}": (["chain", "draw"],
                                             v.astype(np.int8) if v.dtype == bool else v)
                      for k, v in fit.sample_stats.items()})
    geo = ["data_geo"] if version == 2 else []
    pick = (lambda a: a) if version == 2 else (lambda a: a[0])
    variables["data__y"] = ([*geo, "time"], pick(d.y_gt))
    variables["data__media"] = ([*geo, "time", "channel"], pick(d.media_gt))
    variables["data__controls"] = ([*geo, "time", "control"], pick(d.controls_gt))
    coords = {"time": d.dates.strftime("%Y-%m-%d").to_numpy(dtype=str), **fit.coords}
    if version == 2:
        coords["data_geo"] = list(d.panels) or ["national"]
    ds = xr.Dataset({k: xr.Variable(*v) for k, v in variables.items()}, coords=coords)
    ds.attrs = {"format": "bayesmmm-fit", "format_version": version,
                "spec": json.dumps(fit.spec.to_dict()),
                "scalers": json.dumps(fit.scalers.to_dict()),
                "meta": json.dumps(fit.meta, default=str),
                "data": json.dumps({"date_column": d.date_column, "y_column": d.y_column,
                                    "frequency": d.frequency, "panels": list(d.panels),
                                    "panel_columns": list(d.panel_columns),
                                    "control_names": list(d.control_names)})}
    ds.to_netcdf(path, engine="h5netcdf", encoding={
        k: {"zlib": True, "complevel": 4, "shuffle": True} for k in ds.data_vars})
    return path


def assert_same_answers(a: bm.Fit, b: bm.Fit) -> None:
    assert a.spec == b.spec and a.meta == b.meta
    assert a.data.dates.equals(b.data.dates)
    assert a.data.panels == b.data.panels and a.data.control_names == b.data.control_names
    for name in ("y", "media", "controls"):
        np.testing.assert_array_equal(getattr(a.data, name), getattr(b.data, name))
    assert set(a.posterior) == set(b.posterior)
    for name, value in a.posterior.items():
        np.testing.assert_array_equal(b.posterior[name], value)
        assert b.posterior[name].dtype == np.float32
    for name, value in a.sample_stats.items():
        np.testing.assert_array_equal(b.sample_stats[name], value)
        assert b.sample_stats[name].dtype == value.dtype
    assert a.summary().equals(b.summary())
    assert a.roi().equals(b.roi())
    assert a.contributions().equals(b.contributions())
    assert a.fit_metrics() == b.fit_metrics()


def test_a_fit_file_is_inference_data(example_fit: bm.Fit, tmp_path: Path) -> None:
    path = example_fit.save(tmp_path / "fit.nc")
    idata = az.from_netcdf(path)
    assert set(idata.groups()) == GROUPS
    tree = xr.open_datatree(path, engine="h5netcdf")
    assert {node.name for node in tree.children.values()} == GROUPS
    attrs = idata.attrs
    assert attrs["format"] == "bayesmmm-fit" and int(attrs["format_version"]) == 3
    assert bm.ModelSpec.from_dict(json.loads(attrs["spec"])) == example_fit.spec
    assert json.loads(attrs["scalers"]) == example_fit.scalers.to_dict()
    for lib in ("bayesmmm", "jax", "numpyro", "arviz"):
        assert attrs[f"{lib}_version"] not in ("", "unknown")
    # PyMC-Marketing's names and dims where the meaning is the same
    post = idata.posterior
    assert post["saturation_beta"].dims == ("chain", "draw", "channel")
    assert post["gamma_control"].dims == ("chain", "draw", "control")
    assert post["gamma_fourier"].dims == ("chain", "draw", "fourier_mode")
    assert list(post["fourier_mode"].values[:2]) == ["sin_order_1", "sin_order_2"]
    assert post["intercept"].dims == ("chain", "draw")
    assert all(post[k].dtype == np.float32 for k in post.data_vars)
    assert idata.observed_data["y"].dims == ("date",)
    assert np.issubdtype(idata.observed_data["date"].dtype, np.datetime64)
    np.testing.assert_array_equal(idata.observed_data["y"], example_fit.data.y)
    assert idata.constant_data["channel_data"].dims == ("date", "channel")
    assert list(idata.constant_data["control"].values) == list(example_fit.data.control_names)
    assert set(idata.sample_stats.data_vars) == {"diverging", "n_steps", "energy",
                                                 "acceptance_rate"}
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "date")
    assert idata.log_likelihood["y"].dtype == np.float32
    assert az.summary(idata, var_names=["adstock_alpha"]).shape[0] == 2


def test_load_gives_identical_answers(example_fit: bm.Fit, tmp_path: Path) -> None:
    assert_same_answers(example_fit, bm.load_fit(example_fit.save(tmp_path / "fit.nc")))


@pytest.mark.parametrize("version", [1, 2])
def test_old_versions_load_with_identical_answers(example_fit: bm.Fit, tmp_path: Path,
                                                  version: int) -> None:
    old = bm.load_fit(write_flat(example_fit, tmp_path / f"v{version}.nc", version))
    assert_same_answers(example_fit, old)


@pytest.mark.parametrize("name", ["example_v2.nc", "geo_v2.nc"])
def test_files_written_by_the_version_2_writer_load_and_convert(name: str,
                                                                tmp_path: Path) -> None:
    """Files made by BayesMMM's format-2 writer (national and geo) read as before and
    give the same answers after rewriting them as version 3."""
    old = bm.load_fit(FILES / name)
    new = bm.load_fit(old.save(tmp_path / "v3.nc"))
    assert_same_answers(old, new)


def test_geo_files_lay_data_out_date_first(tmp_path: Path) -> None:
    fit = bm.load_fit(FILES / "geo_v2.nc")
    idata = az.from_netcdf(fit.save(tmp_path / "geo.nc"))
    assert idata.observed_data["y"].dims == ("date", "geo")
    assert list(idata.observed_data["geo"].values) == list(fit.data.panels)
    np.testing.assert_array_equal(idata.observed_data["y"].values.T, fit.data.y)
    assert idata.constant_data["channel_data"].dims == ("date", "geo", "channel")
    assert idata.posterior["saturation_beta_geo"].dims == ("chain", "draw", "geo", "channel")
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "date", "geo")
    ours = idata.log_likelihood["y"].values  # (chain, draw, date, geo)
    theirs = log_likelihood(fit).reshape(fit.n_chains, fit.n_draws, fit.data.n_geos, -1)
    np.testing.assert_allclose(np.moveaxis(ours, 2, 3), theirs, rtol=1e-5, atol=1e-5)


def test_idata_works_with_the_arviz_toolbox(example_fit: bm.Fit) -> None:
    import matplotlib

    matplotlib.use("Agg")
    idata = example_fit.idata
    assert {"posterior", "sample_stats", "observed_data", "constant_data", "log_likelihood",
            "posterior_predictive"} <= set(idata.groups())
    # the same pointwise likelihood as the analysis layer's model comparison
    np.testing.assert_allclose(idata.log_likelihood["y"].values,
                               log_likelihood(example_fit), rtol=1e-5, atol=1e-5)
    with warnings.catch_warnings():  # a short fit may have large Pareto k: not tested here
        warnings.simplefilter("ignore", UserWarning)
        loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo)
    with warnings.catch_warnings():  # ArviZ 0.x on matplotlib 3.11: a deprecation of theirs
        warnings.simplefilter("ignore", DeprecationWarning)
        axes = az.plot_ppc(idata, num_pp_samples=20)
    assert axes is not None
    pp = idata.posterior_predictive["y"]
    assert pp.dims == ("chain", "draw", "date")
    # predictive draws scatter around the data at the model's noise level
    resid = (pp - idata.observed_data["y"]).std().item()
    noise = float(np.mean(example_fit.posterior["y_sigma"])) * float(example_fit.scalers.y_scale)
    assert 0.7 * noise < resid < 1.6 * noise
    assert example_fit.idata is idata  # computed once


def test_the_log_likelihood_is_optional_and_left_out_when_large(
        example_fit: bm.Fit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lean = example_fit.save(tmp_path / "lean.nc", log_likelihood=False)
    assert "log_likelihood" not in az.from_netcdf(lean).groups()
    full = example_fit.save(tmp_path / "full.nc")
    values = example_fit.n_chains * example_fit.n_draws * example_fit.data.n_times
    # float32 and compressed: the group costs at most its raw size
    assert full.stat().st_size - lean.stat().st_size < 4 * values
    monkeypatch.setattr(fitfile, "LOG_LIKELIHOOD_MAX_VALUES", values - 1)
    auto = example_fit.save(tmp_path / "auto.nc")
    assert "log_likelihood" not in az.from_netcdf(auto).groups()
    assert_same_answers(example_fit, bm.load_fit(auto))
    # Fit.idata recomputes what the file left out
    assert "log_likelihood" in bm.load_fit(auto).idata.groups()


def test_nothing_derived_is_stored(example_fit: bm.Fit, tmp_path: Path) -> None:
    path = example_fit.save(tmp_path / "fit.nc", log_likelihood=False)
    draws = example_fit.n_chains * example_fit.n_draws
    n_values = sum(v.size for v in example_fit.posterior.values())
    assert path.stat().st_size < 4 * n_values + 64 * draws + 200_000
    idata = az.from_netcdf(path)
    assert "tree_depth" not in idata.sample_stats  # derived from n_steps
    assert "tree_depth" in example_fit.inference_data.sample_stats


def test_prior_draws_travel_with_the_fit(example_fit: bm.Fit, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    prior = {k: rng.normal(size=(1, 50, *v.shape[2:])).astype(np.float32)
             for k, v in example_fit.posterior.items()}
    with_prior = bm.Fit(example_fit.spec, example_fit.data, example_fit.scalers,
                        example_fit.posterior, example_fit.sample_stats, example_fit.meta,
                        prior=prior)
    path = with_prior.save(tmp_path / "prior.nc", log_likelihood=False)
    idata = az.from_netcdf(path)
    assert "prior" in idata.groups()
    assert idata.prior["adstock_alpha"].dims == ("chain", "draw", "channel")
    again = bm.load_fit(path)
    assert again.prior is not None
    np.testing.assert_array_equal(again.prior["adstock_alpha"], prior["adstock_alpha"])
    assert "prior" in again.idata.groups()


# -- averaged fits -----------------------------------------------------------------------
def test_an_averaged_file_holds_one_inference_data_per_member(tmp_path: Path) -> None:
    old = bm.load_averaged(FILES / "averaged_v1.nc")  # written by the format-1 writer
    path = old.save(tmp_path / "avg.nc")
    tree = xr.open_datatree(path, engine="h5netcdf")
    assert tree.attrs["format"] == "bayesmmm-averaged-fit"
    assert int(tree.attrs["format_version"]) == 2
    assert set(tree.children) == {"member_0", "member_1"}
    for i in range(2):
        member = az.InferenceData.from_netcdf(path, base_group=f"member_{i}")
        assert set(member.groups()) == GROUPS
        assert member.attrs["format"] == "bayesmmm-fit"
    new = bm.load_averaged(path)
    assert isinstance(new, AveragedFit)
    assert new.weights == old.weights and list(new.fits) == list(old.fits)
    assert new.meta == old.meta
    assert new.comparison is not None and new.comparison.equals(old.comparison)
    for label in old.fits:
        assert_same_answers(old.fits[label], new.fits[label])
    assert new.roi().equals(old.roi())
    assert new.contributions().equals(old.contributions())
    with pytest.raises(bm.FitFileError, match="load_averaged"):
        bm.load_fit(path)


def test_files_from_a_newer_bayesmmm_are_refused(example_fit: bm.Fit, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fitfile, "FORMAT_VERSION", 99)
    monkeypatch.setattr(fitfile, "file_attrs", _newer(fitfile.file_attrs))
    path = fitfile.save_fit(example_fit, tmp_path / "new.nc", log_likelihood=False)
    with pytest.raises(bm.FitFileError, match="newer BayesMMM"):
        bm.load_fit(path)


def _newer(attrs):  # type: ignore[no-untyped-def]
    def wrapped(fit):  # type: ignore[no-untyped-def]
        return {**attrs(fit), "format_version": 99}
    return wrapped


def test_a_file_without_its_groups_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.nc"
    xr.Dataset(attrs={"format": "bayesmmm-fit", "format_version": 3}).to_netcdf(
        path, engine="h5netcdf")
    with pytest.raises(bm.FitFileError, match="lacks the group"):
        bm.load_fit(path)
