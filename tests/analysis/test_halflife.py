"""Adstock half-life and peak lag: the closed form for geometric adstock, a numeric check
of every other form against an independent fine-grid search, and the table of a fit."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.analysis import geometric_half_life, half_life, hdi, weights_half_life
from bayesmmm.transforms import ADSTOCKS, geometric_weights

FORMS = [name for name in ADSTOCKS.names() if name != "none"]


def _prior_draws(form: str, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` draws of each parameter of ``form`` from its default prior."""
    out = {}
    for i, (name, prior) in enumerate(ADSTOCKS.get(form).priors.items()):
        dist = prior.to_numpyro()
        out[name] = np.asarray(dist.sample(jax.random.PRNGKey(seed + i), (n,)), np.float64)
    return out


def _grid_half_life(w: np.ndarray, step: float = 1e-3) -> float:
    """Independent route: the weights' log, linearly interpolated on a fine grid, searched
    for the first point after the peak at or below half the peak (no extrapolation)."""
    log_w = np.log(np.maximum(w, 1e-300))
    grid = np.arange(0, len(w) - 1 + step / 2, step)
    fine = np.interp(grid, np.arange(len(w)), log_w)
    peak = int(np.argmax(w))
    after = (grid >= peak) & (fine <= log_w[peak] + np.log(0.5))
    return float(grid[np.argmax(after)]) if after.any() else np.inf


def test_geometric_closed_form() -> None:
    alpha = np.array([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97])
    expected = np.where(alpha > 0, np.log(0.5) / np.log(np.where(alpha > 0, alpha, 0.5)), 0)
    np.testing.assert_allclose(geometric_half_life(alpha), expected, rtol=1e-12)
    assert geometric_half_life(0.5) == pytest.approx(1.0)
    assert np.isfinite(geometric_half_life(1.0))  # alpha = 1 never decays: huge, not inf


def test_numeric_route_equals_the_closed_form_on_geometric_weights() -> None:
    """Inside the window (interpolated) and beyond it (extrapolated from the tail)."""
    alpha = np.array([0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99])
    for l_max in (2, 8, 30):
        weights = np.asarray(geometric_weights(jnp.asarray(alpha), l_max), np.float64)
        half, peak = weights_half_life(weights)
        np.testing.assert_allclose(half, geometric_half_life(alpha), rtol=2e-5)
        assert (peak == 0).all()


def test_edge_weights() -> None:
    half, peak = weights_half_life(np.array([[1.0], [1.0, 0.0, 0.0][:1]]))
    np.testing.assert_array_equal(half, [0.0, 0.0])  # one lag: the effect ends at once
    half, peak = weights_half_life(np.array([1.0, 0.0, 0.0]))
    assert peak == 0 and half == pytest.approx(0.0, abs=0.01)  # no carry-over
    half, peak = weights_half_life(np.array([0.1, 0.2, 0.3, 0.4]))
    assert (half, peak) == (4.0, 3)  # still rising at the window's end: a lower bound
    half, peak = weights_half_life(np.array([0.2, 1.0, 0.5, 0.25]))
    assert peak == 1 and half == pytest.approx(2.0)  # halves one period after the peak
    with pytest.raises(ValueError, match="lag axis"):
        weights_half_life(np.float64(1.0))


@pytest.mark.parametrize("form", FORMS)
def test_numeric_half_life_of_every_form(form: str) -> None:
    """Per draw of the form's prior: the peak is the largest weight, and a half-life
    inside the window is where the log weights cross half the peak (fine-grid search)."""
    l_max = 12
    params = _prior_draws(form, 200)
    kw = {k: jnp.asarray(v, jnp.float32)[:, None] for k, v in params.items()}
    weights = np.asarray(ADSTOCKS.get(form).weights(l_max, True, **kw), np.float64)
    weights = np.broadcast_to(weights, (200, 1, l_max)).reshape(200, l_max)
    half, peak = weights_half_life(weights)
    np.testing.assert_array_equal(peak, np.argmax(weights, axis=1))
    assert (half >= peak).all() and np.isfinite(half).all()
    grid = np.array([_grid_half_life(w) for w in weights])
    inside = np.isfinite(grid)
    assert inside.mean() > 0.5, f"{form}: too few draws halve within {l_max} lags"
    np.testing.assert_allclose(half[inside], grid[inside], atol=2e-3)
    assert (half[~inside] >= l_max - 1).all()  # beyond the window: at least its end


def test_delayed_matches_its_continuous_form() -> None:
    """alpha^((l - theta)^2) halves at theta + sqrt(ln 0.5 / ln alpha); the log-linear
    interpolation between whole lags is within a fifth of a period of it."""
    alpha, theta = np.array([0.3, 0.5, 0.8]), np.array([2.0, 1.0, 3.0])
    w = np.asarray(ADSTOCKS.get("delayed").weights(
        20, True, alpha=jnp.asarray(alpha, jnp.float32), theta=jnp.asarray(theta, jnp.float32)))
    half, peak = weights_half_life(w)
    np.testing.assert_array_equal(peak, theta.astype(int))
    np.testing.assert_allclose(half, theta + np.sqrt(np.log(0.5) / np.log(alpha)), atol=0.2)


def test_half_life_of_a_geometric_fit(example_fit: bm.Fit) -> None:
    table = half_life(example_fit)
    assert list(table.index) == ["x1", "x2"]
    assert list(table.columns) == ["adstock", "half_life", "half_life_sd", "half_life_hdi_3%",
                                   "half_life_hdi_97%", "peak_lag", "peak_lag_hdi_3%",
                                   "peak_lag_hdi_97%", "beyond_window"]
    for k, channel in enumerate(["x1", "x2"]):
        alpha = example_fit.posterior["adstock_alpha"][..., k].reshape(-1).astype(np.float64)
        draws = np.log(0.5) / np.log(alpha)
        row = table.loc[channel]
        assert row["adstock"] == "geometric"
        assert row["half_life"] == pytest.approx(draws.mean(), rel=1e-9)
        assert row["half_life_sd"] == pytest.approx(draws.std(), rel=1e-9)
        low, high = hdi(draws, 0.94)
        assert row["half_life_hdi_3%"] == pytest.approx(float(low))
        assert row["half_life_hdi_97%"] == pytest.approx(float(high))
        assert row["peak_lag"] == row["peak_lag_hdi_97%"] == 0
        assert row["beyond_window"] == pytest.approx(np.mean(draws > 7))
    wide = half_life(example_fit, hdi_prob=0.5)
    assert "half_life_hdi_25%" in wide.columns


def test_half_life_of_other_forms_per_channel(example_fit: bm.Fit) -> None:
    """A fit whose channels have delayed and Weibull adstock (draws from their priors):
    each channel measured on its own form's weights."""
    spec = dataclasses.replace(example_fit.spec, adstock={"x1": "delayed", "x2": "weibull_pdf"})
    n = example_fit.n_chains * example_fit.n_draws
    delayed, weibull = _prior_draws("delayed", n, 1), _prior_draws("weibull_pdf", n, 2)
    shape = (example_fit.n_chains, example_fit.n_draws, 1)
    posterior = {k: v for k, v in example_fit.posterior.items() if not k.startswith("adstock")}
    posterior.update({"adstock_alpha": delayed["alpha"].reshape(shape),
                      "adstock_theta": delayed["theta"].reshape(shape),
                      "adstock_lam": weibull["lam"].reshape(shape),
                      "adstock_k": weibull["k"].reshape(shape)})
    fit = dataclasses.replace(example_fit, spec=spec, posterior=posterior)
    table = half_life(fit)
    assert list(table["adstock"]) == ["delayed", "weibull_pdf"]
    l_max = spec.adstock_max_lag
    for channel, form, params in (("x1", "delayed", delayed), ("x2", "weibull_pdf", weibull)):
        kw = {k: jnp.asarray(v, jnp.float32)[:, None] for k, v in params.items()}
        w = np.asarray(ADSTOCKS.get(form).weights(l_max, True, **kw)).reshape(n, l_max)
        half, peak = weights_half_life(w)
        assert table.loc[channel, "half_life"] == pytest.approx(half.mean())
        assert table.loc[channel, "peak_lag"] == pytest.approx(peak.mean())
        assert table.loc[channel, "beyond_window"] == pytest.approx(np.mean(half > l_max - 1))


def test_bad_arguments(example_fit: bm.Fit) -> None:
    with pytest.raises(ValueError, match="Unknown level"):
        half_life(example_fit, level="geo")
    with pytest.raises(ValueError, match="hdi_prob"):
        half_life(example_fit, hdi_prob=1.5)
