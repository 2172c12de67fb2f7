"""A fit as ArviZ ``InferenceData`` groups: one layout for :attr:`Fit.inference_data`,
:attr:`Fit.idata` and the fit file (format version 3).

Names follow PyMC-Marketing where the meaning is the same: dimensions ``date``, ``geo``,
``channel``, ``control`` and ``fourier_mode``; ``observed_data.y`` (the target);
``constant_data.channel_data`` and ``constant_data.control_data``, all in original
units and laid out date first (``(date[, geo][, channel])``); parameters keep the
model's site names and dims (``saturation_beta_geo`` is ``(geo, channel)``).

The pointwise log likelihood (``log_likelihood.y``) and draws of the target
(``posterior_predictive.y``) are computed here from the posterior and the data (the
mean of the model in original units, Normal noise), in blocks of draws so that a large
geo model never holds every channel's contributions for every draw at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import jax.numpy as jnp
import numpy as np
import xarray as xr

from bayesmmm.data import MMMData
from bayesmmm.model._design import trend_basis
from bayesmmm.model._mean import media_contributions, trend_component
from bayesmmm.model._structure import ModelStructure, Site
from bayesmmm.transforms import lag_stack

__all__ = ["CHANNEL", "CHANNEL_DATA", "CONTROL", "CONTROL_DATA", "DATE", "GEO", "STAT_NAMES",
           "FitLike", "constant_dataset", "log_likelihood_dataset", "observed_dataset",
           "pointwise_log_likelihood", "posterior_dataset", "posterior_predictive_dataset",
           "posterior_predictive_draws", "prior_dataset", "sample_stats_dataset"]

DATE, GEO, CHANNEL, CONTROL = "date", "geo", "channel", "control"
CHANNEL_DATA, CONTROL_DATA = "channel_data", "control_data"
#: Fit.sample_stats names -> ArviZ's (what az.summary, az.plot_energy and others read).
STAT_NAMES = {"diverging": "diverging", "num_steps": "n_steps", "energy": "energy",
              "accept_prob": "acceptance_rate"}
#: Values of (draws x geos x periods x channels) computed at once for the likelihood.
_BLOCK_VALUES = 2**24


class FitLike(Protocol):
    """What this module reads of a :class:`bayesmmm.Fit`."""

    spec: Any
    data: MMMData
    scalers: Any
    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    meta: dict[str, Any]

    @property
    def structure(self) -> ModelStructure: ...

    @property
    def coords(self) -> dict[str, list[str]]: ...

    @property
    def dims(self) -> dict[str, list[str]]: ...

    def parameter_names(self) -> list[str]: ...


def _draw_coords(fit: FitLike) -> dict[str, np.ndarray]:
    chains, draws = fit.sample_stats["diverging"].shape[:2]
    return {"chain": np.arange(chains), "draw": np.arange(draws)}


def _dataset(variables: Mapping[str, tuple[list[str], np.ndarray]],
             coords: Mapping[str, Any]) -> xr.Dataset:
    used = {d for dims, _ in variables.values() for d in dims}
    return xr.Dataset({k: (dims, v) for k, (dims, v) in variables.items()},
                      coords={k: v for k, v in coords.items() if k in used})


def posterior_dataset(fit: FitLike) -> xr.Dataset:
    """Every posterior site, float32, ``(chain, draw, *dims)``, in summary order."""
    names = fit.parameter_names()
    names += [k for k in fit.posterior if k not in names]
    dims = fit.dims
    variables = {n: (["chain", "draw", *dims.get(n, [])],
                     np.asarray(fit.posterior[n], dtype=np.float32)) for n in names}
    return _dataset(variables, {**_draw_coords(fit), **fit.coords})


def prior_dataset(fit: FitLike) -> xr.Dataset:
    """Prior draws of the posterior's sites (those present), float32, ``(chain, draw,
    *dims)``; empty when the fit has none."""
    prior: Mapping[str, np.ndarray] = getattr(fit, "prior", None) or {}
    dims = fit.dims
    variables = {n: (["chain", "draw", *dims.get(n, [])], np.asarray(v, dtype=np.float32))
                 for n, v in prior.items()}
    first = next(iter(prior.values()), np.zeros((0, 0)))
    coords = {"chain": np.arange(first.shape[0]), "draw": np.arange(first.shape[1])}
    return _dataset(variables, {**coords, **fit.coords})


def sample_stats_dataset(fit: FitLike, *, tree_depth: bool = True) -> xr.Dataset:
    """Sampler statistics under ArviZ's names; ``tree_depth`` (derived from ``n_steps``)
    for the in-memory object only, the file keeps ``n_steps``."""
    stats = {STAT_NAMES.get(k, k): v for k, v in fit.sample_stats.items()}
    if tree_depth and "n_steps" in stats:
        stats["tree_depth"] = np.ceil(np.log2(stats["n_steps"] + 1)).astype(np.int32)
    return _dataset({k: (["chain", "draw"], np.asarray(v)) for k, v in stats.items()},
                    _draw_coords(fit))


def _date_first(a: np.ndarray, panel: bool) -> np.ndarray:
    """``(G, T, ...)`` -> ``(T, G, ...)`` for panels, ``(T, ...)`` for national data."""
    return np.moveaxis(a, 0, 1) if panel else a[0]


def _data_coords(data: MMMData) -> dict[str, Any]:
    coords: dict[str, Any] = {DATE: data.dates.to_numpy(), CHANNEL: list(data.channel_names),
                              CONTROL: list(data.control_names)}
    if data.is_panel:
        coords[GEO] = list(data.panels)
    return coords


def _target_dims(data: MMMData) -> list[str]:
    return [DATE, GEO] if data.is_panel else [DATE]


def observed_dataset(fit: FitLike) -> xr.Dataset:
    """The target ``y`` in original units, ``(date[, geo])``."""
    d = fit.data
    return _dataset({Site.Y: (_target_dims(d), _date_first(d.y_gt, d.is_panel))},
                    _data_coords(d))


def constant_dataset(fit: FitLike) -> xr.Dataset:
    """Media (spend or units) ``(date[, geo], channel)`` and controls ``(date[, geo],
    control)`` in original units, calendar columns included."""
    d = fit.data
    base = _target_dims(d)
    return _dataset({CHANNEL_DATA: ([*base, CHANNEL], _date_first(d.media_gt, d.is_panel)),
                     CONTROL_DATA: ([*base, CONTROL], _date_first(d.controls_gt, d.is_panel))},
                    _data_coords(d))


# -- the likelihood ----------------------------------------------------------------------
def _flat(posterior: Mapping[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    return {k: v.reshape((-1,) + v.shape[2:])[start:stop] for k, v in posterior.items()}


def _mean_scaled(fit: FitLike, params: dict[str, np.ndarray], media: Any) -> np.ndarray:
    """The model's mean in scaled target units, ``(n, G, T)``, for ``n`` draws."""
    structure, data = fit.structure, fit.data
    p = structure.with_geo(params)
    names = {*structure.media.param_names, *(Site.geo(n) for n in structure.media.param_names)}
    mu = np.asarray(media_contributions(
        structure, media, {k: jnp.asarray(v) for k, v in params.items() if k in names}),
        dtype=np.float64).sum(-1)
    n = len(mu)
    mu = mu + np.asarray(p[Site.INTERCEPT], dtype=np.float64)[:, :, None]
    if structure.trend != "none":
        basis = trend_basis(structure.trend, np.arange(data.n_times), data.n_times,
                            fit.spec.trend_changepoints)
        trend = trend_component(structure, jnp.asarray(basis, jnp.float32),
                                {k: jnp.asarray(p[k]) for k in structure.trend_form.sites})
        mu = mu + np.broadcast_to(np.asarray(trend), mu.shape)
    if data.control_names:
        gamma = p.get(Site.geo(Site.GAMMA_CONTROL))
        gamma = p[Site.GAMMA_CONTROL][:, None, :] if gamma is None else gamma  # (n, G, K)
        mu = mu + np.einsum("ngk,gtk->ngt", gamma, data.controls_gt)
    if structure.n_fourier:
        f = structure.fourier(data.dates)
        mu = mu + np.einsum("ngf,tf->ngt", p[Site.GAMMA_FOURIER], f)
    assert mu.shape == (n, data.n_geos, data.n_times)
    return mu


def _blocks(fit: FitLike) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """``(start, stop, mu, sigma)`` per block of draws (chains merged): the mean
    ``(n, G, T)`` and the noise sd ``(n, G)`` in original units."""
    data, scalers = fit.data, fit.scalers
    total = int(np.prod(fit.sample_stats["diverging"].shape[:2]))
    per_draw = data.n_geos * data.n_times * max(data.n_channels, 1)
    size = max(1, min(total, _BLOCK_VALUES // per_draw))
    scaled = jnp.asarray(data.media_gt / scalers.channel_scale_g[:, None, :], dtype=jnp.float32)
    media = lag_stack(scaled, fit.spec.adstock_max_lag)
    y_scale = scalers.y_scale_g  # (G,)
    for start in range(0, total, size):
        stop = min(total, start + size)
        params = _flat(fit.posterior, start, stop)
        mu = _mean_scaled(fit, params, media) * y_scale[None, :, None]
        sigma = np.asarray(params[Site.Y_SIGMA], dtype=np.float64).reshape(stop - start, -1)
        yield start, stop, mu, sigma * y_scale


def _to_draws(fit: FitLike, flat: np.ndarray) -> np.ndarray:
    """``(S, G, T)`` -> ``(chain, draw, T[, G])`` (date first, as the data)."""
    chains, draws = fit.sample_stats["diverging"].shape[:2]
    out = np.moveaxis(flat, 1, 2).reshape(chains, draws, fit.data.n_times, fit.data.n_geos)
    return out if fit.data.is_panel else out[..., 0]


def pointwise_log_likelihood(fit: FitLike) -> np.ndarray:
    """Log density of each observation under each draw, original units, float32:
    ``(chain, draw, date[, geo])`` (Normal(y | mu, y_sigma), the model's likelihood)."""
    y = fit.data.y_gt.astype(np.float64)
    out = np.empty((int(np.prod(fit.sample_stats["diverging"].shape[:2])), fit.data.n_geos,
                    fit.data.n_times), dtype=np.float32)
    for start, stop, mu, sigma in _blocks(fit):
        z = (y[None] - mu) / sigma[:, :, None]
        out[start:stop] = -0.5 * z * z - np.log(sigma)[:, :, None] - 0.5 * np.log(2 * np.pi)
    return _to_draws(fit, out)


def posterior_predictive_draws(fit: FitLike, seed: int | None = None) -> np.ndarray:
    """Draws of the target (original units) from each posterior draw: ``(chain, draw,
    date[, geo])``; ``seed`` defaults to the fit's sampler seed."""
    if seed is None:
        seed = int(fit.meta.get("options", {}).get("seed", 0))
    rng = np.random.default_rng(seed)
    out = np.empty((int(np.prod(fit.sample_stats["diverging"].shape[:2])), fit.data.n_geos,
                    fit.data.n_times), dtype=np.float32)
    for start, stop, mu, sigma in _blocks(fit):
        out[start:stop] = mu + sigma[:, :, None] * rng.standard_normal(mu.shape)
    return _to_draws(fit, out)


def _draw_dataset(fit: FitLike, values: np.ndarray) -> xr.Dataset:
    dims = ["chain", "draw", *_target_dims(fit.data)]
    return _dataset({Site.Y: (dims, values)}, {**_draw_coords(fit), **_data_coords(fit.data)})


def log_likelihood_dataset(fit: FitLike) -> xr.Dataset:
    """``log_likelihood.y``: see :func:`pointwise_log_likelihood`."""
    return _draw_dataset(fit, pointwise_log_likelihood(fit))


def posterior_predictive_dataset(fit: FitLike, seed: int | None = None) -> xr.Dataset:
    """``posterior_predictive.y``: see :func:`posterior_predictive_draws`."""
    return _draw_dataset(fit, posterior_predictive_draws(fit, seed))
