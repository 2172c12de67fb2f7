"""Prior vs posterior, trace and rank plots: the draws shown are the fit's."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.errors import SpecError
from bayesmmm.report import (
    plot_data_prior_posterior,
    plot_data_rank,
    plot_data_trace,
    plot_prior_posterior,
    plot_rank,
    plot_trace,
)
from bayesmmm.report._plots_diag import prior_draws


def test_posterior_density_is_the_histogram_of_the_draws(tiny_fit: bm.Fit) -> None:
    frame = plot_data_prior_posterior(tiny_fit, bins=20)
    labels = set(frame["parameter"])
    assert labels == set(tiny_fit.summary().index)  # every parameter, by its summary name
    post = frame[(frame["parameter"] == "adstock_alpha[x2]") & (frame["source"] == "posterior")]
    draws = tiny_fit.posterior["adstock_alpha"][..., 1].ravel()
    expected, edges = np.histogram(draws, bins=20, density=True)
    np.testing.assert_allclose(post["density"], expected, rtol=1e-5)
    np.testing.assert_allclose(post["x"], (edges[:-1] + edges[1:]) / 2, rtol=1e-5)
    assert (post["density"] * np.diff(edges)).sum() == pytest.approx(1.0)


def test_prior_draws_follow_the_spec(tiny_fit: bm.Fit) -> None:
    alpha = prior_draws(tiny_fit, "adstock_alpha", n=20_000)
    assert alpha.shape == (20_000, 2)
    assert alpha.mean(axis=0) == pytest.approx([0.25, 0.25], abs=0.01)  # Beta(1, 3)
    lam = prior_draws(tiny_fit, "saturation_lam", n=20_000)
    assert lam.mean() == pytest.approx(3.0, abs=0.1)  # Gamma(3, 1)
    frame = plot_data_prior_posterior(tiny_fit, var_names=["saturation_lam"])
    prior = frame[(frame["parameter"] == "saturation_lam[x1]") & (frame["source"] == "prior")]
    assert (prior["x"] > 0).all()  # the display range stays inside the support
    fig = plot_prior_posterior(tiny_fit, var_names=["saturation_lam"])
    assert [a.text for a in fig.layout.annotations] == ["saturation_lam[x1]",
                                                        "saturation_lam[x2]"]


def test_panel_prior_posterior_leaves_out_geo_values(panel_fit: bm.Fit) -> None:
    labels = set(plot_data_prior_posterior(panel_fit)["parameter"])
    # two geos: each geo's beta is pooled (its spread is a parameter), the shapes shared
    assert "intercept[north]" in labels and "saturation_beta_sigma[tv]" in labels
    assert not any("_geo" in label for label in labels)


def test_trace_values_are_the_posterior_per_chain(tiny_fit: bm.Fit) -> None:
    frame = plot_data_trace(tiny_fit, var_names=["saturation_beta", "y_sigma"])
    one = frame[(frame["parameter"] == "saturation_beta[x1]") & (frame["chain"] == 1)]
    np.testing.assert_allclose(one["value"], tiny_fit.posterior["saturation_beta"][1, :, 0])
    assert set(frame["parameter"]) <= set(tiny_fit.summary().index)
    assert len(plot_data_trace(tiny_fit, max_elements=3)["parameter"].unique()) == 3
    fig = plot_trace(tiny_fit, var_names=["y_sigma"])
    assert [t.name for t in fig.data] == ["chain 0", "chain 1"]
    with pytest.raises(SpecError, match="Unknown parameter"):
        plot_data_trace(tiny_fit, var_names=["nope"])


def test_rank_histograms_count_every_draw_once(tiny_fit: bm.Fit) -> None:
    frame = plot_data_rank(tiny_fit, var_names=["intercept"], bins=10)
    counts = frame.groupby("chain")["count"].sum()
    assert (counts == tiny_fit.n_draws).all()
    assert frame["expected"].iloc[0] == pytest.approx(tiny_fit.n_draws / 10)
    # ranks are over the pooled chains: the bins of all chains hold every rank once
    assert frame.groupby("bin")["count"].sum().sum() == tiny_fit.n_chains * tiny_fit.n_draws
    values = tiny_fit.posterior["intercept"]
    top = (values >= np.sort(values.ravel())[-values.size // 10]).sum(axis=1)
    np.testing.assert_array_equal(frame[frame["bin"] == 9]["count"], top)
    fig = plot_rank(tiny_fit, var_names=["intercept"], bins=10)
    assert fig.data[-1].name == "uniform"
