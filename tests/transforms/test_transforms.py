"""Transforms against naive loop references, their edges and the registry contract."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmmm.priors import Prior
from bayesmmm.transforms import (
    ADSTOCKS,
    SATURATIONS,
    geometric_adstock,
    geometric_weights,
    logistic_saturation,
)


def naive_geometric(x: np.ndarray, alpha: np.ndarray, l_max: int, normalize: bool) -> np.ndarray:
    out = np.zeros_like(x, dtype=float)
    for c in range(x.shape[1]):
        w = np.array([alpha[c] ** lag for lag in range(l_max)])
        if normalize:
            w = w / w.sum()
        for t in range(x.shape[0]):
            for lag in range(l_max):
                if t - lag >= 0:
                    out[t, c] += w[lag] * x[t - lag, c]
    return out


@pytest.mark.parametrize("l_max", [1, 2, 8, 13])
@pytest.mark.parametrize("normalize", [True, False], ids=["normalised", "raw"])
def test_geometric_adstock_matches_loop(l_max: int, normalize: bool) -> None:
    rng = np.random.default_rng(l_max)
    x = rng.gamma(2.0, 1.0, size=(40, 3))
    alpha = np.array([0.0, 0.35, 0.9])
    got = np.asarray(geometric_adstock(x, alpha, l_max, normalize))
    np.testing.assert_allclose(got, naive_geometric(x, alpha, l_max, normalize), rtol=1e-5)


def test_alpha_zero_is_identity() -> None:
    x = np.random.default_rng(0).uniform(size=(20, 2))
    np.testing.assert_allclose(np.asarray(geometric_adstock(x, np.zeros(2), 8)), x, rtol=1e-6)


def test_l_max_one_is_identity() -> None:
    x = np.random.default_rng(1).uniform(size=(20, 2))
    np.testing.assert_allclose(np.asarray(geometric_adstock(x, np.array([0.5, 0.9]), 1)), x,
                               rtol=1e-6)


def test_zero_spend_gives_zero() -> None:
    x = np.zeros((15, 2))
    assert np.all(np.asarray(geometric_adstock(x, np.array([0.3, 0.7]), 8)) == 0)
    assert np.all(np.asarray(logistic_saturation(x, np.array([2.0, 5.0]))) == 0)


def test_normalised_adstock_keeps_total_of_an_impulse() -> None:
    x = np.zeros((30, 1))
    x[3, 0] = 10.0
    y = np.asarray(geometric_adstock(x, np.array([0.7]), 8))
    assert y.sum() == pytest.approx(10.0, rel=1e-5)
    assert y[:3].sum() == 0  # causal: nothing before the spend
    assert np.all(np.diff(y[3:11, 0]) < 0)  # decays


def test_batched_alpha_broadcasts_over_draws() -> None:
    x = np.random.default_rng(2).uniform(size=(25, 2))
    alphas = np.array([[0.1, 0.5], [0.8, 0.3], [0.0, 0.0]])
    got = np.asarray(geometric_adstock(x, alphas, 6))
    assert got.shape == (3, 25, 2)
    for i, a in enumerate(alphas):
        np.testing.assert_allclose(got[i], naive_geometric(x, a, 6, True), rtol=1e-5)


def test_geometric_weights_reject_bad_l_max() -> None:
    with pytest.raises(ValueError, match="l_max must be >= 1"):
        geometric_weights(np.array([0.5]), 0)


def test_logistic_saturation_matches_formula_and_is_stable() -> None:
    x = np.linspace(0, 3, 50)[:, None]
    lam = np.array([2.5])
    expected = (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))
    np.testing.assert_allclose(np.asarray(logistic_saturation(x, lam)), expected, rtol=1e-5,
                               atol=1e-7)
    big = np.asarray(logistic_saturation(np.array([[1e6]]), np.array([50.0])))
    assert np.isfinite(big).all() and big[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("name", ADSTOCKS.names())
def test_adstock_registry_contract(name: str) -> None:
    form = ADSTOCKS.get(name)
    assert set(form.priors) == set(form.params)
    for prior in form.priors.values():
        assert Prior.from_dict(prior.to_dict()) == prior
    params = {p: np.full(3, 0.5) for p in form.params}
    x = np.random.default_rng(3).uniform(size=(12, 3))
    assert np.asarray(form.apply(x, 4, **params)).shape == (12, 3)
    assert np.asarray(form.apply(np.zeros((12, 3)), 4, **params)).sum() == 0


@pytest.mark.parametrize("name", SATURATIONS.names())
def test_saturation_registry_contract(name: str) -> None:
    form = SATURATIONS.get(name)
    assert set(form.priors) == {*form.params, "beta"}
    params = {p: np.full(3, 2.0) for p in form.params}
    x = np.random.default_rng(4).uniform(size=(12, 3))
    y = np.asarray(form.apply(x, **params))
    assert y.shape == (12, 3)
    assert np.asarray(form.apply(np.zeros((12, 3)), **params)).sum() == 0
    order = np.argsort(x, axis=0)
    assert np.all(np.diff(np.take_along_axis(y, order, axis=0), axis=0) >= 0)  # increasing


def test_unknown_name_lists_choices() -> None:
    with pytest.raises(ValueError, match=r"Unknown adstock 'geo'; expected one of \[.*'geometric'"):
        ADSTOCKS.get("geo")
    with pytest.raises(ValueError, match="Unknown saturation 'hill2'"):
        SATURATIONS.get("hill2")
