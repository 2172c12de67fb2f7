"""The sampling basis is an exact reparametrisation of the classic model.

A plain reference model (every parameter sampled directly, as DESIGN.md writes it) and
ours must have the same log joint density at corresponding points, for any parameters.
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.util import log_density

import bayesmmm as bm
from bayesmmm.data import prepare
from bayesmmm.model import ModelStructure, make_design, make_scalers
from bayesmmm.model._model import model
from bayesmmm.transforms import geometric_adstock, logistic_saturation


def reference_model(media, controls, fourier, y, l_max):  # type: ignore[no-untyped-def]
    n_channels = media.shape[1]
    with numpyro.plate("channel", n_channels):
        alpha = numpyro.sample("adstock_alpha", dist.Beta(1.0, 3.0))
        lam = numpyro.sample("saturation_lam", dist.Gamma(3.0, 1.0))
        beta = numpyro.sample("saturation_beta", dist.HalfNormal(2.0))
    intercept = numpyro.sample("intercept", dist.Normal(0.0, 2.0))
    with numpyro.plate("control", controls.shape[1]):
        gamma = numpyro.sample("gamma_control", dist.Normal(0.0, 2.0))
    with numpyro.plate("fourier_mode", fourier.shape[1]):
        gamma_f = numpyro.sample("gamma_fourier", dist.Laplace(0.0, 1.0))
    sigma = numpyro.sample("y_sigma", dist.HalfNormal(2.0))
    media_effect = beta * logistic_saturation(geometric_adstock(media, alpha, l_max), lam)
    mu = intercept + media_effect.sum(-1) + controls @ gamma + fourier @ gamma_f
    numpyro.sample("y", dist.Normal(mu, sigma), obs=y)


def test_log_density_equals_reference_up_to_a_constant() -> None:
    spec = bm.example_spec()
    data, _ = prepare(bm.example_data(), date_column="date_week", y_column="y",
                      channel_columns=spec.channel_columns, control_columns=spec.control_columns)
    scalers = make_scalers(data)
    inputs = make_design(spec, data, scalers)
    structure = ModelStructure.build(spec, data)
    media = data.media / scalers.channel_scale
    ref_args = (jnp.asarray(media, jnp.float32), jnp.asarray(data.controls, jnp.float32),
                inputs.fourier, inputs.y[0], spec.adstock_max_lag)
    ours = partial(model, structure)
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(6):
        p = {"adstock_alpha": rng.uniform(0.05, 0.9, 2), "saturation_lam": rng.uniform(0.5, 6, 2),
             "saturation_beta": rng.uniform(0.05, 1.0, 2), "intercept": rng.normal(0.3, 0.2),
             "gamma_control": rng.normal(0, 0.1, 3) * np.array([1, 1, 0.01]),
             "gamma_fourier": rng.normal(0, 0.05, 4), "y_sigma": rng.uniform(0.02, 0.2)}
        p = {k: jnp.asarray(v, jnp.float32) for k, v in p.items()}
        ref, _ = log_density(reference_model, ref_args, {}, p)
        # our latents for the same parameters: the level is the mean of mu
        effect = p["saturation_beta"] * logistic_saturation(
            geometric_adstock(ref_args[0], p["adstock_alpha"], spec.adstock_max_lag),
            p["saturation_lam"])
        mu = (p["intercept"] + effect.sum(-1) + ref_args[1] @ p["gamma_control"]
              + inputs.fourier @ p["gamma_fourier"])
        latent = {k: p[k] for k in ("adstock_alpha", "saturation_lam", "saturation_beta",
                                    "gamma_fourier", "y_sigma")}
        latent["_gamma_control_std"] = p["gamma_control"] * inputs.control_scale
        latent["_level"] = mu.mean()
        mine, trace = log_density(ours, (inputs,), {}, latent)
        np.testing.assert_allclose(trace["intercept"]["value"], p["intercept"], atol=2e-5)
        diffs.append(float(mine - ref))
    # equal up to float32 rounding (the constant is 0: the shear has a unit Jacobian and
    # the control prior is evaluated at gamma itself)
    np.testing.assert_allclose(diffs, 0.0, atol=1e-2)


def test_no_controls_no_seasonality_model_runs() -> None:
    spec = bm.ModelSpec("date_week", "y", ["x1"], yearly_seasonality=0)
    data, _ = prepare(bm.example_data(), date_column="date_week", y_column="y",
                      channel_columns=["x1"])
    inputs = make_design(spec, data, make_scalers(data))
    latent = {"adstock_alpha": jnp.array([0.3]), "saturation_lam": jnp.array([2.0]),
              "saturation_beta": jnp.array([0.4]), "y_sigma": jnp.array(0.1),
              "_level": jnp.array(0.6)}
    value, trace = log_density(partial(model, ModelStructure.build(spec, data)), (inputs,),
                               {}, latent)
    assert {"intercept", "_level", "saturation_beta", "y"} <= set(trace)
    assert "gamma_control" not in trace and "gamma_fourier" not in trace
    assert jnp.isfinite(value) and float(trace["intercept"]["value"]) < 0.6
