"""The mean function's parts, shared by the NumPyro model and the analysis.

Every function takes ``params``: parameter arrays named as in the posterior, with any
leading batch dims (draws). Channel parameters are ``name`` ``(..., n_p)`` (population,
over the channels having that parameter) and, in geo models, ``name_geo``
``(..., n_geos, n_p)``; when ``name_geo`` is absent the population value holds in every
geo. Outputs carry a geo axis (size 1 for national models) before the time axis.
Channel groups, parameter positions and options come from a
:class:`~bayesmmm.model._structure.MediaStructure` (a spec is accepted and read into one).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import (
    FormGroup,
    MediaStructure,
    ModelStructure,
    Site,
    media_structure,
)
from bayesmmm.model._trends import TRENDS
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["adstock_weights", "geo_param", "lift_effects", "media_contributions",
           "trend_component"]

Structure = ModelSpec | ModelStructure | MediaStructure


def geo_param(params: Mapping[str, Array], name: str) -> Array:
    """``(..., n_geos or 1, n)`` values of a channel (or control) parameter."""
    if Site.geo(name) in params:
        return jnp.asarray(params[Site.geo(name)])
    return jnp.asarray(params[name])[..., None, :]


def _form_params(params: Mapping[str, Array], group: FormGroup) -> dict[str, Array]:
    """Geo-level values of a form's parameters for the group's channels ``(..., G, n_f)``."""
    out = {}
    for p, site, pos in group.params:
        value = geo_param(params, site)
        out[p] = value if pos is None else value[..., np.asarray(pos)]
    return out


def _reorder(parts: list[Array], groups: tuple[FormGroup, ...], axis: int = -1) -> Array:
    if len(parts) == 1:
        return parts[0]
    order = np.concatenate([np.asarray(g.channels) for g in groups])
    return jnp.take(jnp.concatenate(parts, axis=axis), np.argsort(order), axis=axis)


Select = Mapping[str, Array] | None


def adstock_weights(structure: Structure, params: Mapping[str, Array],
                    batch: tuple[int, ...], n_geos: int, select: Select = None) -> Array:
    """Carry-over weights ``(..., G, n_channels, l_max)``. A switch structure's are the
    selected candidate's (``select["adstock"]``: its index, data to the program)."""
    media = media_structure(structure)
    if media.switch:
        shape = (*batch, n_geos, len(media.channels), media.l_max)

        def branch(group: FormGroup, p: Mapping[str, Array]) -> Array:
            w = ADSTOCKS.get(group.form).weights(media.l_max, media.normalize,
                                                  **_form_params(p, group))
            return jnp.broadcast_to(w, shape)

        return jax.lax.switch(_index(select, "adstock"),
                              [partial(branch, g) for g in media.adstock], params)
    parts = []
    for group in media.adstock:
        form = ADSTOCKS.get(group.form)
        w = form.weights(media.l_max, media.normalize, **_form_params(params, group))
        parts.append(jnp.broadcast_to(w, (*batch, n_geos, len(group.channels), media.l_max)))
    return _reorder(parts, media.adstock, axis=-2)


def _index(select: Select, kind: str) -> Array:
    if select is None:
        raise ValueError("a switch structure needs the design's select (the index of the "
                         "chosen candidate of each kind)")
    return jnp.asarray(select[kind], dtype=jnp.int32)


def _saturate(media: MediaStructure, params: Mapping[str, Array], x: Array,
              beta: Array | None, select: Select = None) -> Array:
    """Per-channel contribution curves of ``x`` ``(..., [l,] G, T, C)``, params broadcast
    as ``(..., G, 1, C)`` (an extra lag axis is handled by the caller)."""
    groups = media.saturation
    b = geo_param(params, Site.BETA) if beta is None else beta
    if media.switch:
        def branch(group: FormGroup, p: Mapping[str, Array]) -> Array:
            fp = {n: v[..., None, :] for n, v in _form_params(p, group).items()}
            out = SATURATIONS.get(group.form).contribution(x, b[..., None, :], **fp)
            return jnp.broadcast_to(out, jnp.broadcast_shapes(out.shape, x.shape))

        return jax.lax.switch(_index(select, "saturation"),
                              [partial(branch, g) for g in groups], params)
    parts = []
    for group in groups:
        form = SATURATIONS.get(group.form)
        fp = {k: v[..., None, :] for k, v in _form_params(params, group).items()}
        idx = np.asarray(group.channels)
        xs = x if len(groups) == 1 else x[..., idx]
        bs = (b if len(groups) == 1 else b[..., idx])[..., None, :]
        parts.append(form.contribution(xs, bs, **fp))
    return _reorder(parts, groups)


def media_contributions(structure: Structure, media: Array, params: Mapping[str, Array],
                        beta: Array | None = None, select: Select = None) -> Array:
    """Channel contributions in scaled target units, ``(..., n_geos, n_times, n_channels)``.

    ``media`` is the lag stack of the scaled media ``(l_max, n_geos, n_times,
    n_channels)``. ``beta`` (``(..., G or 1, n_channels)``) replaces ``saturation_beta``
    (e.g. ones, to get the bare curves). ``select`` picks each channel's candidate forms
    in a switch structure (:meth:`MediaStructure.build_switch`).
    """
    ms = media_structure(structure)
    n_geos = media.shape[1]
    batch = jnp.shape(params[Site.BETA])[:-1] if beta is None else beta.shape[:-2]
    w = adstock_weights(ms, params, batch, n_geos, select)  # (..., G, C, l)
    if not ms.saturation_first:
        adstocked = jnp.einsum("lgtc,...gcl->...gtc", media, w)
        return _saturate(ms, params, adstocked, beta, select)
    # saturation per period, then carry-over: parameters get a lag axis before the geo
    # axis (population values (..., n) -> (..., 1, n); geo values (..., G, n) ->
    # (..., 1, G, n)), so the curves are (..., l, G, T, C)
    geo_sites = {Site.geo(n) for n in ms.param_names}
    lagged = {k: (jnp.asarray(v)[..., None, :, :] if k in geo_sites
                  else jnp.asarray(v)[..., None, :]) for k, v in params.items()}
    b = None if beta is None else beta[..., None, :, :]
    curves = _saturate(ms, lagged, media, b, select)
    return jnp.einsum("...lgtc,...gcl->...gtc", curves, w)


def trend_component(structure: ModelStructure, basis: Array, params: Mapping[str, Array]
                    ) -> Array:
    """Trend in scaled target units, ``(..., n_geos, n_times)``, from trend parameters
    with the geo axis (:meth:`ModelStructure.with_geo`); zeros ``(n_times,)`` if none."""
    return TRENDS.get(structure.trend).evaluate(basis, params)


def lift_effects(structure: ModelStructure, media: Array, lift_delta: Array,
                 params: Mapping[str, Array], select: Select = None) -> Array:
    """Model lift of each experiment in scaled target units, ``(..., n_tests)``.

    The difference of the tested channel's total contribution with and without the
    spend change ``lift_delta`` ``(n_tests, l_max, n_times)`` in its geo.
    """
    out = []
    for i, site in enumerate(structure.lift):
        g, c = site.geo, site.channel
        one = {name: geo_param(params, name)[..., g, k:k + 1] for name, k in site.positions}
        base = media[:, g:g + 1, :, c:c + 1]
        moved = base + lift_delta[i][:, None, :, None]
        diff = (media_contributions(site.media, moved, one, select=select)
                - media_contributions(site.media, base, one, select=select))
        out.append(diff.sum(axis=(-3, -2, -1)))
    return jnp.stack(out, axis=-1)
