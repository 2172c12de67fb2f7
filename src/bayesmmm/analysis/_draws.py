"""Posterior draws of every additive component of the mean, in original units."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from bayesmmm.data import MMMData
from bayesmmm.model import AveragedFit, Fit, Site, media_contributions, trend_basis, trend_component
from bayesmmm.transforms import lag_stack

__all__ = ["baseline_draws", "channel_draws", "component_draws", "flat_params", "hdi",
           "mean_draws", "media_param_draws", "noise_draws", "over_parts"]

_CACHE_KEY = "_bayesmmm_component_draws"


def hdi(draws: NDArray[np.floating], prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval over the first axis (draws): ``(lower, upper)``.

    ``draws`` has shape ``(n_samples, ...)``; the bounds have the remaining shape.
    """
    import arviz as az

    draws = np.asarray(draws)
    if draws.ndim == 1:
        low, high = az.hdi(draws, hdi_prob=prob)
        return np.asarray(low), np.asarray(high)
    h = az.hdi(draws[None], hdi_prob=prob)  # ArviZ reads (chain, draw, ...)
    return h[..., 0], h[..., 1]


P = ParamSpec("P")
R = TypeVar("R")


def _concat(outs: list[Any]) -> Any:
    if isinstance(outs[0], dict):
        return {k: np.concatenate([o[k] for o in outs], axis=0) for k in outs[0]}
    return np.concatenate(outs, axis=0)


def over_parts(fn: Callable[Concatenate[Fit, P], R]
               ) -> Callable[Concatenate[Fit | AveragedFit, P], R]:
    """Make a function of a fit's draws (draws first) work on an averaged fit: computed
    on each member's share of the mixture's draws and concatenated."""
    @functools.wraps(fn)
    def wrapper(fit: Fit | AveragedFit, *args: P.args, **kwargs: P.kwargs) -> R:
        if not isinstance(fit, AveragedFit):
            return fn(fit, *args, **kwargs)
        if kwargs.get("params") is not None:
            raise ValueError(f"{fn.__name__}: parameter draws are per member of an averaged "
                             "fit; pass the fit alone")
        return _concat([fn(part, *args, **kwargs) for part in fit.parts])  # type: ignore[no-any-return]

    return wrapper


def flat_params(fit: Fit) -> dict[str, np.ndarray]:
    """Posterior draws with chains and draws merged: ``(n_samples, ...)``."""
    return {k: v.reshape((-1,) + v.shape[2:]) for k, v in fit.posterior.items()}


def media_param_draws(fit: Fit, params: Mapping[str, np.ndarray] | None = None
                      ) -> dict[str, np.ndarray]:
    """Draws of the channel parameters (population and geo values), ``(n_samples, ...)``,
    from ``params`` or the posterior."""
    params = flat_params(fit) if params is None else params
    media = fit.structure.media
    names = {*media.param_names, *(Site.geo(n) for n in media.param_names)}
    return {k: v for k, v in params.items() if k in names}


@over_parts
def noise_draws(fit: Fit, params: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The noise sd per draw and geo, original units, ``(n_samples, n_geos)``."""
    sigma = np.asarray(fit.posterior[Site.Y_SIGMA] if params is None else params[Site.Y_SIGMA])
    return sigma.reshape(-1, fit.data.n_geos) * fit.scalers.y_scale_g


def _national(fit: Fit, draws: np.ndarray, keep_geo: bool) -> np.ndarray:
    """Drop the geo axis (after the draws) of a national fit's draws unless ``keep_geo``."""
    return draws if keep_geo or fit.data.is_panel else draws[:, 0]


@over_parts
def channel_draws(fit: Fit, media: np.ndarray | None = None, *,
                  params: Mapping[str, np.ndarray] | None = None,
                  keep_geo: bool = False) -> np.ndarray:
    """Channel contributions, original units: ``(n_samples, n_geos, n_times,
    n_channels)``; national fits drop the geo axis unless ``keep_geo``.

    ``media`` (original units, laid out as ``fit.data.media``, or with the geo axis)
    defaults to the fitted data; ``params`` to the posterior draws.
    """
    n_channels = len(fit.spec.channel_columns)
    media_gt = fit.data.media_gt if media is None else \
        np.asarray(media).reshape(fit.data.n_geos, -1, n_channels)
    p = {k: jnp.asarray(v) for k, v in media_param_draws(fit, params).items()}
    scaled = jnp.asarray(media_gt / fit.scalers.channel_scale_g[:, None, :], dtype=jnp.float32)
    lagged = lag_stack(scaled, fit.spec.adstock_max_lag)
    out = np.asarray(media_contributions(fit.structure, lagged, p))
    return _national(fit, out * fit.scalers.y_scale_g[:, None, None], keep_geo)


def baseline_draws(fit: Fit, data: MMMData, params: Mapping[str, np.ndarray],
                   t_offset: int = 0) -> dict[str, np.ndarray]:
    """Intercept, trend, controls and seasonality per draw, ``(n_samples, G, T)`` each,
    original units, for the periods of ``data`` (``t_offset`` periods after the first
    fitted one)."""
    structure = fit.structure
    p = structure.with_geo(params)
    y_scale = fit.scalers.y_scale_g[None, :, None]
    n_t = data.n_times
    intercept = np.asarray(p[Site.INTERCEPT])  # (S, G)
    out = {Site.INTERCEPT: np.repeat(intercept[:, :, None], n_t, axis=2) * y_scale}
    if structure.trend != "none":
        basis = trend_basis(structure.trend, np.arange(n_t) + t_offset, fit.data.n_times,
                            fit.spec.trend_changepoints)
        sites = structure.trend_form.sites
        trend = np.asarray(trend_component(structure, jnp.asarray(basis, jnp.float32),
                                           {k: jnp.asarray(p[k]) for k in sites}))
        out["trend"] = np.broadcast_to(trend, (len(intercept), data.n_geos, n_t)) * y_scale
    if data.control_names:
        gamma = p.get(Site.geo(Site.GAMMA_CONTROL))
        gamma = p[Site.GAMMA_CONTROL][:, None, :] if gamma is None else gamma  # (S, G, K)
        for k, name in enumerate(data.control_names):
            out[name] = gamma[:, :, k, None] * data.controls_gt[None, :, :, k] * y_scale
    if structure.n_fourier:
        f = structure.fourier(data.dates)
        out["seasonality"] = np.einsum("sgf,tf->sgt", p[Site.GAMMA_FOURIER], f) * y_scale
    return out


@over_parts
def component_draws(fit: Fit, *, keep_geo: bool = False) -> dict[str, np.ndarray]:
    """Every component of the expected target, each ``(n_samples, n_geos, n_times)``
    (national fits: ``(n_samples, n_times)`` unless ``keep_geo``).

    Keys: ``intercept``, ``trend`` (if any), each control (calendar columns included),
    ``seasonality`` (if any), each channel. Their sum is the mean function ``mu`` in
    original units. Cached on the fit.
    """
    out = fit.__dict__.get(_CACHE_KEY)
    if out is None:
        params = flat_params(fit)
        out = baseline_draws(fit, fit.data, params)
        media = channel_draws(fit, params=params, keep_geo=True)
        for c, name in enumerate(fit.spec.channel_columns):
            out[name] = media[..., c]
        fit.__dict__[_CACHE_KEY] = out
    return out if keep_geo or fit.data.is_panel else {k: v[:, 0] for k, v in out.items()}


@over_parts
def mean_draws(fit: Fit, *, keep_geo: bool = False) -> np.ndarray:
    """The expected target ``mu`` per draw, original units: ``(n_samples, n_geos,
    n_times)`` (national fits: ``(n_samples, n_times)`` unless ``keep_geo``)."""
    out = np.sum(list(component_draws(fit, keep_geo=True).values()), axis=0)
    return _national(fit, out, keep_geo)


# Former names of the geo-axis forms, kept for callers outside this package.
def component_draws_gt(fit: Fit) -> dict[str, np.ndarray]:
    return component_draws(fit, keep_geo=True)


def mean_draws_gt(fit: Fit) -> np.ndarray:
    return mean_draws(fit, keep_geo=True)


def media_draws_gt(fit: Fit, media_gt: np.ndarray | None = None,
                   params: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    return channel_draws(fit, media_gt, params=params, keep_geo=True)
