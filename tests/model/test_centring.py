"""Centring of geo values: the same model in another basis, weights from warm-up draws.

``bayesmmm.model._model._standard`` samples each geo deviation with a centring weight
and ``_logistic_pair`` rotates a logistic channel's ``(beta, lam)`` deviations; both are
exact reparametrisations, so the prior of the geo values, and with it the posterior,
must not change. ``bayesmmm.model._centring`` picks the weights from the draws of one
warm-up window, and ``bayesmmm.model._sampler`` moves the chains to the new basis.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro import handlers
from numpyro.infer import NUTS, Predictive
from numpyro.infer.util import log_density, potential_energy

import bayesmmm as bm
from bayesmmm.errors import SpecError
from bayesmmm.model import ModelStructure, make_design, make_scalers
from bayesmmm.model._centring import _weight, centring_weights, has_pair, no_centring
from bayesmmm.model._fit import SamplerOptions, model_data
from bayesmmm.model._model import model
from bayesmmm.model._sampler import move_state as _rebased
from bayesmmm.model._sampler import rebase_window
from bayesmmm.synth import ChannelConfig, ControlConfig, SimulationConfig, simulate


def _panel(n_weeks: int = 52, n_geos: int = 3):  # type: ignore[no-untyped-def]
    cfg = SimulationConfig(
        channels=(ChannelConfig("tv", pattern="flighted", share=0.12, roi=2.0),
                  ChannelConfig("search", pattern="always_on", share=0.08, roi=3.0,
                                saturation="hill")),
        controls=(ControlConfig("promo", "promo", 1.0, rate=0.12),), n_weeks=n_weeks,
        n_geos=n_geos, name="t")
    sim = simulate(cfg, seed=0)
    # every channel parameter and the control pooled (3 geos would share them by default)
    spec = bm.ModelSpec(**sim.spec_kwargs, geo_shared=[])
    data = model_data(sim.data, spec)
    structure = ModelStructure.build(spec, data)
    return sim, structure, make_design(spec, data, make_scalers(data), structure=structure)


def _random_weights(spec: ModelStructure, design, seed: int) -> dict:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    return {k: jnp.asarray(rng.uniform(0.0, 1.0, v.shape), jnp.float32)
            for k, v in no_centring(spec).items()}


def _deviations(spec: ModelStructure, draws: dict, name: str) -> np.ndarray:
    """Standard normal deviations ``(T^-1(geo) - T^-1(population)) / sigma`` per draw."""
    from numpyro.distributions.transforms import biject_to

    t = biject_to(spec.prior(name).to_numpyro().support)
    geo, pop = np.asarray(t.inv(draws[f"{name}_geo"])), np.asarray(t.inv(draws[name]))
    return (geo - pop[:, None]) / np.asarray(draws[f"{name}_sigma"])[:, None]


def _proper(fn):  # type: ignore[no-untyped-def]
    """The model with its improper flat sites (level, standardised control effects) held
    at fixed values, so that its prior can be sampled."""
    return handlers.substitute(fn, data={"_level": jnp.zeros(3),
                                         "_gamma_control_std": jnp.asarray([0.3])})


def test_the_panel_has_a_logistic_pair_and_a_hill_channel() -> None:
    _, spec, design = _panel()
    assert has_pair(spec)
    w = no_centring(spec)
    assert set(w) == {"adstock_alpha", "saturation_lam", "saturation_kappa", "saturation_slope",
                      "saturation_beta", "gamma_control", "logistic_pair"}
    assert w["saturation_beta"].shape == (3, 2) and w["logistic_pair"].shape == (3, 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_weights_and_pair_leave_the_prior_of_geo_values_unchanged(seed: int) -> None:
    """Prior draws with random weights (and the rotated pair): every geo deviation is
    still standard normal, independent of its spread and of the other parameter's."""
    _, spec, design = _panel()
    prior = design._replace(y=None)
    n = 12000
    runs = {}
    for label, c in (("plain", None), ("centred", _random_weights(spec, design, seed))):
        draws = Predictive(_proper(model), num_samples=n)(
            jax.random.PRNGKey(seed), spec, prior._replace(centring=c))
        runs[label] = {k: np.asarray(v, np.float64) for k, v in draws.items()}
    for label, draws in runs.items():
        for name in ("adstock_alpha", "saturation_lam", "saturation_beta", "saturation_kappa"):
            z = _deviations(spec, draws, name)
            assert abs(z.mean()) < 0.03, (label, name)
            assert z.std() == pytest.approx(1.0, abs=0.03), (label, name)
            log_sigma = np.log(draws[f"{name}_sigma"])[:, None, :]
            corr = np.corrcoef(np.broadcast_to(log_sigma, z.shape).ravel(), z.ravel())[0, 1]
            assert abs(corr) < 0.03, (label, name)
            # the scale of the deviation does not move with the spread either
            corr = np.corrcoef(np.broadcast_to(log_sigma, z.shape).ravel(),
                               np.abs(z).ravel())[0, 1]
            assert abs(corr) < 0.03, (label, name)
        z_beta = _deviations(spec, draws, "saturation_beta")[..., 0]  # tv is the logistic one
        z_lam = _deviations(spec, draws, "saturation_lam")[..., 0]
        assert abs(np.corrcoef(z_beta.ravel(), z_lam.ravel())[0, 1]) < 0.03, label
        g = draws["gamma_control_geo"] * np.asarray(design.control_scale)
        pop = draws["gamma_control"] * np.asarray(design.control_scale)
        z = (g - pop[:, None]) / draws["gamma_control_sigma"][:, None]
        assert abs(z.mean()) < 0.03 and z.std() == pytest.approx(1.0, abs=0.03), label
    for name in ("saturation_beta_geo", "saturation_lam_geo", "adstock_alpha_geo"):
        a, b = runs["plain"][name], runs["centred"][name]
        for q in (0.1, 0.5, 0.9):
            assert np.quantile(np.log(b), q) == pytest.approx(np.quantile(np.log(a), q),
                                                              abs=0.08), (name, q)


def test_centring_weights_change_only_the_basis_of_the_log_density() -> None:
    """At the same geo values, the log density of the weighted basis differs from the
    plain one by the log Jacobian of the map from the sampled variables to the values."""
    _, spec, design = _panel()
    c = _random_weights(spec, design, 3)
    c.pop("logistic_pair")  # the rotation is checked by the prior test above
    draws = Predictive(_proper(model), num_samples=1)(jax.random.PRNGKey(4), spec, design)
    plain = {k: v[0] for k, v in draws.items() if k not in ("y",) and not k.endswith("_geo")
             and k not in ("gamma_control", "intercept")}
    lp_plain, _ = log_density(model, (spec, design), {}, plain)
    # the same point in the weighted basis: w = c m + sigma**c z
    from numpyro.distributions.transforms import biject_to

    moved = dict(plain)
    log_jac = 0.0
    for name, weight in c.items():
        sigma = draws[f"{name}_sigma"][0]
        if name == "gamma_control":
            centre = draws["_gamma_control_std"][0]
        else:
            centre = biject_to(spec.prior(name).to_numpyro().support).inv(draws[name][0])
        z = draws[f"_{name}_z"][0]
        moved[f"_{name}_z"] = weight * centre + sigma ** weight * z
        log_jac += float(jnp.sum(weight * jnp.log(sigma) * jnp.ones_like(z)))
    lp_moved, _ = log_density(model, (spec, design._replace(centring=c)), {}, moved)
    # density of w = density of z / |dw/dz| = density of z / sigma**c
    assert float(lp_moved) == pytest.approx(float(lp_plain) - log_jac, rel=1e-5, abs=1e-3)


def test_weights_follow_how_much_the_data_pin_each_geo() -> None:
    rng = np.random.default_rng(0)
    sigma = np.full((4000, 1), 0.5)
    pinned = rng.normal(0.3, 0.1, 4000)      # the data fix this geo's value: sd 0.1
    free = rng.normal(0.0, 0.5, 4000)        # the prior alone: sd = sigma
    var = np.array([[pinned.var()], [free.var()]])
    c = _weight(var, sigma)
    # precision 1/0.01 - 1/0.25 = 96, sigma_q**2 * 96 = 24: c = 24/25
    assert c[0, 0] == pytest.approx(0.96, abs=0.01)
    assert c[1, 0] == pytest.approx(0.0, abs=0.02)
    # a spread that reaches small values gets a smaller weight (its low quantile counts)
    wide = np.exp(rng.normal(np.log(0.5), 1.0, (4000, 1)))
    q, p = np.quantile(wide, 0.1), 1 / var[0, 0] - 1 / (wide ** 2).mean()
    assert _weight(var[:1], wide)[0, 0] == pytest.approx(q * q * p / (1 + q * q * p), rel=1e-4)
    assert _weight(var[:1], wide)[0, 0] < c[0, 0] - 0.2


def test_pair_weight_reads_the_sum_of_log_beta_and_log_lam() -> None:
    """A geo whose ``log beta + log lam`` is pinned while each alone is not gets a high
    pair weight and zero weights of its own."""
    _, spec, design = _panel(n_geos=2)
    rng = np.random.default_rng(1)
    n = 4000
    shift = rng.normal(0.0, 0.6, (n, 2))   # moves beta up and lam down together
    total = rng.normal(0.0, 0.05, (n, 2))
    samples = {
        "saturation_beta": np.full((1, n, 2), 0.5), "saturation_lam": np.full((1, n, 1), 2.0),
        "saturation_beta_sigma": np.full((1, n, 2), 0.6),
        "saturation_lam_sigma": np.full((1, n, 1), 0.6),
        "saturation_beta_geo": np.exp(np.stack([shift, shift], -1)[None]
                                      + np.log(0.5)),
        "saturation_lam_geo": np.exp((total - shift)[None, ..., None] + np.log(2.0)),
    }
    for name in ("adstock_alpha", "saturation_kappa", "saturation_slope"):
        k = len(spec.media.param(name).channels)
        samples[name] = np.full((1, n, k), 0.5)
        samples[f"{name}_sigma"] = np.full((1, n, k), 0.3)
        samples[f"{name}_geo"] = np.full((1, n, 2, k), 0.5) * np.exp(
            rng.normal(0, 0.3, (1, n, 2, k))) if name != "adstock_alpha" else \
            np.clip(rng.uniform(0.05, 0.95, (1, n, 2, k)), 0.01, 0.99)
    samples["gamma_control"] = np.zeros((1, n, 1))
    samples["gamma_control_sigma"] = np.full((1, n, 1), 0.3)
    samples["gamma_control_geo"] = rng.normal(0, 0.3, (1, n, 2, 1)) \
        / np.asarray(design.control_scale)
    c = centring_weights(spec, design, samples)
    # total sd 0.05 vs spread hypot(0.6, 0.6): precision ~400, weight ~0.99
    assert np.all(np.asarray(c["logistic_pair"]) > 0.95)
    assert np.all(np.asarray(c["saturation_lam"]) < 0.1)
    assert np.all(np.asarray(c["saturation_beta"])[:, 0] < 0.1)
    assert np.all(np.asarray(c["gamma_control"]) < 0.1)


def test_rebase_window_and_options() -> None:
    assert rebase_window(1000) == (150, 250) and rebase_window(4000) == (150, 250)
    assert rebase_window(500) == (150, 250)
    assert rebase_window(499) is None and rebase_window(100) is None
    with pytest.raises(SpecError, match="centring must be one of"):
        SamplerOptions(centring="partial")
    assert SamplerOptions().centring == "auto"  # the default: panels only, see below


def test_auto_centring_rebases_panels_only_and_never_under_a_dense_mass_matrix(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The default ``centring="auto"`` changes basis in a panel's warm-up; national models
    have no geo values, and a dense mass matrix (adapted in one basis) keeps the
    non-centred one instead of failing."""
    import bayesmmm.model._fit as fit_module

    seen: list[object] = []
    monkeypatch.setattr(fit_module, "run_nuts", lambda *a, **k: seen.append(k["rebase"]))
    _, structure, design = _panel()
    frame = pd.DataFrame({"date": pd.date_range("2024-01-07", periods=20, freq="W"),
                          "y": np.linspace(1.0, 2.0, 20), "tv": np.linspace(0.0, 1.0, 20)})
    one = bm.ModelSpec(date_column="date", y_column="y", channel_columns=["tv"])
    national = ModelStructure.build(one, model_data(frame, one))
    for struct, options in ((structure, SamplerOptions()),
                            (structure, SamplerOptions(dense_mass=True)),
                            (structure, SamplerOptions(centring="none")),
                            (structure, SamplerOptions(warmup=499)),
                            (national, SamplerOptions())):
        fit_module._run(struct, design, options, None)
    assert seen[0] is not None and seen[1:] == [None, None, None, None]



def test_moving_a_chain_to_new_weights_keeps_its_point_and_its_energy() -> None:
    """A warm-up state moved from zero weights to random ones: the constrained point (geo
    values included) is unchanged, the potential energy and gradient are the new
    basis's at the moved latents, and the geo latents' inverse mass entries are scaled
    by the squared ratio of the new to the old scale."""
    _, spec, design = _panel()
    fn = partial(model, spec)
    old = (design._replace(centring=no_centring(spec)),)
    new = (design._replace(centring=_random_weights(spec, design, 3)),)
    kernel = NUTS(fn)
    state = kernel.init(jax.random.PRNGKey(0), 10, None, old, {})
    # move off the initial point so that every geo latent is away from its location
    z = jax.tree.map(lambda v: v + 0.3, state.z)
    state = state._replace(z=z)
    sites = tuple(f"_{k}_z" for k in old[0].centring if k != "logistic_pair")
    moved = _rebased(kernel, fn, sites, state, old, new)
    before = kernel.postprocess_fn(old, {})(state.z)
    after = kernel.postprocess_fn(new, {})(moved.z)
    for name in ("saturation_beta_geo", "saturation_lam_geo", "adstock_alpha_geo",
                 "saturation_kappa_geo", "gamma_control_geo", "intercept"):
        np.testing.assert_allclose(after[name], before[name], rtol=2e-5, atol=1e-6)
    assert any(not np.allclose(moved.z[k], state.z[k]) for k in sites)
    energy, grad = jax.value_and_grad(lambda p: potential_energy(fn, new, {}, p))(moved.z)
    assert float(moved.potential_energy) == pytest.approx(float(energy), rel=1e-5)
    for k in grad:
        np.testing.assert_allclose(moved.z_grad[k], grad[k], rtol=1e-4, atol=1e-4)
    (names, inverse), = state.adapt_state.inverse_mass_matrix.items()
    ratio = moved.adapt_state.inverse_mass_matrix[names] / inverse
    flat = jax.flatten_util.ravel_pytree(tuple(
        jnp.full(state.z[k].shape, float(k in sites)) for k in names))[0]
    assert np.allclose(ratio[flat == 0], 1.0) and not np.allclose(ratio[flat == 1], 1.0)
    np.testing.assert_allclose(moved.adapt_state.mass_matrix_sqrt_inv[names] ** 2,
                               moved.adapt_state.inverse_mass_matrix[names], rtol=1e-5)


@pytest.mark.slow  # two 4-geo fits, about a minute
def test_auto_and_none_fit_the_same_posterior() -> None:
    """Both bases sample one posterior: the population means agree within their sd; the
    ``auto`` run, which changes basis in its warm-up, does not diverge."""
    sim, _, _ = _panel(n_weeks=104, n_geos=4)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    fits = {c: bm.fit(sim.data, spec, chains=2, warmup=500, draws=300, seed=0,
                      centring=c, progress=False) for c in ("auto", "none")}
    assert fits["auto"].meta["options"]["centring"] == "auto"
    a, b = fits["auto"].summary(), fits["none"].summary()
    rows = [r for r in a.index if r.startswith(("saturation_", "adstock_", "gamma_control"))
            and "_geo[" not in r]
    for r in rows:
        sd = max(a.loc[r, "sd"], b.loc[r, "sd"])
        assert abs(a.loc[r, "mean"] - b.loc[r, "mean"]) < 0.6 * sd, r
    # here the non-centred basis has 1 divergence (min ESS 112, 58 steps a draw), the
    # chosen one none (min ESS 145, 39 steps a draw)
    assert int(fits["auto"].sample_stats["diverging"].sum()) == 0
