"""The mean function's parts, shared by the NumPyro model and the analysis.

Every function takes ``params``: parameter arrays named as in the posterior, with any
leading batch dims (draws). Channel parameters are ``name`` ``(..., n_p)`` (population,
over the channels having that parameter) and, in geo models, ``name_geo``
``(..., n_geos, n_p)``; when ``name_geo`` is absent the population value holds in every
geo. Outputs carry a geo axis (size 1 for national models) before the time axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax.numpy as jnp
import numpy as np
from jax import Array

from bayesmmm.model._spec import ModelSpec
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["geo_param", "media_contributions", "lift_effects", "trend_component"]


def geo_param(params: Mapping[str, Array], name: str) -> Array:
    """``(..., n_geos or 1, n)`` values of a channel (or control) parameter."""
    if f"{name}_geo" in params:
        return jnp.asarray(params[f"{name}_geo"])
    return jnp.asarray(params[name])[..., None, :]


def _groups(spec: ModelSpec, kind: str) -> list[tuple[str, np.ndarray]]:
    """``[(form, channel indices)]`` in first-use order."""
    forms = spec.adstock_forms if kind == "adstock" else spec.saturation_forms
    out: dict[str, list[int]] = {}
    for i, c in enumerate(spec.channel_columns):
        out.setdefault(forms[c], []).append(i)
    return [(f, np.asarray(idx)) for f, idx in out.items()]


def _form_params(spec: ModelSpec, params: Mapping[str, Array], kind: str, form_params:
                 tuple[str, ...], idx: np.ndarray) -> dict[str, Array]:
    """Geo-level values of a form's parameters for the channels ``idx`` ``(..., G, n_f)``."""
    out = {}
    for p in form_params:
        name = f"{kind}_{p}"
        have = [spec.channel_columns.index(c) for c in spec.channels_with(name)]
        pos = np.asarray([have.index(i) for i in idx])
        value = geo_param(params, name)
        out[p] = value if len(pos) == len(have) and (pos == np.arange(len(have))).all() \
            else value[..., pos]
    return out


def _reorder(parts: list[Array], groups: list[tuple[str, np.ndarray]], axis: int = -1) -> Array:
    if len(parts) == 1:
        return parts[0]
    order = np.concatenate([idx for _, idx in groups])
    return jnp.take(jnp.concatenate(parts, axis=axis), np.argsort(order), axis=axis)


def adstock_weights(spec: ModelSpec, params: Mapping[str, Array], batch: tuple[int, ...],
                    n_geos: int) -> Array:
    """Carry-over weights ``(..., G, n_channels, l_max)``."""
    groups = _groups(spec, "adstock")
    parts = []
    for form_name, idx in groups:
        form = ADSTOCKS.get(form_name)
        fp = _form_params(spec, params, "adstock", form.params, idx)
        w = form.weights(spec.adstock_max_lag, spec.adstock_normalize, **fp)
        parts.append(jnp.broadcast_to(w, (*batch, n_geos, len(idx), spec.adstock_max_lag)))
    return _reorder(parts, groups, axis=-2)


def _saturate(spec: ModelSpec, params: Mapping[str, Array], x: Array,
              beta: Array | None) -> Array:
    """Per-channel contribution curves of ``x`` ``(..., [l,] G, T, C)``, params broadcast
    as ``(..., G, 1, C)`` (an extra lag axis is handled by the caller)."""
    groups = _groups(spec, "saturation")
    b = geo_param(params, "saturation_beta") if beta is None else beta
    parts = []
    for form_name, idx in groups:
        form = SATURATIONS.get(form_name)
        fp = {k: v[..., None, :] for k, v in
              _form_params(spec, params, "saturation", form.params, idx).items()}
        xs = x if len(groups) == 1 else x[..., idx]
        bs = (b if len(groups) == 1 else b[..., idx])[..., None, :]
        parts.append(form.contribution(xs, bs, **fp))
    return _reorder(parts, groups)


def media_contributions(spec: ModelSpec, media: Array, params: Mapping[str, Array],
                        beta: Array | None = None) -> Array:
    """Channel contributions in scaled target units, ``(..., n_geos, n_times, n_channels)``.

    ``media`` is the lag stack of the scaled media ``(l_max, n_geos, n_times,
    n_channels)``. ``beta`` (``(..., G or 1, n_channels)``) replaces ``saturation_beta``
    (e.g. ones, to get the bare curves).
    """
    n_geos = media.shape[1]
    batch = jnp.shape(params["saturation_beta"])[:-1] if beta is None else beta.shape[:-2]
    w = adstock_weights(spec, params, batch, n_geos)  # (..., G, C, l)
    if not spec.saturation_first:
        adstocked = jnp.einsum("lgtc,...gcl->...gtc", media, w)
        return _saturate(spec, params, adstocked, beta)
    # saturation per period, then carry-over: parameters get a lag axis before the geo
    # axis (population values (..., n) -> (..., 1, n); geo values (..., G, n) ->
    # (..., 1, G, n)), so the curves are (..., l, G, T, C)
    lagged = {k: (jnp.asarray(v)[..., None, :, :] if k.endswith("_geo")
                  else jnp.asarray(v)[..., None, :]) for k, v in params.items()}
    b = None if beta is None else beta[..., None, :, :]
    curves = _saturate(spec, lagged, media, b)
    return jnp.einsum("...lgtc,...gcl->...gtc", curves, w)


def trend_component(spec: ModelSpec, basis: Array, params: Mapping[str, Array],
                    panel: bool) -> Array:
    """Trend in scaled target units, ``(..., G or 1, n_times)`` (zeros if none).

    National models have scalar trend parameters, geo models one per geo.
    """
    out = _trend(spec.trend, basis, params)
    return out if panel else out[..., None, :]


def _trend(kind: str, basis: Array, params: Mapping[str, Array]) -> Array:
    if kind == "none":
        return jnp.zeros(basis.shape[0])
    if kind == "linear":
        return params["trend_slope"][..., None] * basis[:, 0]
    if kind == "piecewise":
        coef = jnp.concatenate([params["trend_slope"][..., None], params["trend_delta"]], -1)
        return coef @ basis.T
    if kind == "power":
        t = basis[:, 0]
        e = params["trend_exponent"][..., None]
        return params["trend_coef"][..., None] * jnp.where(t > 0, t, 1.0) ** e * (t > 0)
    # smooth: a random walk on knots, interpolated
    return params["trend_knots"] @ basis.T


def lift_effects(spec: ModelSpec, media: Array, lift_delta: Array, geo: Sequence[int],
                 channel: Sequence[int], params: Mapping[str, Array]) -> Array:
    """Model lift of each experiment in scaled target units, ``(..., n_tests)``.

    The difference of the tested channel's total contribution with and without the
    spend change ``lift_delta`` ``(n_tests, l_max, n_times)`` in its geo.
    """
    out = []
    for i in range(len(geo)):
        g, c = int(geo[i]), int(channel[i])
        one: dict[str, Array] = {}
        sub = spec.__class__.from_dict({**spec.to_dict(), "channel_columns":
                                        [spec.channel_columns[c]], "control_columns": [],
                                        "lift_tests": [], "priors": {},
                                        "cost_per_unit": {}, "panel_columns": [],
                                        "geo_shared": [], "media_prior": "default",
                                        "adstock": spec.adstock_forms[spec.channel_columns[c]],
                                        "saturation":
                                            spec.saturation_forms[spec.channel_columns[c]]})
        for name in spec.channel_parameters():
            if spec.channel_columns[c] not in spec.channels_with(name):
                continue
            k = spec.channels_with(name).index(spec.channel_columns[c])
            one[name] = geo_param(params, name)[..., g, k:k + 1]
        base = media[:, g:g + 1, :, c:c + 1]
        moved = base + lift_delta[i][:, None, :, None]
        diff = (media_contributions(sub, moved, one) - media_contributions(sub, base, one))
        out.append(diff.sum(axis=(-3, -2, -1)))
    return jnp.stack(out, axis=-1)
