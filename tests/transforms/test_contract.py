"""Contract tests over every registered adstock and saturation form.

Each test is parametrised over the registry, so a form added later is held to the same
contract without new code. Adding a form with a new parameter name means adding that
name's domain to ``DOMAINS`` below (the tests say so when it is missing); an unbounded
saturation goes into ``UNBOUNDED``.
"""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from bayesmmm.priors import Prior
from bayesmmm.transforms import (
    ADSTOCKS,
    SATURATIONS,
    AdstockForm,
    Registry,
    SaturationForm,
    convolve_lagged,
    lag_stack,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "transforms.md"

#: Domain of every parameter name used by a form: "unit" is [0, 1] (or a subset such as
#: (0, 1]), "nonneg" is [0, inf), "positive" is (0, inf).
DOMAINS: dict[str, str] = {
    "alpha": "unit",
    "retention": "unit",
    "rho": "unit",
    "theta": "nonneg",
    "peak": "nonneg",
    "beta": "nonneg",
    "lam": "positive",
    "k": "positive",
    "kappa": "positive",
    "slope": "positive",
    "c": "positive",
    "knee": "positive",
    "ratio": "unit",
}

#: Values at and near the edges of each domain (where gradients tend to break).
EDGES: dict[str, list[float]] = {
    "unit": [0.0, 1e-6, 0.5, 1.0 - 1e-6, 1.0],
    "nonneg": [0.0, 1e-6, 1.0, 5.0, 20.0],
    "positive": [1e-4, 0.05, 1.0, 10.0, 100.0],
}

#: Saturation curves that are not bounded by 1.
UNBOUNDED = {"power", "none", "piecewise_linear"}

ADSTOCK_NAMES = ADSTOCKS.names()
SATURATION_NAMES = SATURATIONS.names()
N_CHANNELS = 3
L_MAX = 6


def domain(param: str) -> str:
    if param not in DOMAINS:
        pytest.fail(f"parameter {param!r} has no domain in DOMAINS; add it to the table")
    return DOMAINS[param]


def prior_draws(form: AdstockForm | SaturationForm, shape: tuple[int, ...],
                seed: int = 0) -> dict[str, jax.Array]:
    """Parameters drawn from the form's default priors (beta excluded)."""
    keys = jax.random.split(jax.random.PRNGKey(seed), max(len(form.params), 1))
    return {p: form.priors[p].to_numpyro().sample(key, shape)
            for p, key in zip(form.params, keys, strict=False)}


def edge_grid(params: tuple[str, ...]) -> dict[str, jax.Array]:
    """Every combination of edge values, one combination per channel."""
    combos = list(itertools.product(*(EDGES[domain(p)] for p in params)))
    return {p: jnp.asarray([c[i] for c in combos], dtype=jnp.float32)
            for i, p in enumerate(params)}


def media(n_times: int = 30, n_channels: int = N_CHANNELS, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).gamma(2.0, 0.5, size=(n_times, n_channels))


def expected_channels(form: AdstockForm, n_channels: int) -> int:
    return n_channels if form.params else 1


# --------------------------------------------------------------------------------------
# Adstock contract
# --------------------------------------------------------------------------------------


@pytest.fixture(params=ADSTOCK_NAMES)
def adstock(request: pytest.FixtureRequest) -> AdstockForm:
    return ADSTOCKS.get(request.param)


@pytest.mark.parametrize("normalize", [True, False], ids=["normalised", "raw"])
def test_adstock_weights_shape_and_sign(adstock: AdstockForm, normalize: bool) -> None:
    params = prior_draws(adstock, (N_CHANNELS,))
    w = np.asarray(adstock.weights(L_MAX, normalize, **params))
    assert w.shape == (expected_channels(adstock, N_CHANNELS), L_MAX)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    assert np.all(w.sum(axis=-1) > 0)
    if normalize:
        np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)


def test_adstock_weights_keep_batch_dims(adstock: AdstockForm) -> None:
    params = prior_draws(adstock, (4, 2, N_CHANNELS), seed=1)
    w = np.asarray(adstock.weights(L_MAX, True, **params))
    if adstock.params:
        assert w.shape == (4, 2, N_CHANNELS, L_MAX)
        for i, j in itertools.product(range(4), range(2)):
            one = adstock.weights(L_MAX, True, **{p: v[i, j] for p, v in params.items()})
            np.testing.assert_allclose(w[i, j], np.asarray(one), rtol=1e-5, atol=1e-7)
    else:
        assert w.shape == (1, L_MAX)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)


def test_adstock_apply_shapes(adstock: AdstockForm) -> None:
    x = media()
    y = adstock.apply(x, L_MAX, **prior_draws(adstock, (N_CHANNELS,)))
    assert y.shape == x.shape
    y_draws = adstock.apply(x, L_MAX, **prior_draws(adstock, (5, N_CHANNELS)))
    assert y_draws.shape == ((5, *x.shape) if adstock.params else x.shape)


def test_adstock_zero_media_gives_zero(adstock: AdstockForm) -> None:
    y = adstock.apply(np.zeros((20, N_CHANNELS)), L_MAX, **prior_draws(adstock, (N_CHANNELS,)))
    assert np.all(np.asarray(y) == 0)


def test_adstock_l_max_one_is_identity(adstock: AdstockForm) -> None:
    x = media()
    params = prior_draws(adstock, (N_CHANNELS,))
    np.testing.assert_allclose(np.asarray(adstock.apply(x, 1, **params)), x, rtol=1e-6)


def test_adstock_lagged_equals_apply(adstock: AdstockForm) -> None:
    x = media(seed=2)
    params = prior_draws(adstock, (4, N_CHANNELS), seed=2)
    direct = adstock.apply(x, L_MAX, **params)
    lagged = adstock.apply_lagged(lag_stack(x, L_MAX), **params)
    np.testing.assert_allclose(np.asarray(lagged), np.asarray(direct), rtol=1e-5, atol=1e-7)


def test_adstock_normalised_keeps_the_total(adstock: AdstockForm) -> None:
    x = media(seed=3)
    x[-L_MAX:] = 0.0  # everything carried over lands inside the window
    y = adstock.apply(x, L_MAX, **prior_draws(adstock, (N_CHANNELS,), seed=3))
    np.testing.assert_allclose(np.asarray(y).sum(axis=0), x.sum(axis=0), rtol=1e-5)


def test_adstock_is_causal(adstock: AdstockForm) -> None:
    x = np.zeros((20, N_CHANNELS))
    x[5] = 1.0
    y = np.asarray(adstock.apply(x, L_MAX, **prior_draws(adstock, (N_CHANNELS,))))
    assert np.all(y[:5] == 0)
    assert np.all(y[5 + L_MAX:] == 0)


def test_adstock_jit_and_vmap(adstock: AdstockForm) -> None:
    x = media(seed=4)
    params = prior_draws(adstock, (N_CHANNELS,), seed=4)
    eager = np.asarray(adstock.apply(x, L_MAX, **params))
    jitted = jax.jit(lambda xx, p: adstock.apply(xx, L_MAX, **p))(x, params)
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-5, atol=1e-7)
    # vmap over geos (the media) works for every form, with or without parameters
    geos = np.stack([x, 2 * x])
    by_geo = jax.vmap(lambda xx: adstock.apply(xx, L_MAX, **params))(geos)
    np.testing.assert_allclose(np.asarray(by_geo[1]), 2 * eager, rtol=1e-5, atol=1e-7)
    if adstock.params:  # vmap over draws of the parameters
        draws = prior_draws(adstock, (3, N_CHANNELS), seed=5)
        mapped = jax.vmap(lambda p: adstock.weights(L_MAX, True, **p))(draws)
        np.testing.assert_allclose(np.asarray(mapped),
                                   np.asarray(adstock.weights(L_MAX, True, **draws)),
                                   rtol=1e-5, atol=1e-7)


def test_adstock_float32(adstock: AdstockForm) -> None:
    params = {p: v.astype(jnp.float32) for p, v in prior_draws(adstock, (N_CHANNELS,)).items()}
    assert adstock.weights(L_MAX, True, **params).dtype == jnp.float32
    y = adstock.apply(media().astype(np.float32), L_MAX, **params)
    assert y.dtype == jnp.float32


@pytest.mark.parametrize("normalize", [True, False], ids=["normalised", "raw"])
def test_adstock_gradients_finite_at_the_edges(adstock: AdstockForm, normalize: bool) -> None:
    params = edge_grid(adstock.params)
    n_channels = len(next(iter(params.values()))) if params else N_CHANNELS
    x = jnp.asarray(media(n_channels=n_channels, seed=6), dtype=jnp.float32)
    probe = jnp.asarray(np.random.default_rng(7).normal(size=x.shape), dtype=jnp.float32)

    def loss(xx: jax.Array, p: dict[str, jax.Array]) -> jax.Array:
        return jnp.sum(adstock.apply(xx, L_MAX, normalize, **p) * probe)

    w = adstock.weights(L_MAX, normalize, **params)
    assert np.all(np.isfinite(np.asarray(w)))
    grad_x, grad_p = jax.grad(loss, argnums=(0, 1))(x, params)
    assert np.all(np.isfinite(np.asarray(grad_x)))
    for name, g in grad_p.items():
        assert np.all(np.isfinite(np.asarray(g))), f"gradient of {name} not finite: {g}"


def test_adstock_weights_at_prior_draws_are_finite(adstock: AdstockForm) -> None:
    params = prior_draws(adstock, (500, N_CHANNELS), seed=8)
    w = np.asarray(adstock.weights(12, True, **params))
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)


# --------------------------------------------------------------------------------------
# Adstock formulas pinned against hand computations
# --------------------------------------------------------------------------------------


def weights(name: str, l_max: int, normalize: bool = True, **params: float) -> np.ndarray:
    arrays = {p: jnp.asarray([v]) for p, v in params.items()}
    return np.asarray(ADSTOCKS.get(name).weights(l_max, normalize, **arrays))[0]


def test_geometric_alpha_zero_is_identity() -> None:
    np.testing.assert_allclose(weights("geometric", 5, alpha=0.0), [1, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(weights("geometric", 4, False, alpha=0.5),
                               [1, 0.5, 0.25, 0.125], rtol=1e-6)


def test_delayed_theta_zero_is_alpha_to_the_lag_squared() -> None:
    alpha = 0.7
    raw = alpha ** (np.arange(6) ** 2)
    np.testing.assert_allclose(weights("delayed", 6, False, alpha=alpha, theta=0.0), raw,
                               rtol=1e-5)
    np.testing.assert_allclose(weights("delayed", 6, alpha=alpha, theta=0.0), raw / raw.sum(),
                               rtol=1e-5)


def test_delayed_peaks_at_theta() -> None:
    # 0.5 ** ((l - 2) ** 2) for l = 0..4
    raw = np.array([0.0625, 0.5, 1.0, 0.5, 0.0625])
    np.testing.assert_allclose(weights("delayed", 5, False, alpha=0.5, theta=2.0), raw,
                               rtol=1e-6)
    np.testing.assert_allclose(weights("delayed", 5, alpha=0.5, theta=2.0), raw / 2.125,
                               rtol=1e-6)


def test_carryover_is_delayed_under_lightweightmmm_names() -> None:
    np.testing.assert_allclose(weights("carryover", 8, retention=0.6, peak=1.5),
                               weights("delayed", 8, alpha=0.6, theta=1.5), rtol=1e-6)


@pytest.mark.parametrize(("alpha", "expected"), [
    (0.5, [1.0, 0.8, 0.6, 0.4]),                       # exponent 1/0.5 - 1 = 1
    (0.25, [1.0, 0.8**3, 0.6**3, 0.4**3]),             # exponent 3
    (1.0, [1.0, 1.0, 1.0, 1.0]),                       # exponent 0: flat
    (0.0, [1.0, 0.0, 0.0, 0.0]),                       # exponent -> inf: identity
], ids=["half", "quarter", "one", "zero"])
def test_binomial_weights(alpha: float, expected: list[float]) -> None:
    np.testing.assert_allclose(weights("binomial", 4, False, alpha=alpha), expected,
                               rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize(("lam", "k"), [(2.0, 3.0), (3.5, 0.7), (1.0, 1.0)])
def test_weibull_cdf_weights_are_products_of_survivals(lam: float, k: float) -> None:
    survival = stats.weibull_min.sf(np.arange(1, 8), c=k, scale=lam)
    raw = np.concatenate([[1.0], np.cumprod(survival)])
    np.testing.assert_allclose(weights("weibull_cdf", 8, False, lam=lam, k=k), raw,
                               rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(weights("weibull_cdf", 8, lam=lam, k=k), raw / raw.sum(),
                               rtol=1e-4, atol=1e-7)


def test_weibull_cdf_small_shape_tends_to_geometric() -> None:
    # (j / lam)^k -> 1 as k -> 0, so every period keeps e^-1 of the effect
    np.testing.assert_allclose(weights("weibull_cdf", 7, lam=2.0, k=1e-5),
                               weights("geometric", 7, alpha=float(np.exp(-1.0))), rtol=1e-3)


@pytest.mark.parametrize(("lam", "k"), [(2.0, 3.0), (3.5, 0.7), (4.0, 1.5)])
def test_weibull_pdf_weights_are_min_max_scaled_density(lam: float, k: float) -> None:
    p = stats.weibull_min.pdf(np.arange(1, 9), c=k, scale=lam)
    raw = (p - p.min()) / (p.max() - p.min())
    np.testing.assert_allclose(weights("weibull_pdf", 8, False, lam=lam, k=k), raw,
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(weights("weibull_pdf", 8, lam=lam, k=k), raw / raw.sum(),
                               rtol=1e-4, atol=1e-6)


def test_weibull_pdf_flat_density_falls_back_to_identity() -> None:
    # lam so small that the whole density lies before t = 1: every value underflows
    np.testing.assert_allclose(weights("weibull_pdf", 5, lam=1e-3, k=20.0), [1, 0, 0, 0, 0])


def test_none_adstock_is_identity_and_broadcasts() -> None:
    form = ADSTOCKS.get("none")
    assert form.params == ()
    np.testing.assert_array_equal(np.asarray(form.weights(4)), [[1.0, 0.0, 0.0, 0.0]])
    x = media(n_channels=5)
    np.testing.assert_allclose(np.asarray(form.apply(x, 8)), x, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(form.apply_lagged(lag_stack(x, 8))), x, rtol=1e-6)
    # a size-1 channel axis broadcasts in the contraction, batch dims included
    w = jnp.broadcast_to(form.weights(8), (2, 1, 8))
    assert convolve_lagged(lag_stack(x, 8), w).shape == (2, *x.shape)
    with pytest.raises(TypeError):
        form.weights(4, True, alpha=jnp.ones(2))


def test_adstock_rejects_bad_l_max(adstock: AdstockForm) -> None:
    with pytest.raises(ValueError, match="l_max must be >= 1"):
        adstock.weights(0, True, **prior_draws(adstock, (N_CHANNELS,)))


# --------------------------------------------------------------------------------------
# Saturation contract
# --------------------------------------------------------------------------------------


@pytest.fixture(params=SATURATION_NAMES)
def saturation(request: pytest.FixtureRequest) -> SaturationForm:
    return SATURATIONS.get(request.param)


def sat_params(form: SaturationForm, shape: tuple[int, ...] = (N_CHANNELS,),
               seed: int = 0) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``beta`` and curve parameters drawn from the defaults, shaped ``(..., 1, n_channels)``."""
    params = prior_draws(form, shape, seed)
    beta = form.priors["beta"].to_numpyro().sample(jax.random.PRNGKey(seed + 100), shape)
    return beta[..., None, :], {p: v[..., None, :] for p, v in params.items()}


X_GRID = np.linspace(0.0, 10.0, 401)[:, None] * np.ones((1, N_CHANNELS))


def test_saturation_zero_at_zero(saturation: SaturationForm) -> None:
    beta, params = sat_params(saturation)
    x = np.zeros((4, N_CHANNELS))
    assert np.all(np.asarray(saturation.apply(x, **params)) == 0)
    assert np.all(np.asarray(saturation.contribution(x, beta, **params)) == 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saturation_monotone(saturation: SaturationForm, seed: int) -> None:
    beta, params = sat_params(saturation, seed=seed)
    for y in (saturation.apply(X_GRID, **params),
              saturation.contribution(X_GRID, beta, **params)):
        y = np.asarray(y)
        assert np.all(np.isfinite(y))
        assert np.all(np.diff(y, axis=0) >= -1e-6)


def test_saturation_shape_with_draws(saturation: SaturationForm) -> None:
    beta, params = sat_params(saturation, shape=(7, N_CHANNELS))
    x = media()
    assert saturation.apply(x, **params).shape == ((7, *x.shape) if params else x.shape)
    assert saturation.contribution(x, beta, **params).shape == (7, *x.shape)


def test_saturation_bounds(saturation: SaturationForm) -> None:
    _, params = sat_params(saturation)
    y = np.asarray(saturation.apply(X_GRID, **params))
    if saturation.name in UNBOUNDED:
        assert np.all(np.asarray(saturation.apply(np.full((1, N_CHANNELS), 100.0),
                                                  **params)) > 1.0)
        return
    assert np.all(y <= 1.0)
    # with unit-sized parameters the curve reaches 1 for large media
    unit = {p: jnp.full((1, N_CHANNELS), 0.5 if domain(p) == "unit" else 1.0)
            for p in saturation.params}
    big = np.asarray(saturation.apply(np.full((1, N_CHANNELS), 1e6), **unit))
    np.testing.assert_allclose(big, 1.0, rtol=1e-5)


def test_saturation_default_contribution_is_beta_times_curve(saturation: SaturationForm) -> None:
    beta, params = sat_params(saturation, seed=3)
    x = media(seed=3)
    got = np.asarray(saturation.contribution(x, beta, **params))
    if saturation.contribution_fn is None:
        want = np.asarray(beta) * np.asarray(saturation.apply(x, **params))
        np.testing.assert_allclose(got, want, rtol=1e-6)
    else:  # the form's own rule still saturates at beta
        assert np.all(got <= np.asarray(beta) * (1 + 1e-6))


def test_saturation_jit_and_vmap(saturation: SaturationForm) -> None:
    beta, params = sat_params(saturation, seed=4)
    x = media(seed=4)
    eager = np.asarray(saturation.contribution(x, beta, **params))
    jitted = jax.jit(lambda xx, b, p: saturation.contribution(xx, b, **p))(x, beta, params)
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-5, atol=1e-7)
    beta_d, params_d = sat_params(saturation, shape=(3, N_CHANNELS), seed=5)
    mapped = jax.vmap(lambda b, p: saturation.contribution(x, b, **p))(beta_d, params_d)
    np.testing.assert_allclose(np.asarray(mapped),
                               np.asarray(saturation.contribution(x, beta_d, **params_d)),
                               rtol=1e-5, atol=1e-7)


def test_saturation_float32(saturation: SaturationForm) -> None:
    beta, params = sat_params(saturation)
    x = media().astype(np.float32)
    assert saturation.apply(x, **params).dtype == jnp.float32
    assert saturation.contribution(x, beta, **params).dtype == jnp.float32


def test_saturation_gradients_finite_at_the_edges(saturation: SaturationForm) -> None:
    grid = edge_grid((*saturation.params, "beta"))
    beta = grid.pop("beta")[None, :]
    params = {p: v[None, :] for p, v in grid.items()}
    n_channels = beta.shape[-1]
    xs = jnp.asarray([0.0, 1e-6, 0.5, 1.0, 10.0], dtype=jnp.float32)
    x = jnp.broadcast_to(xs[:, None], (len(xs), n_channels))

    def loss(xx: jax.Array, b: jax.Array, p: dict[str, jax.Array]) -> jax.Array:
        return jnp.sum(saturation.contribution(xx, b, **p)) + jnp.sum(saturation.apply(xx, **p))

    assert np.all(np.isfinite(np.asarray(saturation.contribution(x, beta, **params))))
    grads = jax.grad(loss, argnums=(0, 1, 2))(x, beta, params)
    assert np.all(np.isfinite(np.asarray(grads[0]))), "gradient in x not finite"
    assert np.all(np.isfinite(np.asarray(grads[1]))), "gradient in beta not finite"
    for name, g in grads[2].items():
        assert np.all(np.isfinite(np.asarray(g))), f"gradient of {name} not finite"


# --------------------------------------------------------------------------------------
# Saturation formulas pinned against hand computations
# --------------------------------------------------------------------------------------


def curve(name: str, x: Any, **params: float) -> np.ndarray:
    return np.asarray(SATURATIONS.get(name).apply(np.asarray(x, dtype=float), **params))


def test_hill_formula_and_half_saturation() -> None:
    x = np.array([0.0, 0.1, 0.4, 1.0, 3.0])
    kappa, slope = 0.4, 2.5
    np.testing.assert_allclose(curve("hill", x, kappa=kappa, slope=slope),
                               x**slope / (x**slope + kappa**slope), rtol=1e-5, atol=1e-7)
    for k, s in [(0.3, 1.0), (0.8, 3.0), (2.0, 0.5)]:
        assert curve("hill", [k], kappa=k, slope=s)[0] == pytest.approx(0.5, rel=1e-6)


def test_michaelis_menten_formula_and_half_saturation() -> None:
    x = np.array([0.0, 0.2, 1.0, 5.0])
    np.testing.assert_allclose(curve("michaelis_menten", x, kappa=0.6), x / (0.6 + x),
                               rtol=1e-6)
    assert curve("michaelis_menten", [0.6], kappa=0.6)[0] == pytest.approx(0.5, rel=1e-6)
    # the Hill curve with slope 1
    np.testing.assert_allclose(curve("hill", x, kappa=0.6, slope=1.0),
                               curve("michaelis_menten", x, kappa=0.6), rtol=1e-5)


def test_tanh_contribution_formula_and_slope_at_zero() -> None:
    form = SATURATIONS.get("tanh")
    x = np.array([0.0, 0.3, 1.0, 4.0])
    b, c = 0.8, 0.5
    np.testing.assert_allclose(np.asarray(form.contribution(x, b, c=c)),
                               b * np.tanh(x / (b * c)), rtol=1e-6)
    np.testing.assert_allclose(curve("tanh", x, c=c), np.tanh(x / c), rtol=1e-6)
    for b, c in [(0.8, 0.5), (2.0, 0.1), (0.05, 3.0)]:
        slope = jax.grad(lambda xx, b=b, c=c: form.contribution(xx, b, c=c))(0.0)
        assert float(slope) == pytest.approx(1 / c, rel=1e-5)


def test_power_formula_and_linear_none() -> None:
    x = np.array([0.0, 0.25, 1.0, 9.0])
    np.testing.assert_allclose(curve("power", x, rho=0.5), [0.0, 0.5, 1.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(curve("power", x, rho=1.0), x, rtol=1e-6)
    np.testing.assert_allclose(curve("none", x), x)
    form = SATURATIONS.get("none")
    np.testing.assert_allclose(np.asarray(form.contribution(x, 1.5)), 1.5 * x, rtol=1e-6)


def test_piecewise_linear_formula_knee_and_edges() -> None:
    """Slope 1/knee up to the knee (where f = 1), ratio/knee after; ratio 0 caps at 1,
    ratio 1 is the straight line x/knee."""
    x = np.array([0.0, 0.2, 0.5, 0.8, 2.0])
    knee, ratio = 0.5, 0.25
    expected = np.where(x <= knee, x / knee, 1.0 + ratio * (x - knee) / knee)
    np.testing.assert_allclose(curve("piecewise_linear", x, knee=knee, ratio=ratio), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(curve("piecewise_linear", x, knee=knee, ratio=0.0),
                               np.minimum(x / knee, 1.0), rtol=1e-6)
    np.testing.assert_allclose(curve("piecewise_linear", x, knee=knee, ratio=1.0), x / knee,
                               rtol=1e-6)
    form = SATURATIONS.get("piecewise_linear")
    slope = jax.grad(lambda v: form.apply(v, knee=knee, ratio=ratio))
    assert float(slope(0.3)) == pytest.approx(1 / knee, rel=1e-6)
    assert float(slope(1.5)) == pytest.approx(ratio / knee, rel=1e-6)


def test_logistic_formula() -> None:
    x = np.array([0.0, 0.5, 2.0])
    lam = 3.0
    np.testing.assert_allclose(curve("logistic", x, lam=lam),
                               (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x)), rtol=1e-5)


# --------------------------------------------------------------------------------------
# Registries and their default priors
# --------------------------------------------------------------------------------------

REGISTRIES = [pytest.param(ADSTOCKS, id="adstock"), pytest.param(SATURATIONS, id="saturation")]
ALL_FORMS = ([pytest.param(ADSTOCKS, n, id=f"adstock-{n}") for n in ADSTOCK_NAMES]
             + [pytest.param(SATURATIONS, n, id=f"saturation-{n}") for n in SATURATION_NAMES])


@pytest.mark.parametrize(("registry", "name"), ALL_FORMS)
def test_default_priors_are_valid_and_match_the_domain(registry: Registry[Any],
                                                       name: str) -> None:
    form = registry.get(name)
    extra = {"beta"} if registry is SATURATIONS else set()
    assert set(form.priors) == {*form.params, *extra}
    assert len(set(form.params)) == len(form.params)
    for param, prior in form.priors.items():
        assert isinstance(prior, Prior)
        assert Prior.from_dict(prior.to_dict()) == prior
        support = prior.to_numpyro().support
        inside = {"unit": [0.01, 0.5, 0.99], "nonneg": [0.01, 1.0, 50.0],
                  "positive": [0.01, 1.0, 50.0]}[domain(param)]
        outside = {"unit": [-0.5, 1.5], "nonneg": [-0.5], "positive": [-0.5]}[domain(param)]
        assert all(bool(support.check(jnp.asarray(v))) for v in inside), (param, prior)
        assert not any(bool(support.check(jnp.asarray(v))) for v in outside), (param, prior)


def test_every_saturation_beta_prior_is_halfnormal_2() -> None:
    for name in SATURATION_NAMES:
        assert SATURATIONS.get(name).priors["beta"] == Prior("HalfNormal", {"scale": 2}), name


def test_geometric_keeps_the_classic_prior() -> None:
    assert ADSTOCKS.get("geometric").priors["alpha"] == Prior(
        "Beta", {"concentration1": 1, "concentration0": 3})
    assert SATURATIONS.get("logistic").priors["lam"] == Prior(
        "Gamma", {"concentration": 3, "rate": 1})


@pytest.mark.parametrize("registry", REGISTRIES)
def test_same_parameter_name_same_prior(registry: Registry[Any]) -> None:
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in registry.names():
        for param, prior in registry.get(name).priors.items():
            first = seen.setdefault(param, (name, prior.to_dict()))
            assert prior.to_dict() == first[1], (
                f"{registry.kind} {name!r} gives {param!r} the prior {prior.to_dict()}, "
                f"but {first[0]!r} gives it {first[1]}; a shared name needs one prior")


@pytest.mark.parametrize("registry", REGISTRIES)
def test_unknown_name_lists_every_choice(registry: Registry[Any]) -> None:
    with pytest.raises(ValueError, match=f"Unknown {registry.kind} 'nope'") as info:
        registry.get("nope")
    for name in registry.names():
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(("registry", "name"), ALL_FORMS)
def test_every_form_is_documented(registry: Registry[Any], name: str) -> None:
    form = registry.get(name)
    functions = ([form.weights_fn] if isinstance(form, AdstockForm)
                 else [form.fn, form.contribution_fn])
    for fn in functions:
        if fn is not None:
            assert "math::" in (inspect.getdoc(fn) or ""), f"{name}: no formula in {fn}"
    text = DOCS.read_text(encoding="utf-8")
    assert f"`{name}`" in text, f"docs/transforms.md has no entry for {registry.kind} {name!r}"
    for param in form.priors:
        assert f"`{param}`" in text
