"""Answers are consistent with the draws they come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.analysis import (
    channel_draws,
    component_draws,
    convergence_warnings,
    divergence_tails,
    fit_metrics,
    mean_draws,
)
from bayesmmm.model import fourier_features


def test_summary_columns_and_names(example_fit: bm.Fit) -> None:
    s = example_fit.summary()
    assert list(s.columns) == ["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail",
                               "r_hat"]
    for name in ["intercept", "adstock_alpha[x1]", "saturation_lam[x2]", "saturation_beta[x1]",
                 "gamma_control[event_1]", "gamma_control[t]", "gamma_fourier[sin_order_1]",
                 "gamma_fourier[cos_order_2]", "y_sigma"]:
        assert name in s.index
    assert len(s) == 15
    assert (s["hdi_3%"] <= s["mean"]).all() and (s["mean"] <= s["hdi_97%"]).all()


def test_summary_other_hdi_prob(example_fit: bm.Fit) -> None:
    s = example_fit.summary(hdi_prob=0.5)
    assert {"hdi_25%", "hdi_75%"} <= set(s.columns)


def test_components_add_up_to_the_model_mean(example_fit: bm.Fit) -> None:
    """Recompute mu by hand from one draw and compare with the sum of components."""
    comps = component_draws(example_fit)
    assert list(comps) == ["intercept", "event_1", "event_2", "t", "seasonality", "x1", "x2"]
    f = example_fit
    i = 17
    p = {k: v.reshape((-1,) + v.shape[2:])[i] for k, v in f.posterior.items()}
    x = f.data.media / f.scalers.channel_scale
    l_max = f.spec.adstock_max_lag
    media = np.zeros_like(x)
    for c in range(x.shape[1]):
        w = p["adstock_alpha"][c] ** np.arange(l_max)
        w = w / w.sum()
        for t in range(x.shape[0]):
            ad = sum(w[k] * x[t - k, c] for k in range(l_max) if t - k >= 0)
            lam = p["saturation_lam"][c]
            media[t, c] = p["saturation_beta"][c] * (1 - np.exp(-lam * ad)) / (
                1 + np.exp(-lam * ad))
    season = fourier_features(f.data.dates.day_of_year.to_numpy(), 2) @ p["gamma_fourier"]
    mu = (p["intercept"] + f.data.controls @ p["gamma_control"] + season + media.sum(1))
    np.testing.assert_allclose(mean_draws(f)[i], mu * f.scalers.y_scale, rtol=2e-4)
    np.testing.assert_allclose(channel_draws(f)[i], media * f.scalers.y_scale, rtol=2e-4)


def test_contributions_table(example_fit: bm.Fit) -> None:
    c = example_fit.contributions()
    assert set(c["kind"]) == {"baseline", "control", "seasonality", "channel"}
    assert len(c) == 7 * 179
    x1 = c[c.component == "x1"]
    assert (x1["hdi_3%"] <= x1["mean"]).all() and (x1["mean"] <= x1["hdi_97%"]).all()
    np.testing.assert_allclose(x1["mean"].to_numpy(),
                               component_draws(example_fit)["x1"].mean(0), rtol=1e-6)


def test_roi_is_contribution_over_spend(example_fit: bm.Fit) -> None:
    r = example_fit.roi()
    spend = bm.example_data()[["x1", "x2"]].sum().to_numpy()
    np.testing.assert_allclose(r["spend"].to_numpy(), spend)
    np.testing.assert_allclose(r["roi"].to_numpy(), r["contribution"].to_numpy() / spend,
                               rtol=1e-5)
    assert (r["hdi_3%"] < r["roi"]).all() and (r["roi"] < r["hdi_97%"]).all()


def test_roi_ranking_invariant_to_spend_currency(example_fit: bm.Fit) -> None:
    """Spend in cents instead of dollars: ROI divides by 100, the ranking is unchanged."""
    f = example_fit
    cents = bm.Fit(f.spec, f.data.__class__(**{**f.data.__dict__, "media": f.data.media * 100}),
                   f.scalers.__class__(f.scalers.channel_scale * 100, f.scalers.y_scale,
                                       f.scalers.control_center, f.scalers.control_scale),
                   f.posterior, f.sample_stats, f.meta)
    np.testing.assert_allclose(cents.roi()["roi"].to_numpy() * 100, f.roi()["roi"].to_numpy(),
                               rtol=1e-4)
    assert list(cents.roi()["roi"].rank()) == list(f.roi()["roi"].rank())


def test_media_share_sums_to_one(example_fit: bm.Fit) -> None:
    s = example_fit.media_share()
    assert s["mean"].sum() == pytest.approx(1.0)
    assert s["spend_share"].sum() == pytest.approx(1.0)
    assert ((s["hdi_3%"] >= 0) & (s["hdi_97%"] <= 1)).all()


def test_fit_metrics_on_example(example_fit: bm.Fit) -> None:
    m = fit_metrics(example_fit)
    assert m["r2"] > 0.9 and m["mape"] < 6
    assert 1.5 < m["durbin_watson"] < 2.5
    assert 0.85 < m["coverage_94"] <= 1


def test_durbin_watson_detects_autocorrelation(example_fit: bm.Fit) -> None:
    """Add a slow wave the model cannot explain: residuals correlate, DW falls."""
    f = example_fit
    wave = 600 * np.sin(np.arange(f.data.n_times) / 6)
    shifted = bm.Fit(f.spec, f.data.__class__(**{**f.data.__dict__, "y": f.data.y + wave}),
                     f.scalers, f.posterior, f.sample_stats, f.meta)
    assert fit_metrics(shifted)["durbin_watson"] < 0.5 < fit_metrics(f)["durbin_watson"]


def test_warnings_in_plain_words(example_fit: bm.Fit) -> None:
    f = example_fit
    stats = dict(f.sample_stats)
    stats["diverging"] = stats["diverging"].copy()
    stats["diverging"][0, :3] = True
    # chain 1 shifted: chains disagree; and only 30 draws: ESS low
    post = {k: v[:, :30].copy() for k, v in f.posterior.items()}
    post["saturation_lam"][1] += 3.0
    stats = {k: v[:, :30] for k, v in stats.items()}
    bad = bm.Fit(f.spec, f.data, f.scalers, post, stats, f.meta)
    text = " ".join(convergence_warnings(bad))
    assert "chains disagree" in text and "saturation_lam" in text
    assert "3 of 60 draws ended in a divergence" in text and "target_accept" in text
    assert "effective draws" in text and "want >= 400" in text


def test_divergences_in_one_channels_tail_are_located(example_fit: bm.Fit) -> None:
    """Divergent draws that share the low tail of x2's saturation parameter are named
    (with x2's beta, which the posterior ties to it), with what the data say about them;
    spread over the posterior, they are not."""
    f = example_fit
    lam = f.posterior["saturation_lam"][..., 1]  # (chain, draw): x2
    stats = dict(f.sample_stats)
    stats["diverging"] = lam <= np.quantile(lam, 0.02)
    located = bm.Fit(f.spec, f.data, f.scalers, f.posterior, stats, f.meta)
    tails = divergence_tails(located)
    where = {(t["parameter"], t["channel"]): t for t in tails}
    lam_tail = where[("saturation_lam", "x2")]
    assert lam_tail["side"] == "low" and lam_tail["percentile"] < 0.02
    assert lam_tail["divergent"] == int(stats["diverging"].sum())
    assert 0 < lam_tail["prior_share"] < 10
    assert {c for _, c in where} == {"x2"}  # x1's parameters do not share the tail
    text = " ".join(convergence_warnings(located))
    assert "The divergent draws sit at" in text and "the low end of x2's saturation_lam" in text
    # spread evenly (every 25th draw): no tail, the general advice
    stats["diverging"] = np.zeros_like(lam, dtype=bool)
    stats["diverging"][:, ::25] = True
    spread = bm.Fit(f.spec, f.data, f.scalers, f.posterior, stats, f.meta)
    assert divergence_tails(spread) == []
    assert "target_accept" in " ".join(convergence_warnings(spread))


def test_divergences_on_a_barely_informed_curve_say_the_roi_leans_on_the_prior(
        example_fit: bm.Fit) -> None:
    """A parameter whose posterior is as wide as its prior: the words say the channel's
    curve is weakly identified and suggest a lift test."""
    import jax

    f = example_fit
    shape = f.posterior["saturation_lam"].shape
    prior = f.spec.prior("saturation_lam").to_numpyro()
    wide = np.asarray(prior.sample(jax.random.PRNGKey(3), shape[:2] + (1,)))[..., 0]
    post = dict(f.posterior)
    post["saturation_lam"] = post["saturation_lam"].copy()
    post["saturation_lam"][..., 0] = wide  # x1's lam: posterior = prior
    stats = dict(f.sample_stats)
    stats["diverging"] = wide <= np.quantile(wide, 0.03)
    fit = bm.Fit(f.spec, f.data, f.scalers, post, stats, f.meta)
    tails = divergence_tails(fit)
    assert tails[0]["channel"] == "x1" and tails[0]["prior_share"] > 0.8
    text = " ".join(convergence_warnings(fit))
    assert "the data barely inform x1's saturation_lam" in text
    assert "x1's response curve is weakly identified" in text and "lift test for x1" in text


def test_contributions_long_format_is_tidy(example_fit: bm.Fit) -> None:
    c = example_fit.contributions()
    wide = c.pivot(index="date", columns="component", values="mean")
    total = wide.sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, mean_draws(example_fit).mean(0), rtol=1e-5)
    assert pd.Index(wide.index).is_monotonic_increasing


def test_hdi_of_one_dimensional_draws() -> None:
    from bayesmmm.analysis import hdi

    draws = np.random.default_rng(0).normal(size=20_000)
    low, high = hdi(draws, 0.94)
    assert np.ndim(low) == 0 and low == pytest.approx(-1.88, abs=0.06)
    assert high == pytest.approx(1.88, abs=0.06)
    low2, high2 = hdi(np.column_stack([draws, 2 * draws]), 0.94)
    assert low2.shape == (2,) and high2[1] == pytest.approx(2 * high, rel=0.05)


def test_one_chain_warns_that_convergence_is_unchecked(example_fit: bm.Fit) -> None:
    f = example_fit
    one = bm.Fit(f.spec, f.data, f.scalers, {k: v[:1] for k, v in f.posterior.items()},
                 {k: v[:1] for k, v in f.sample_stats.items()}, f.meta)
    assert any("With one chain" in w for w in convergence_warnings(one))
