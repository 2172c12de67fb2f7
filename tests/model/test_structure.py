"""The model's static structure, the trend registry's contract and the options' one
definition."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro import handlers
from numpyro.infer import Predictive

import bayesmmm as bm
from bayesmmm.model import (
    TRENDS,
    ModelStructure,
    SamplerOptions,
    Site,
    make_design,
    make_scalers,
    media_contributions,
    model_data,
    trend_basis,
)
from bayesmmm.model._model import model
from bayesmmm.model._trends import TrendForm
from bayesmmm.options import option_fields

MIXED = {"adstock": {"x1": "delayed", "x2": "geometric"},
         "saturation": {"x1": "hill", "x2": "logistic"}}


def _example(**changes):  # type: ignore[no-untyped-def]
    spec = bm.example_spec().replace(**changes)
    data = model_data(bm.example_data(), spec)
    return spec, data


def test_structure_is_frozen_hashable_and_equal_for_equal_inputs() -> None:
    spec, data = _example(**MIXED)
    a, b = ModelStructure.build(spec, data), ModelStructure.build(spec, data)
    assert a == b and hash(a) == hash(b)
    assert a != ModelStructure.build(spec.replace(adstock_max_lag=6), data)
    with pytest.raises(AttributeError):
        a.n_geos = 3  # type: ignore[misc]


def test_structure_groups_channels_by_form_and_maps_parameter_positions() -> None:
    spec, data = _example(adstock={"x1": "geometric", "x2": "delayed"},
                          saturation={"x1": "hill", "x2": "logistic"})
    media = ModelStructure.build(spec, data).media
    assert [(g.form, g.channels) for g in media.adstock] == [("geometric", (0,)),
                                                             ("delayed", (1,))]
    # alpha is shared by both adstocks: the delayed channel is position 1 of its vector
    delayed = media.adstock[1]
    assert dict((p, pos) for p, _, pos in delayed.params) == {"alpha": (1,), "theta": None}
    # in the order channels first use them (PyMC-Marketing's summary order), beta last
    assert media.param_names == ("adstock_alpha", "saturation_kappa", "saturation_slope",
                                 "adstock_theta", "saturation_lam", "saturation_beta")
    assert media.channel_names_of("saturation_lam") == ["x2"]


def test_structure_is_a_static_argument_under_jit() -> None:
    spec, data = _example(**MIXED)
    structure = ModelStructure.build(spec, data)
    design = make_design(spec, data, make_scalers(data), structure=structure)
    params = {"adstock_alpha": jnp.array([0.4, 0.3]), "adstock_theta": jnp.array([1.0]),
              "saturation_kappa": jnp.array([0.5]), "saturation_slope": jnp.array([2.0]),
              "saturation_lam": jnp.array([3.0]), "saturation_beta": jnp.array([0.3, 0.2])}
    fast = jax.jit(media_contributions, static_argnums=0)
    np.testing.assert_allclose(fast(structure, design.media, params),
                               media_contributions(spec, design.media, params), rtol=1e-6)


def test_with_geo_gives_national_draws_the_geo_axis() -> None:
    spec, data = _example(trend="smooth")
    structure = ModelStructure.build(spec, data)
    draws = {"intercept": np.zeros(5), "gamma_fourier": np.zeros((5, 4)),
             "trend_knots": np.zeros((5, 6)), "trend_sigma": np.zeros(5),
             "adstock_alpha": np.zeros((5, 2))}
    shapes = {k: v.shape for k, v in structure.with_geo(draws).items()}
    assert shapes == {"intercept": (5, 1), "gamma_fourier": (5, 1, 4),
                      "trend_knots": (5, 1, 6), "trend_sigma": (5,),
                      "adstock_alpha": (5, 2)}


def test_lift_sites_hold_the_tested_channel_alone() -> None:
    spec, data = _example(**MIXED, lift_tests=[{
        "channel": "x1", "start": "2019-06-02", "end": "2019-07-28", "spend_change": 3.0,
        "lift": 1200.0, "lift_se": 300.0}])
    (site,) = ModelStructure.build(spec, data).lift
    assert (site.geo, site.channel) == (0, 0)
    assert site.media.channels == ("x1",)
    assert [g.form for g in site.media.saturation] == ["hill"]
    assert dict(site.positions) == {"adstock_alpha": 0, "adstock_theta": 0,
                                    "saturation_kappa": 0, "saturation_slope": 0,
                                    "saturation_beta": 0}


@pytest.mark.parametrize("name", TRENDS.names())
def test_every_trend_samples_and_evaluates_with_its_declared_sites(name: str) -> None:
    """The registry's contract: the basis has one row per period; prior draws of the
    model hold exactly the entry's sites, with the dims the structure gives them; the
    evaluated trend has one value per period and geo."""
    form: TrendForm = TRENDS.get(name)
    basis = trend_basis(name, np.arange(30), 30, 4)
    assert basis.shape[0] == 30 and np.isfinite(basis).all()
    spec, data = _example(trend=name)
    structure = ModelStructure.build(spec, data)
    design = make_design(spec, data, make_scalers(data), structure=structure)
    # the sampler's flat sites held fixed, so that the prior can be sampled
    proper = handlers.substitute(model, data={
        "_level": jnp.zeros(()), "_gamma_control_std": jnp.zeros(3),
        "_trend_coef_s": jnp.zeros(())})
    draws = Predictive(proper, num_samples=3)(jax.random.PRNGKey(0), structure,
                                              design._replace(y=None))
    trend_sites = {k for k in draws if k.startswith("trend_")}
    assert trend_sites == set(form.sites)
    for site in form.sites:
        extra = len(structure.dims(site))
        assert draws[site].ndim == 1 + extra, site
    params = structure.with_geo({k: np.asarray(draws[k]) for k in form.sites})
    value = np.asarray(form.evaluate(design.trend, params))
    expected = (design.trend.shape[0],) if name == "none" else (3, 1, design.trend.shape[0])
    assert value.shape == expected and np.isfinite(value).all()


def test_channel_draws_keep_the_geo_axis_on_request() -> None:
    from bayesmmm.analysis import channel_draws, component_draws, mean_draws

    f = bm.fit(bm.example_data(), bm.example_spec(), chains=1, warmup=20, draws=10,
               progress=False)
    assert channel_draws(f).shape == (10, f.data.n_times, 2)
    assert channel_draws(f, keep_geo=True).shape == (10, 1, f.data.n_times, 2)
    np.testing.assert_allclose(mean_draws(f, keep_geo=True)[:, 0], mean_draws(f))
    assert component_draws(f, keep_geo=True)["x1"].shape == (10, 1, f.data.n_times)
    # media laid out as the data's (national: no geo axis) or with the geo axis
    np.testing.assert_allclose(channel_draws(f, f.data.media), channel_draws(f))
    np.testing.assert_allclose(channel_draws(f, f.data.media_gt), channel_draws(f))


def test_fit_takes_exactly_the_sampler_options() -> None:
    params = inspect.signature(bm.fit).parameters
    names = [f.name for f in option_fields()]
    assert [n for n in params if n in names] == names
    for f in option_fields():
        assert params[f.name].default == f.default
        assert f.name in (bm.fit.__doc__ or "")
    with pytest.raises(TypeError, match="sampler options are"):
        bm.fit(bm.example_data(), bm.example_spec(), chians=2)  # type: ignore[call-arg]
    assert SamplerOptions.from_mapping({"chains": 2}).chains == 2
    with pytest.raises(bm.SpecError, match="unknown sampler options"):
        SamplerOptions.from_mapping({"chians": 2})


def test_site_helpers_spell_pymc_marketing_names() -> None:
    assert Site.geo(Site.BETA) == "saturation_beta_geo"
    assert Site.spread(Site.LAM) == "saturation_lam_sigma"
    assert Site.deviation(Site.GAMMA_CONTROL) == "_gamma_control_z"
    assert Site.channel_param("adstock", "alpha") == "adstock_alpha"
