"""method='advi': a fast approximation, corrected by importance sampling and judged by
its Pareto k-hat on every surface."""

from __future__ import annotations

import pytest

import bayesmmm as bm
from bayesmmm.analysis import verdict
from bayesmmm.model._approx import _guide


@pytest.fixture(scope="module")
def pair(example_fit: bm.Fit) -> tuple[bm.Fit, bm.Fit]:
    approx = bm.fit(bm.example_data(), bm.example_spec(), method="advi", chains=4,
                    draws=300, seed=1, progress=False)
    return approx, example_fit


def test_advi_draws_agree_with_nuts_and_carry_their_diagnostics(pair) -> None:  # type: ignore[no-untyped-def]
    approx, exact = pair
    assert approx.meta["sampler"] == "advi" and approx.n_chains == 1
    assert approx.n_draws == 300 and not approx.sample_stats["diverging"].any()
    info = approx.meta["approximation"]
    assert 0 < info["importance_ess"] <= info["candidates"]
    assert info["pareto_k"] <= 0.7  # at the defaults the example's approximation is usable
    assert 1 <= info["paths_kept"] <= 4 and len(info["elbo"]) == 4
    a, b = approx.roi(), exact.roi()
    # the importance-corrected means lie within a posterior sd of the exact ones
    assert ((a["roi"] - b["roi"]).abs() < b["sd"]).all()
    assert set(approx.posterior) == set(exact.posterior)


def test_an_approximate_fit_says_so_on_every_surface(pair) -> None:  # type: ignore[no-untyped-def]
    approx, _ = pair
    note = approx.warnings()[0]
    assert note.startswith("This is an approximate fit (ADVI")
    v = verdict(approx)
    check = next(c for c in v.checks if c.name == "approximation k-hat")
    assert check.status in ("care", "bad") and v.status != "ok"
    bad = bm.Fit(approx.spec, approx.data, approx.scalers, approx.posterior,
                 approx.sample_stats, {**approx.meta, "approximation": {
                     **approx.meta["approximation"], "pareto_k": 0.93}})
    check = next(c for c in verdict(bad).checks if c.name == "approximation k-hat")
    assert check.status == "bad" and "Do not plan on it" in check.advice


def test_the_guide_map_we_rely_on_exists() -> None:
    """NumPyro has no public name for the map from a guide's flat latent vector to its
    sites; if a release renames it, this fails before any approximate fit does."""
    import jax.numpy as jnp

    from bayesmmm.model import ModelStructure, make_design, make_scalers, model_data
    from bayesmmm.model._model import model

    spec = bm.example_spec()
    data = model_data(bm.example_data(), spec)
    structure = ModelStructure.build(spec, data)
    args = (make_design(spec, data, make_scalers(data), structure=structure),)

    def fn(design):  # type: ignore[no-untyped-def]
        return model(structure, design)

    guide = _guide(fn, args)
    import jax

    guide.init_params = None
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.optim import Adam

    state = SVI(fn, guide, Adam(0.01), Trace_ELBO()).init(jax.random.PRNGKey(0), *args)
    assert state is not None
    unpacked = guide._unpack_latent(jnp.zeros(guide.latent_dim))
    assert "adstock_alpha" in unpacked


def test_method_is_checked() -> None:
    with pytest.raises(bm.SpecError, match="method must be one of"):
        bm.SamplerOptions(method="vi")


def test_candidates_where_the_density_is_zero_weigh_nothing() -> None:
    """A candidate the posterior gives no density weighs nothing, even where the
    proposal's density underflowed too (-inf - -inf); the k-hat stays finite."""
    import arviz as az
    import numpy as np

    from bayesmmm.model._approx import _log_weights

    inf = np.inf
    log_p = np.array([-1.0, -inf, -inf, 0.0, 2.0])
    log_q = np.array([-2.0, -3.0, -inf, np.nan, 1.0])
    assert np.array_equal(_log_weights(log_p, log_q), [1.0, -inf, -inf, -inf, 1.0])
    rng = np.random.default_rng(0)
    log_p, log_q = rng.normal(size=4000), rng.normal(size=4000)
    log_p[:40], log_q[:40] = -inf, -inf
    _, k_hat = az.psislw(_log_weights(log_p, log_q)[None], reff=1.0)
    assert np.isfinite(k_hat).all()
