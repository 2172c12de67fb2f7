"""The MMM as a NumPyro model: national, or geo-hierarchical over panel cells.

Scaled units and names follow PyMC-Marketing (see DESIGN.md); the design arrays come
from :func:`bayesmmm.model._design.make_design`.

Sampling basis. The posterior is the one specified, but NUTS explores it in a basis
where the intercept is not entangled with everything else: every component enters
``mu`` centred over time (controls also standardised), and the sampler's latent
``_level`` (one per geo) is the mean of ``mu``:

    intercept = _level - mean_t(every other component)

For fixed other parameters this is a shift of the intercept (unit Jacobian), so adding
the intercept's prior as a factor at that value leaves the posterior exactly as
specified. Without it, a trend control or an always-on, saturated channel (a
near-constant contribution) trades off against the intercept along a long ridge.

Geo hierarchy. Each channel parameter ``p`` has a population value per channel (with
the national prior) and geo values ``T(T^-1(p) + p_sigma * z)``, ``z ~ Normal(0, 1)``
(non-centred), where ``T`` maps the real line onto the prior's support (log for positive
parameters, logit for (0, 1) ones). Controls are pooled the same way in their
standardised basis; intercept, trend, seasonality and noise are per geo.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import Array
from numpyro.distributions.transforms import biject_to

from bayesmmm.errors import SpecError
from bayesmmm.model._centring import pair_index
from bayesmmm.model._design import Design
from bayesmmm.model._mean import lift_effects, media_contributions, trend_component
from bayesmmm.model._spec import ModelSpec

__all__ = ["model"]


def _sample(spec: ModelSpec, name: str, shape: tuple[int, ...],
            prior: dist.Distribution | None = None) -> Array:
    d = spec.prior(name).to_numpyro() if prior is None else prior
    if shape:
        d = d.expand(shape).to_event(len(shape))
    return numpyro.sample(name, d)


def _real(name: str, shape: tuple[int, ...]) -> Array:
    return numpyro.sample(name, dist.ImproperUniform(dist.constraints.real, (), shape))


def _log_prior(prior: dist.Distribution, value: Array) -> Array:
    """Log density of a derived quantity, -inf outside the prior's support (NumPyro does
    not check the support itself, e.g. a HalfNormal intercept must stay >= 0)."""
    inside = prior.support(value)
    mean = prior.mean
    safe = jnp.where(inside, value, jnp.where(jnp.isfinite(mean), mean, 0.5))
    return jnp.where(inside, prior.log_prob(safe), -jnp.inf).sum()


def _beta_prior(spec: ModelSpec, design: Design) -> dist.Distribution:
    prior = spec.prior("saturation_beta")
    if spec.media_prior != "spend_share":
        return prior.to_numpyro()
    if prior.dist != "HalfNormal":
        raise SpecError("media_prior='spend_share' scales a HalfNormal prior of "
                        f"saturation_beta, but it is {prior.dist}. Fix: drop the override")
    spend = design.spend.sum(axis=0)
    share = spend / spend.sum()
    scale = jnp.asarray(prior.params["scale"]) * len(spec.channel_columns) * share
    return dist.HalfNormal(scale)


def _standard(name: str, centre: Array, sigma: Array, n_geos: int,
              weight: Array | None) -> Array:
    """Standard normal geo deviations ``z`` ``(n_geos, n)`` of values ``centre + sigma * z``.

    With centring weights ``c`` in [0, 1] (None: 0) the sampled variable is
    ``w ~ Normal(c * centre, sigma**c)`` and ``z = (w - c * centre) / sigma**c``: ``c = 0``
    is the non-centred form, ``c = 1`` the centred one (``w`` is the value itself). For
    fixed ``sigma`` this is an affine map of ``w`` whose Jacobian the density of ``w``
    carries, so every ``c`` gives the same model (see ``_centring`` for the choice).
    """
    if weight is None:
        return numpyro.sample(f"_{name}_z", dist.Normal(0.0, 1.0).expand(
            (n_geos, centre.shape[-1])).to_event(2))
    scale = sigma ** weight
    w = numpyro.sample(f"_{name}_z", dist.Normal(weight * centre, scale).to_event(2))
    return (w - weight * centre) / scale


def _geo_values(name: str, centre: Array, sigma: Array, n_geos: int,
                weight: Array | None) -> Array:
    """Geo values ``centre + sigma * z`` (``z`` from :func:`_standard`)."""
    return centre + sigma * _standard(name, centre, sigma, n_geos, weight)


def _logistic_pair(spec: ModelSpec, params: dict[str, Array],
                   priors: dict[str, dist.Distribution], n_geos: int,
                   centring: dict[str, Array]) -> None:
    """Geo values of ``saturation_beta`` and ``saturation_lam`` as a rotated pair.

    Where a logistic channel works in the near-linear part of its curve the data fix
    each geo's ``log(beta_g * lam_g)`` but hardly ``beta_g`` and ``lam_g`` apart. The
    pair's standard normal deviations ``(z_beta, z_lam)`` are a rotation, by the angle
    ``atan2(sigma_lam, sigma_beta)``, of ``(v, u)`` such that the geo's
    ``log beta_g + log lam_g = M + S u`` (``M`` the population value, ``S =
    hypot(sigma_beta, sigma_lam)``). A rotation of independent standard normals gives
    independent standard normals (unit Jacobian), so the model is unchanged. ``u`` is
    sampled with the centring weight ``centring["logistic_pair"]`` (``_saturation_lam_z``
    holds it), ``v`` non-centred (``_saturation_beta_z`` holds it); beta of channels
    without ``lam`` keeps its own weight.
    """
    n_beta = len(spec.channels_with("saturation_beta"))
    at = jnp.asarray(pair_index(spec))
    t_beta = biject_to(priors["saturation_beta"].support)
    t_lam = biject_to(priors["saturation_lam"].support)
    m_beta = t_beta.inv(params["saturation_beta"])
    m_lam = t_lam.inv(params["saturation_lam"])
    s_beta = _sample(spec, "saturation_beta_sigma", (n_beta,))
    s_lam = _sample(spec, "saturation_lam_sigma", (m_lam.shape[-1],))
    w_beta = centring.get("saturation_beta", jnp.zeros((n_geos, n_beta)))
    z_beta = _standard("saturation_beta", m_beta, s_beta, n_geos, w_beta.at[:, at].set(0.0))
    s_pair = jnp.sqrt(s_beta[at] ** 2 + s_lam ** 2)
    u = _standard("saturation_lam", m_beta[at] + m_lam, s_pair, n_geos,
                  centring["logistic_pair"])
    cos, sin = s_beta[at] / s_pair, s_lam / s_pair
    v = z_beta[:, at]
    z_beta = z_beta.at[:, at].set(cos * u - sin * v)
    z_lam = sin * u + cos * v
    params["saturation_beta_geo"] = numpyro.deterministic(
        "saturation_beta_geo", t_beta(m_beta + s_beta * z_beta))
    params["saturation_lam_geo"] = numpyro.deterministic(
        "saturation_lam_geo", t_lam(m_lam + s_lam * z_lam))


def _pool(spec: ModelSpec, name: str, population: Array, prior: dist.Distribution,
          n_geos: int, weight: Array | None) -> Array:
    """Geo values around the population value, in the unconstrained space of the prior."""
    sigma = _sample(spec, f"{name}_sigma", (population.shape[-1],))
    t = biject_to(prior.support)
    return numpyro.deterministic(
        f"{name}_geo", t(_geo_values(name, t.inv(population), sigma, n_geos, weight)))


def _channel_parameters(spec: ModelSpec, design: Design, n_geos: int) -> dict[str, Array]:
    panel = n_geos > 1
    centring = design.centring or {}
    pair = panel and "logistic_pair" in centring
    params: dict[str, Array] = {}
    priors: dict[str, dist.Distribution] = {}
    for name in spec.channel_parameters():
        if name == "saturation_beta" and spec.media_prior == "roi":
            continue
        prior = _beta_prior(spec, design) if name == "saturation_beta" \
            else spec.prior(name).to_numpyro()
        priors[name] = prior
        params[name] = _sample(spec, name, (len(spec.channels_with(name)),), prior)
        if pair and name in ("saturation_beta", "saturation_lam"):
            continue
        if panel and name not in spec.geo_shared:
            params[f"{name}_geo"] = _pool(spec, name, params[name], prior, n_geos,
                                          centring.get(name))
    if pair:
        _logistic_pair(spec, params, priors, n_geos, centring)
    return params


def _roi_media(spec: ModelSpec, design: Design, params: dict[str, Array],
               n_geos: int) -> Array:
    """Meridian-style ROI prior: sample ROI, derive beta so the fitted ROI equals it."""
    n_ch = len(spec.channel_columns)
    roi = _sample(spec, "roi", (n_ch,))
    if n_geos > 1 and "saturation_beta" not in spec.geo_shared:
        sigma = _sample(spec, "saturation_beta_sigma", (n_ch,))
        z = numpyro.sample("_saturation_beta_z",
                           dist.Normal(0.0, 1.0).expand((n_geos, n_ch)).to_event(2))
        spread = jnp.exp(sigma * z)  # (G, C)
    else:
        spread = jnp.ones((n_geos, n_ch))
    curves = media_contributions(spec, design.media, params, beta=jnp.ones((n_geos, n_ch)))
    reach = (design.y_scale[:, None] * spread * curves.sum(axis=1)).sum(axis=0)  # (C,)
    beta = numpyro.deterministic("saturation_beta", roi * design.spend.sum(axis=0) / reach)
    params["saturation_beta"] = beta
    if n_geos > 1 and "saturation_beta" not in spec.geo_shared:
        params["saturation_beta_geo"] = numpyro.deterministic("saturation_beta_geo",
                                                              beta * spread)
    return curves * (beta * spread)[:, None, :]


def _trend_parameters(spec: ModelSpec, design: Design, n_geos: int) -> dict[str, Array]:
    g = (n_geos,) if n_geos > 1 else ()
    kind = spec.trend
    if kind in ("linear", "piecewise"):
        out = {"trend_slope": _sample(spec, "trend_slope", g)}
        if kind == "piecewise":
            out["trend_delta"] = _sample(spec, "trend_delta", (*g, design.trend.shape[1] - 1))
        return out
    if kind == "power":
        # coef * t**e with t up to hundreds makes coef and e a narrow curved ridge.
        # Sample coef_s = coef * t_max**e (the trend at the last period) instead and add
        # the Jacobian |d coef / d coef_s| = t_max**-e: the same posterior, a round one.
        exponent = _sample(spec, "trend_exponent", g)
        t_max = jnp.maximum(design.trend[:, 0].max(), 1.0)
        coef_s = _real("_trend_coef_s", g)
        coef = numpyro.deterministic("trend_coef", coef_s * t_max ** -exponent)
        numpyro.factor("_trend_coef_prior",
                       _log_prior(spec.prior("trend_coef").to_numpyro(), coef)
                       - (exponent * jnp.log(t_max)).sum())
        return {"trend_coef": coef, "trend_exponent": exponent}
    # smooth: a Gaussian random walk on knots, the first knot at 0 (the level absorbs it)
    sigma = _sample(spec, "trend_sigma", ())
    n_steps = design.trend.shape[1] - 1
    z = numpyro.sample("_trend_z", dist.Normal(0.0, 1.0).expand((*g, n_steps)).to_event(
        len(g) + 1))
    walk = jnp.cumsum(sigma * z, axis=-1)
    knots = jnp.concatenate([jnp.zeros((*g, 1)), walk], axis=-1)
    return {"trend_knots": numpyro.deterministic("trend_knots", knots)}


def model(spec: ModelSpec, design: Design,
          lift_index: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> None:
    """NumPyro model of the MMM (parameter names as PyMC-Marketing for national data).

    ``lift_index`` holds the (geo, channel) indices of the lift tests as static Python
    integers (the design's arrays are traced); it defaults to the design's own.
    """
    n_geos = design.media.shape[1]  # (l_max, G, T, C)
    panel = n_geos > 1
    g = (n_geos,) if panel else ()

    params = _channel_parameters(spec, design, n_geos)
    if spec.media_prior == "roi":
        contributions = _roi_media(spec, design, params, n_geos)
    else:
        contributions = media_contributions(spec, design.media, params)  # (G, T, C)
    media_mean = contributions.mean(axis=1)  # (G, C)
    mu = (contributions - media_mean[:, None, :]).sum(-1)  # (G, T), centred
    shift = media_mean.sum(-1)  # (G,): intercept = _level - shift

    n_controls = design.controls.shape[-1]
    if n_controls:
        gamma_std = _real("_gamma_control_std", (n_controls,))
        gamma = numpyro.deterministic("gamma_control", gamma_std / design.control_scale)
        # gamma_std = gamma * scale: a constant Jacobian, so the prior factor is exact
        numpyro.factor("_gamma_control_prior",
                       _log_prior(spec.prior("gamma_control").to_numpyro(), gamma))
        if panel:
            sigma = _sample(spec, "gamma_control_sigma", (n_controls,))
            weight = (design.centring or {}).get("gamma_control")
            gamma_std_geo = _geo_values("gamma_control", gamma_std, sigma, n_geos, weight)
            gamma_geo = numpyro.deterministic("gamma_control_geo",
                                              gamma_std_geo / design.control_scale)
        else:
            gamma_std_geo, gamma_geo = gamma_std[None], gamma[None]
        mu = mu + jnp.einsum("gtk,gk->gt", design.controls, gamma_std_geo)
        shift = shift + (gamma_geo * design.control_mean).sum(-1)

    n_fourier = design.fourier.shape[-1]
    if n_fourier:
        gamma_f = _sample(spec, "gamma_fourier", (*g, n_fourier))
        gamma_f = gamma_f if panel else gamma_f[None]
        f_mean = design.fourier.mean(axis=0)
        mu = mu + gamma_f @ (design.fourier - f_mean).T
        shift = shift + gamma_f @ f_mean

    if spec.trend != "none":
        trend = trend_component(spec, design.trend, _trend_parameters(spec, design, n_geos),
                                panel)  # (G or 1, T)
        t_mean = trend.mean(axis=-1)
        mu = mu + trend - t_mean[..., None]
        shift = shift + t_mean

    intercept_prior = spec.prior("intercept").to_numpyro()
    if intercept_prior.support is dist.constraints.real:
        level = _real("_level", g)
        numpyro.factor("_intercept_prior", _log_prior(
            intercept_prior, numpyro.deterministic("intercept",
                                                   level - (shift if panel else shift[0]))))
    else:
        # A bounded intercept (LightweightMMM's HalfNormal) is a hard wall in the level
        # basis; sample it directly (unconstrained by NumPyro) instead.
        intercept = _sample(spec, "intercept", g)
        level = intercept + (shift if panel else shift[0])
    sigma_y = _sample(spec, "y_sigma", g)
    level_g = level if panel else level[None]
    sigma_g = sigma_y if panel else sigma_y[None]
    numpyro.sample("y", dist.Normal(mu + level_g[:, None], sigma_g[:, None]).to_event(2),
                   obs=design.y)

    lift = design.lift
    if lift is not None:
        if lift_index is None:
            if lift.geo is None or lift.channel is None:
                raise SpecError("lift tests need their (geo, channel) indices")
            lift_index = (tuple(int(i) for i in lift.geo), tuple(int(i) for i in lift.channel))
        effect = lift_effects(spec, design.media, lift.delta, *lift_index, params)
        numpyro.sample("lift", dist.Normal(effect, lift.se).to_event(1), obs=lift.lift)


def site_dims(spec: ModelSpec, name: str, panel: bool) -> list[str]:
    """Dimension names of a posterior site (for ArviZ and the fit file)."""
    geo = ["geo"] if panel else []
    base = name.removesuffix("_geo").removesuffix("_sigma")
    if base.startswith(("adstock_", "saturation_")):
        channel_dim = "channel" if len(spec.channels_with(base)) == len(spec.channel_columns) \
            else f"{base}_channel"
        return [*geo, channel_dim] if name.endswith("_geo") else [channel_dim]
    table: dict[str, list[str]] = {
        "roi": ["channel"], "gamma_control": ["control"], "gamma_control_sigma": ["control"],
        "gamma_control_geo": ["geo", "control"], "gamma_fourier": [*geo, "fourier_mode"],
        "intercept": geo, "y_sigma": geo, "trend_slope": geo, "trend_coef": geo,
        "trend_exponent": geo, "trend_delta": [*geo, "changepoint"],
        "trend_knots": [*geo, "knot"], "trend_sigma": []}
    return table.get(name, [])
