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
standardised basis (or shared: ``geo_shared``); intercept, trend, seasonality and noise
are per geo.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import Array
from numpyro.distributions.transforms import biject_to

from bayesmmm.errors import SpecError
from bayesmmm.model._design import Design
from bayesmmm.model._mean import lift_effects, media_contributions, trend_component
from bayesmmm.model._structure import ModelStructure, Site
from bayesmmm.model._trends import TrendContext, log_prior

__all__ = ["model"]


def _sample(structure: ModelStructure, name: str, shape: tuple[int, ...],
            prior: dist.Distribution | None = None) -> Array:
    d = structure.prior(name).to_numpyro() if prior is None else prior
    if shape:
        d = d.expand(shape).to_event(len(shape))
    return numpyro.sample(name, d)


def _real(name: str, shape: tuple[int, ...]) -> Array:
    return numpyro.sample(name, dist.ImproperUniform(dist.constraints.real, (), shape))


def _beta_prior(structure: ModelStructure, design: Design) -> dist.Distribution:
    prior = structure.prior(Site.BETA)
    if structure.media_prior != "spend_share":
        return prior.to_numpyro()
    if prior.dist != "HalfNormal":
        raise SpecError("media_prior='spend_share' scales a HalfNormal prior of "
                        f"saturation_beta, but it is {prior.dist}. Fix: drop the override")
    spend = design.spend.sum(axis=0)
    share = spend / spend.sum()
    scale = jnp.asarray(prior.params["scale"]) * len(structure.channels) * share
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
        return numpyro.sample(Site.deviation(name), dist.Normal(0.0, 1.0).expand(
            (n_geos, centre.shape[-1])).to_event(2))
    scale = sigma ** weight
    w = numpyro.sample(Site.deviation(name), dist.Normal(weight * centre, scale).to_event(2))
    return (w - weight * centre) / scale


def _geo_values(name: str, centre: Array, sigma: Array, n_geos: int,
                weight: Array | None) -> Array:
    """Geo values ``centre + sigma * z`` (``z`` from :func:`_standard`)."""
    return centre + sigma * _standard(name, centre, sigma, n_geos, weight)


def _logistic_pair(structure: ModelStructure, params: dict[str, Array],
                   priors: dict[str, dist.Distribution], centring: dict[str, Array]) -> None:
    """Geo values of ``saturation_beta`` and ``saturation_lam`` as a rotated pair.

    Where a logistic channel works in the near-linear part of its curve the data fix
    each geo's ``log(beta_g * lam_g)`` but hardly ``beta_g`` and ``lam_g`` apart. The
    pair's standard normal deviations ``(z_beta, z_lam)`` are a rotation, by the angle
    ``atan2(sigma_lam, sigma_beta)``, of ``(v, u)`` such that the geo's
    ``log beta_g + log lam_g = M + S u`` (``M`` the population value, ``S =
    hypot(sigma_beta, sigma_lam)``). A rotation of independent standard normals gives
    independent standard normals (unit Jacobian), so the model is unchanged. ``u`` is
    sampled with the centring weight ``centring[Site.PAIR]`` (the deviation site of
    ``saturation_lam`` holds it), ``v`` non-centred (that of ``saturation_beta`` holds
    it); beta of channels without ``lam`` keeps its own weight.
    """
    n_geos = structure.n_geos
    n_beta = len(structure.media.param(Site.BETA).channels)
    assert structure.pair is not None
    at = jnp.asarray(structure.pair)
    t_beta = biject_to(priors[Site.BETA].support)
    t_lam = biject_to(priors[Site.LAM].support)
    m_beta = t_beta.inv(params[Site.BETA])
    m_lam = t_lam.inv(params[Site.LAM])
    s_beta = _sample(structure, Site.spread(Site.BETA), (n_beta,))
    s_lam = _sample(structure, Site.spread(Site.LAM), (m_lam.shape[-1],))
    w_beta = centring.get(Site.BETA, jnp.zeros((n_geos, n_beta)))
    z_beta = _standard(Site.BETA, m_beta, s_beta, n_geos, w_beta.at[:, at].set(0.0))
    s_pair = jnp.sqrt(s_beta[at] ** 2 + s_lam ** 2)
    u = _standard(Site.LAM, m_beta[at] + m_lam, s_pair, n_geos, centring[Site.PAIR])
    cos, sin = s_beta[at] / s_pair, s_lam / s_pair
    v = z_beta[:, at]
    z_beta = z_beta.at[:, at].set(cos * u - sin * v)
    z_lam = sin * u + cos * v
    params[Site.geo(Site.BETA)] = numpyro.deterministic(
        Site.geo(Site.BETA), t_beta(m_beta + s_beta * z_beta))
    params[Site.geo(Site.LAM)] = numpyro.deterministic(
        Site.geo(Site.LAM), t_lam(m_lam + s_lam * z_lam))


def _pool(structure: ModelStructure, name: str, population: Array,
          prior: dist.Distribution, weight: Array | None) -> Array:
    """Geo values around the population value, in the unconstrained space of the prior."""
    sigma = _sample(structure, Site.spread(name), (population.shape[-1],))
    t = biject_to(prior.support)
    return numpyro.deterministic(Site.geo(name), t(_geo_values(
        name, t.inv(population), sigma, structure.n_geos, weight)))


def _channel_parameters(structure: ModelStructure, design: Design) -> dict[str, Array]:
    centring = design.centring or {}
    pair = structure.pair is not None and Site.PAIR in centring
    params: dict[str, Array] = {}
    priors: dict[str, dist.Distribution] = {}
    for p in structure.media.params:
        name = p.name
        if name == Site.BETA and not structure.beta_sampled:
            continue
        prior = _beta_prior(structure, design) if name == Site.BETA \
            else structure.prior(name).to_numpyro()
        priors[name] = prior
        params[name] = _sample(structure, name, (len(p.channels),), prior)
        if pair and name in (Site.BETA, Site.LAM):
            continue
        if structure.is_pooled(name):
            params[Site.geo(name)] = _pool(structure, name, params[name], prior,
                                           centring.get(name))
    if pair:
        _logistic_pair(structure, params, priors, centring)
    return params


def _roi_media(structure: ModelStructure, design: Design, params: dict[str, Array]) -> Array:
    """Meridian-style ROI prior: sample ROI, derive beta so the fitted ROI equals it."""
    n_geos, n_ch = structure.n_geos, len(structure.channels)
    roi = _sample(structure, Site.ROI, (n_ch,))
    pooled = structure.panel and Site.BETA not in structure.geo_shared
    if pooled:
        sigma = _sample(structure, Site.spread(Site.BETA), (n_ch,))
        z = numpyro.sample(Site.deviation(Site.BETA),
                           dist.Normal(0.0, 1.0).expand((n_geos, n_ch)).to_event(2))
        spread = jnp.exp(sigma * z)  # (G, C)
    else:
        spread = jnp.ones((n_geos, n_ch))
    curves = media_contributions(structure, design.media, params,
                                 beta=jnp.ones((n_geos, n_ch)), select=design.select)
    reach = (design.y_scale[:, None] * spread * curves.sum(axis=1)).sum(axis=0)  # (C,)
    beta = numpyro.deterministic(Site.BETA, roi * design.spend.sum(axis=0) / reach)
    params[Site.BETA] = beta
    if pooled:
        params[Site.geo(Site.BETA)] = numpyro.deterministic(Site.geo(Site.BETA), beta * spread)
    return curves * (beta * spread)[:, None, :]


def _with_geo_axis(structure: ModelStructure, value: Array) -> Array:
    """A per-geo site's value with its geo axis: national scalars become ``(1, ...)``."""
    return value if structure.panel else value[None]


def _controls(structure: ModelStructure, design: Design) -> tuple[Array, Array]:
    """Centred control effects ``(G, T)`` and their mean ``(G,)``."""
    gamma_std = _real(Site.GAMMA_CONTROL_STD, (len(structure.controls),))
    gamma = numpyro.deterministic(Site.GAMMA_CONTROL, gamma_std / design.control_scale)
    # gamma_std = gamma * scale: a constant Jacobian, so the prior factor is exact
    numpyro.factor(Site.prior_factor(Site.GAMMA_CONTROL),
                   log_prior(structure.prior(Site.GAMMA_CONTROL).to_numpyro(), gamma))
    if structure.is_pooled(Site.GAMMA_CONTROL):
        sigma = _sample(structure, Site.spread(Site.GAMMA_CONTROL), (len(structure.controls),))
        weight = (design.centring or {}).get(Site.GAMMA_CONTROL)
        gamma_std_geo = _geo_values(Site.GAMMA_CONTROL, gamma_std, sigma, structure.n_geos,
                                    weight)
        gamma_geo = numpyro.deterministic(Site.geo(Site.GAMMA_CONTROL),
                                          gamma_std_geo / design.control_scale)
    else:  # national, or one effect every geo shares
        shape = (structure.n_geos, len(structure.controls))
        gamma_std_geo = jnp.broadcast_to(gamma_std, shape)
        gamma_geo = jnp.broadcast_to(gamma, shape)
    return (jnp.einsum("gtk,gk->gt", design.controls, gamma_std_geo),
            (gamma_geo * design.control_mean).sum(-1))


def _trend(structure: ModelStructure, design: Design) -> Array:
    """The trend ``(G, T)`` (not centred)."""
    def sample(name: str, shape: tuple[int, ...]) -> Array:
        return _sample(structure, name, shape)

    ctx = TrendContext(sample, lambda name: structure.prior(name).to_numpyro(),
                       structure.geo_shape, design.trend)
    params = structure.trend_form.sample(ctx)
    shared = structure.trend_form.shared
    geo = {k: (v if k in shared else _with_geo_axis(structure, v)) for k, v in params.items()}
    return trend_component(structure, design.trend, geo)


def model(structure: ModelStructure, design: Design) -> None:
    """NumPyro model of the MMM (parameter names as PyMC-Marketing for national data).

    ``structure`` (static) says what the model is; ``design`` holds its arrays.
    """
    g = structure.geo_shape
    params = _channel_parameters(structure, design)
    if structure.beta_sampled:
        contributions = media_contributions(structure, design.media, params,
                                            select=design.select)  # (G, T, C)
    else:
        contributions = _roi_media(structure, design, params)
    media_mean = contributions.mean(axis=1)  # (G, C)
    mu = (contributions - media_mean[:, None, :]).sum(-1)  # (G, T), centred
    shift = media_mean.sum(-1)  # (G,): intercept = _level - shift

    if structure.controls:
        effect, mean = _controls(structure, design)
        mu, shift = mu + effect, shift + mean

    if structure.n_fourier:
        gamma_f = _with_geo_axis(structure, _sample(structure, Site.GAMMA_FOURIER,
                                                    (*g, structure.n_fourier)))
        f_mean = design.fourier.mean(axis=0)
        mu = mu + gamma_f @ (design.fourier - f_mean).T
        shift = shift + gamma_f @ f_mean

    if structure.trend != "none":
        trend = _trend(structure, design)  # (G, T)
        t_mean = trend.mean(axis=-1)
        mu = mu + trend - t_mean[..., None]
        shift = shift + t_mean

    intercept_prior = structure.prior(Site.INTERCEPT).to_numpyro()
    if intercept_prior.support is dist.constraints.real:
        level = _real(Site.LEVEL, g)
        numpyro.factor(Site.prior_factor(Site.INTERCEPT), log_prior(
            intercept_prior, numpyro.deterministic(
                Site.INTERCEPT, level - (shift if structure.panel else shift[0]))))
    else:
        # A bounded intercept (LightweightMMM's HalfNormal) is a hard wall in the level
        # basis; sample it directly (unconstrained by NumPyro) instead.
        intercept = _sample(structure, Site.INTERCEPT, g)
        level = intercept + (shift if structure.panel else shift[0])
    sigma_y = _sample(structure, Site.Y_SIGMA, g)
    level_g = _with_geo_axis(structure, level)
    sigma_g = _with_geo_axis(structure, sigma_y)
    numpyro.sample(Site.Y, dist.Normal(mu + level_g[:, None], sigma_g[:, None]).to_event(2),
                   obs=design.y)

    lift = design.lift
    if lift is not None:
        effect = lift_effects(structure, design.media, lift.delta, params, design.select)
        numpyro.sample(Site.LIFT, dist.Normal(effect, lift.se).to_event(1), obs=lift.lift)
