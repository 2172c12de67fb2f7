"""The generator: exact self-reproduction, truth in the model's units, every registered form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpyro.distributions.transforms import biject_to

import bayesmmm as bm
from bayesmmm.errors import SpecError
from bayesmmm.model import fourier_features
from bayesmmm.synth import (
    ChannelConfig,
    ControlConfig,
    Simulation,
    SimulationConfig,
    simulate,
)
from bayesmmm.transforms import ADSTOCKS, SATURATIONS, geometric_adstock, logistic_saturation

CONTROLS = (
    ControlConfig("promo", "promo", 1.0),
    ControlConfig("holiday", "holiday", 2.0, holidays=("black_friday", "christmas")),
    ControlConfig("price", "covariate", -0.5),
)


def config(n_geos: int = 1, **kw: Any) -> SimulationConfig:
    channels = kw.pop("channels", (
        ChannelConfig("tv", "flighted", adstock_params={"alpha": 0.6},
                      saturation_params={"lam": 2.0}, share=0.12, roi=1.0),
        ChannelConfig("search", "always_on", share=0.08, roi=3.0),
        ChannelConfig("podcast", "launch", "delayed", "hill", share=0.04, roi=0.8),
    ))
    return SimulationConfig(channels=channels, controls=kw.pop("controls", CONTROLS),
                            n_weeks=kw.pop("n_weeks", 60), n_geos=n_geos, **kw)


@pytest.fixture(scope="module")
def national() -> Simulation:
    return simulate(config(trend=1.5), seed=11)


@pytest.fixture(scope="module")
def panel() -> Simulation:
    return simulate(config(n_geos=4, trend=1.5), seed=12)


def geo_frames(sim: Simulation) -> dict[str, pd.DataFrame]:
    if "geo" not in sim.data:
        return {"": sim.data}
    return {g: d.reset_index(drop=True) for g, d in sim.data.groupby("geo", sort=True)}


def component(sim: Simulation, name: str, geo: str) -> np.ndarray:
    values = sim.truth["contributions"][name]
    return np.asarray(values[geo] if geo else values)


def key(sim: Simulation, name: str, geo: str, label: str = "") -> str:
    """The truth's parameter name for a geo (``geo == ''``: national)."""
    if not geo:
        return f"{name}[{label}]" if label else name
    return f"{name}_geo[{geo}, {label}]" if label else f"{name}[{geo}]"


# -- exact self-reproduction and the data's shape ----------------------------------------


@pytest.mark.parametrize("which", ["national", "panel"])
def test_components_plus_noise_equal_y(which: str, request: pytest.FixtureRequest) -> None:
    sim: Simulation = request.getfixturevalue(which)
    for geo, frame in geo_frames(sim).items():
        parts = sum(component(sim, n, geo) for n in sim.truth["contributions"])
        noise = np.asarray(sim.truth["noise"][geo] if geo else sim.truth["noise"])
        np.testing.assert_allclose(parts + noise, frame["y"], rtol=1e-12)


def test_national_columns_and_dates(national: Simulation) -> None:
    d = national.data
    assert list(d.columns) == ["date", "y", "tv", "search", "podcast", "promo", "holiday", "price"]
    dates = pd.to_datetime(d["date"], format="%Y-%m-%d")
    assert (dates.dt.day_of_week == 0).all()
    assert (dates.diff().dropna() == pd.Timedelta(days=7)).all()


def test_panel_long_format_sorted(panel: Simulation) -> None:
    d = panel.data
    assert list(d.columns[:3]) == ["geo", "date", "y"] and len(d) == 60 * 4
    assert list(d["geo"].unique()) == ["geo_01", "geo_02", "geo_03", "geo_04"]
    assert d.equals(d.sort_values(["geo", "date"]).reset_index(drop=True))


@pytest.mark.parametrize("which", ["national", "panel"])
def test_spend_and_controls_usable_in_every_geo(which: str,
                                                request: pytest.FixtureRequest) -> None:
    sim: Simulation = request.getfixturevalue(which)
    for frame in geo_frames(sim).values():
        spend = frame[["tv", "search", "podcast"]]
        assert (spend >= 0).all().all() and (spend.max() > 0).all()
        assert (frame[["promo", "holiday", "price"]].nunique() > 1).all()
    spec = bm.ModelSpec(**sim.spec_kwargs)
    report = bm.validate(sim.data, **spec.data_kwargs())
    assert report.ok, report.format()


def test_launch_channel_is_dark_then_on(national: Simulation) -> None:
    x = national.data["podcast"].to_numpy()
    first = int(np.argmax(x > 0))
    assert first > 0 and (x[first:] > 0).sum() >= 20


def test_geo_sizes_scale_level_and_spend(panel: Simulation) -> None:
    by_geo = panel.data.groupby("geo")
    size = pd.Series({g: v["size"] for g, v in panel.truth["geos"].items()})
    assert size.is_monotonic_decreasing and size.iloc[0] > 1.2 * size.iloc[-1]
    level, spend = by_geo["y"].mean(), by_geo[["tv", "search"]].sum().sum(axis=1)
    assert level.corr(size) > 0.9 and spend.corr(size) > 0.8


def test_same_seed_same_data_other_seed_not() -> None:
    cfg = config(n_geos=2, n_weeks=52)
    a, b, c = simulate(cfg, seed=3), simulate(cfg, seed=3), simulate(cfg, seed=4)
    assert a.data.equals(b.data) and a.truth == b.truth and a.spec_kwargs == b.spec_kwargs
    assert not a.data.equals(c.data)
    assert a.truth["parameters"] != c.truth["parameters"]


# -- the truth --------------------------------------------------------------------------


def test_national_truth_keys(national: Simulation) -> None:
    fourier = ["sin_order_1", "sin_order_2", "cos_order_1", "cos_order_2"]
    expected = {"intercept", "y_sigma", "trend_slope",
                "adstock_alpha[tv]", "saturation_lam[tv]", "saturation_beta[tv]",
                "adstock_alpha[search]", "saturation_lam[search]", "saturation_beta[search]",
                "adstock_alpha[podcast]", "adstock_theta[podcast]", "saturation_kappa[podcast]",
                "saturation_slope[podcast]", "saturation_beta[podcast]",
                "gamma_control[promo]", "gamma_control[holiday]", "gamma_control[price]",
                *(f"gamma_fourier[{f}]" for f in fourier)}
    assert set(national.truth["parameters"]) == expected
    assert national.truth["parameters"]["adstock_alpha[tv]"] == 0.6
    assert national.truth["parameters"]["saturation_lam[tv]"] == 2.0
    assert national.truth["adstock"] == {"tv": "geometric", "search": "geometric",
                                         "podcast": "delayed"}
    assert national.truth["l_max"] == 8 and national.truth["seed"] == 11


def test_panel_truth_keys(panel: Simulation) -> None:
    p = panel.truth["parameters"]
    geos = [f"geo_{g:02d}" for g in range(1, 5)]
    for g in geos:
        for name in ("intercept", "y_sigma", "trend_slope"):
            assert f"{name}[{g}]" in p
        assert f"gamma_fourier[{g}, sin_order_1]" in p
        assert f"adstock_alpha_geo[{g}, tv]" in p and f"saturation_lam_geo[{g}, tv]" in p
        assert f"adstock_theta_geo[{g}, podcast]" in p
        assert f"saturation_beta_geo[{g}, search]" in p
        assert f"gamma_control_geo[{g}, promo]" in p
    for shared in ("adstock_alpha[tv]", "saturation_kappa[podcast]", "saturation_beta[tv]",
                   "gamma_control[price]"):
        assert shared in p
    assert not any(k in p for k in ("intercept", "y_sigma", "gamma_fourier[sin_order_1]"))
    assert panel.spec_kwargs["panel_columns"] == ["geo"]


@pytest.mark.parametrize("which", ["national", "panel"])
def test_truth_names_are_model_parameters(which: str, request: pytest.FixtureRequest) -> None:
    sim: Simulation = request.getfixturevalue(which)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    for name in sim.truth["parameters"]:
        spec.prior(name.split("[")[0].removesuffix("_geo"))  # KeyError if the model lacks it


@pytest.mark.parametrize("which", ["national", "panel"])
def test_parameters_mean_what_the_model_means(which: str,
                                              request: pytest.FixtureRequest) -> None:
    """Recompute each component from the scaled truth, per-geo scalers and the data."""
    sim: Simulation = request.getfixturevalue(which)
    p = sim.truth["parameters"]
    for geo, d in geo_frames(sim).items():
        y_scale = np.abs(d["y"]).max()
        n = len(d)
        np.testing.assert_allclose(component(sim, "intercept", geo),
                                   y_scale * p[key(sim, "intercept", geo)], rtol=1e-9)
        np.testing.assert_allclose(component(sim, "trend", geo), y_scale
                                   * p[key(sim, "trend_slope", geo)] * np.arange(n) / (n - 1),
                                   rtol=1e-9, atol=1e-9)
        names = ["sin_order_1", "sin_order_2", "cos_order_1", "cos_order_2"]
        gamma = [p[f"gamma_fourier[{geo}, {f}]" if geo else f"gamma_fourier[{f}]"]
                 for f in names]
        doy = pd.to_datetime(d["date"]).dt.day_of_year.to_numpy()
        np.testing.assert_allclose(component(sim, "seasonality", geo),
                                   y_scale * fourier_features(doy, 2) @ gamma, rtol=1e-9)
        for ctrl in ("promo", "price"):
            np.testing.assert_allclose(component(sim, ctrl, geo), y_scale * d[ctrl]
                                       * p[key(sim, "gamma_control", geo, ctrl)], rtol=1e-9)
        for ch in ("tv", "search"):  # geometric + logistic, written out
            x = d[[ch]].to_numpy() / d[ch].max()
            curve = logistic_saturation(geometric_adstock(
                x, np.array([p[key(sim, "adstock_alpha", geo, ch)]]), 8),
                np.array([p[key(sim, "saturation_lam", geo, ch)]]))
            expected = y_scale * p[key(sim, "saturation_beta", geo, ch)] * np.asarray(curve)[:, 0]
            np.testing.assert_allclose(component(sim, ch, geo), expected, rtol=1e-4)
        noise = np.asarray(sim.truth["noise"][geo] if geo else sim.truth["noise"])
        assert np.std(noise) / y_scale == pytest.approx(p[key(sim, "y_sigma", geo)], rel=0.35)


@pytest.mark.parametrize("which", ["national", "panel"])
def test_roi_and_marginal_roi_consistent(which: str, request: pytest.FixtureRequest) -> None:
    sim: Simulation = request.getfixturevalue(which)
    t, frames = sim.truth, geo_frames(sim)
    contribution = sum(component(sim, "tv", g).sum() for g in frames)
    assert t["total_contribution"]["tv"] == pytest.approx(contribution, rel=1e-9)
    assert t["roi"]["tv"] == pytest.approx(contribution / sim.data["tv"].sum(), rel=1e-9)
    assert t["roi"]["tv"] == pytest.approx(1.0, rel=1e-3)  # the configured target
    # Marginal ROI: the same curve at 1.01 x the spend, the scalers held fixed.
    p, up = t["parameters"], 0.0
    for geo, d in frames.items():
        x = d[["tv"]].to_numpy() / d["tv"].max()
        alpha = np.array([p[key(sim, "adstock_alpha", geo, "tv")]])
        lam = np.array([p[key(sim, "saturation_lam", geo, "tv")]])
        beta = p[key(sim, "saturation_beta", geo, "tv")]

        def curve(z: np.ndarray, a: np.ndarray = alpha, k: np.ndarray = lam,
                  b: float = beta) -> np.ndarray:
            return b * np.asarray(logistic_saturation(geometric_adstock(z, a, 8), k))

        up += np.abs(d["y"]).max() * float((curve(1.01 * x) - curve(x)).sum())
    assert t["marginal_roi"]["tv"] == pytest.approx(up / (0.01 * sim.data["tv"].sum()),
                                                    rel=2e-3)
    for ch in ("tv", "search"):  # logistic is concave: the next unit earns less
        assert 0 < t["marginal_roi"][ch] < t["roi"][ch]


def test_panel_roi_per_geo(panel: Simulation) -> None:
    t = panel.truth
    for geo, d in geo_frames(panel).items():
        c = component(panel, "search", geo).sum()
        assert t["total_contribution_geo"][geo]["search"] == pytest.approx(c, rel=1e-9)
        assert t["roi_geo"][geo]["search"] == pytest.approx(c / d["search"].sum(), rel=1e-9)
        assert 0 < t["marginal_roi_geo"][geo]["search"] < t["roi_geo"][geo]["search"]


def test_panel_geo_values_spread_around_shared() -> None:
    sim = simulate(config(n_geos=12, n_weeks=52), seed=5)
    p, geos = sim.truth["parameters"], [f"geo_{g:02d}" for g in range(1, 13)]
    z: list[float] = []
    for ch, form, params in (("tv", "logistic", ("lam",)), ("podcast", "hill",
                                                             ("kappa", "slope"))):
        for name in [f"saturation_{q}" for q in params] + ["saturation_beta"]:
            prior = SATURATIONS.get(form).priors[name.removeprefix("saturation_")]
            t = biject_to(prior.to_numpyro().support)
            shared = float(t.inv(p[f"{name}[{ch}]"]))
            geo = np.array([float(t.inv(p[f"{name}_geo[{g}, {ch}]"])) for g in geos])
            assert np.ptp(geo) > 0.05
            z.extend((geo - shared) / 0.25)
    for ch in ("tv", "search"):
        t = biject_to(ADSTOCKS.get("geometric").priors["alpha"].to_numpyro().support)
        shared = float(t.inv(p[f"adstock_alpha[{ch}]"]))
        z.extend((np.array([float(t.inv(p[f"adstock_alpha_geo[{g}, {ch}]"])) for g in geos])
                  - shared) / 0.25)
    z_ = np.asarray(z)  # standard normal draws, recovered
    assert abs(z_.mean()) < 0.35 and 0.7 < z_.std() < 1.3
    gamma = [p[f"gamma_control_geo[{g}, promo]"] for g in geos]
    assert p["gamma_control[promo]"] == pytest.approx(np.mean(gamma))
    assert np.ptp(gamma) > 0


# -- every registered form -----------------------------------------------------------------


def _form_config(adstock: str, saturation: str) -> SimulationConfig:
    channels = (ChannelConfig("x1", "always_on", adstock, saturation, share=0.08, roi=1.5),
                ChannelConfig("x2", "flighted", share=0.06, roi=0.8))
    return config(n_geos=2, n_weeks=52, channels=channels, controls=CONTROLS[:1])


def _check_form(sim: Simulation, prefix: str, params: tuple[str, ...]) -> None:
    for geo in ("geo_01", "geo_02"):
        x = component(sim, "x1", geo)
        assert np.isfinite(x).all() and (x >= 0).all() and x.sum() > 0
        for name in params:
            assert np.isfinite(sim.truth["parameters"][f"{prefix}_{name}_geo[{geo}, x1]"])
    for name in params:
        assert f"{prefix}_{name}[x1]" in sim.truth["parameters"]
    assert np.isfinite(sim.truth["marginal_roi"]["x1"]) and sim.truth["marginal_roi"]["x1"] >= 0
    assert sim.truth["roi"]["x1"] == pytest.approx(1.5, rel=1e-3)


@pytest.mark.parametrize("form", ADSTOCKS.names())
def test_every_adstock_form_simulates(form: str) -> None:
    sim = simulate(_form_config(form, "logistic"), seed=1)
    _check_form(sim, "adstock", ADSTOCKS.get(form).params)
    assert sim.spec_kwargs["adstock"] == {"x1": form, "x2": "geometric"}


@pytest.mark.parametrize("form", SATURATIONS.names())
def test_every_saturation_form_simulates(form: str) -> None:
    sim = simulate(_form_config("geometric", form), seed=2)
    _check_form(sim, "saturation", (*SATURATIONS.get(form).params, "beta"))
    assert sim.spec_kwargs["saturation"] == {"x1": form, "x2": "logistic"}


def test_linear_saturation_marginal_equals_average() -> None:
    sim = simulate(_form_config("geometric", "none"), seed=3)
    assert sim.truth["marginal_roi"]["x1"] == pytest.approx(sim.truth["roi"]["x1"], rel=1e-3)


# -- configs that cannot work ----------------------------------------------------------------


BAD: list[tuple[str, Callable[[], object], str]] = [
    ("pattern", lambda: ChannelConfig("tv", "pulsed"),  # type: ignore[arg-type]
     "unknown spend pattern 'pulsed'"),
    ("adstock", lambda: ChannelConfig("tv", adstock="geo"), "Unknown adstock 'geo'"),
    ("param", lambda: ChannelConfig("tv", adstock_params={"lam": 1.0}),
     r"has parameters \['alpha'\], not \['lam'\]"),
    ("reserved", lambda: ChannelConfig("trend"), "reserved"),
    ("share", lambda: ChannelConfig("tv", share=1.5), "share must be in"),
    ("holiday", lambda: ControlConfig("h", "holiday", 1.0, holidays=("xmas",)),
     "holidays must name"),
    ("monday", lambda: config(start="2021-01-05"), "Fix: start=2021-01-04"),
    ("shares", lambda: config(channels=(ChannelConfig("a", share=0.5),
                                        ChannelConfig("b", share=0.45))), "add up to 0.95"),
    ("dupes", lambda: config(controls=(ControlConfig("tv", "promo", 1.0),)), "repeated"),
    ("weeks", lambda: config(n_weeks=10), "n_weeks must be an integer >= 26"),
]


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_configs_say_what_to_fix(make: Callable[[], object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        make()


def test_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        simulate(config(), seed=-1)
