"""From data to the model's arrays: scaling, seasonal and trend bases, calendar controls,
experiments.

Scaled units: in each panel cell (geo) separately, each channel is divided by its max
over time and the target by its max |y| (PyMC-Marketing's meaning for one geo;
per-geo scaling keeps small geos' curves comparable to large ones'). Controls enter
in original units (internally standardised for sampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax import Array

from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.model._media_kinds import unit_costs
from bayesmmm.model._seasonality import fourier_features, fourier_names
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import ModelStructure
from bayesmmm.model._trends import TRENDS
from bayesmmm.transforms import lag_stack

__all__ = ["Design", "LiftDesign", "Scalers", "calendar_controls", "fourier_features",
           "fourier_names", "make_design", "make_scalers", "spend_of", "trend_basis"]


def trend_basis(kind: str, t: np.ndarray, n_train: int, n_changepoints: int) -> np.ndarray:
    """Design matrix ``(len(t), n_basis)`` of trend ``kind`` at period indices ``t``
    (0 = first fitted period); see :data:`bayesmmm.model._trends.TRENDS`."""
    try:
        form = TRENDS.get(kind)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return form.basis(np.asarray(t), n_train, n_changepoints)


@dataclass(frozen=True)
class Scalers:
    """How the data were scaled for the model.

    ``channel_scale`` ``(n_channels,)`` or ``(n_geos, n_channels)`` and ``y_scale``
    (a float, or ``(n_geos,)``) are per-geo max-abs scalers; ``control_center`` /
    ``control_scale`` ``(n_controls,)`` define the internal standardised basis of the
    controls (coefficients are reported per original unit).
    """

    channel_scale: np.ndarray
    y_scale: Any
    control_center: np.ndarray
    control_scale: np.ndarray

    @property
    def channel_scale_g(self) -> np.ndarray:
        """``(n_geos, n_channels)``."""
        return np.atleast_2d(self.channel_scale)

    @property
    def y_scale_g(self) -> np.ndarray:
        """``(n_geos,)``."""
        return np.atleast_1d(np.asarray(self.y_scale, dtype=float))

    def to_dict(self) -> dict[str, Any]:
        return {"channel_scale": np.asarray(self.channel_scale).tolist(),
                "y_scale": np.asarray(self.y_scale).tolist(),
                "control_center": self.control_center.tolist(),
                "control_scale": self.control_scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scalers:
        y = np.asarray(d["y_scale"], dtype=float)
        return cls(np.asarray(d["channel_scale"], dtype=float),
                   float(y) if y.ndim == 0 else y,
                   np.asarray(d["control_center"], dtype=float),
                   np.asarray(d["control_scale"], dtype=float))


def make_scalers(data: MMMData) -> Scalers:
    """Per-geo max-abs scale of channels and target; mean/sd of controls (all geos)."""
    controls = data.controls_gt.reshape(data.n_geos * data.n_times, len(data.control_names))
    scale = controls.std(axis=0)
    ch = np.abs(data.media_gt).max(axis=1)  # (G, C)
    ch = np.where(ch > 0, ch, 1.0)  # a channel that never ran in a geo contributes 0 there
    y = np.abs(data.y_gt).max(axis=1)
    y = np.where(y > 0, y, 1.0)
    national = not data.is_panel
    return Scalers(
        channel_scale=ch[0] if national else ch,
        y_scale=float(y[0]) if national else y,
        control_center=controls.mean(axis=0),
        control_scale=np.where(scale > 0, scale, 1.0),
    )


def calendar_controls(spec: ModelSpec, dates: pd.DatetimeIndex, frequency: str | None
                      ) -> pd.DataFrame:
    """Holiday and event columns the spec asks for, one row per date."""
    out = pd.DataFrame(index=dates)
    if not spec.holidays and not spec.events:
        return out
    from bayesmmm.data import event_features, holiday_features

    freq = frequency if frequency in ("daily", "weekly", "monthly") else "weekly"
    parts = [out]
    if spec.holidays:
        countries = spec.holidays[0] if len(spec.holidays) == 1 else list(spec.holidays)
        parts.append(holiday_features(dates, countries, frequency=freq))
    if spec.events:
        parts.append(event_features(dates, spec.events, frequency=freq))
    return pd.concat(parts, axis=1).astype(float)


class LiftDesign(NamedTuple):
    """Experiments as arrays: ``n`` tests over ``n_times`` periods.

    ``delta`` ``(n, l_max, n_times)``: the lag stack of the scaled spend change;
    ``lift``/``se`` ``(n,)`` in scaled target units. Each test's geo and channel are
    static: ``ModelStructure.lift``.
    """

    delta: Array
    lift: Array
    se: Array


class Design(NamedTuple):
    """Arrays the NumPyro model takes (scaled / standardised), float32.

    Shapes: ``media`` ``(l_max, n_geos, n_times, n_channels)``: the scaled media as a lag
    stack; ``controls`` ``(n_geos, n_times, n_controls)`` standardised and centred per
    geo; ``control_scale`` ``(n_controls,)``; ``control_mean`` ``(n_geos, n_controls)``
    per-geo means in original units; ``fourier`` ``(n_times, 2 n_modes)``; ``trend``
    ``(n_times, n_basis)``; ``spend`` ``(n_geos, n_channels)`` total spend (original
    units, units x cost for priced channels); ``y_scale`` ``(n_geos,)``; ``y``
    ``(n_geos, n_times)`` or None; ``lift`` or None; ``centring`` or None: per pooled
    parameter (``saturation_beta``, ..., ``gamma_control``) an array ``(n_geos, n)`` of
    centring weights in [0, 1] for its geo values (None: all non-centred; see
    :mod:`bayesmmm.model._centring`); ``select`` or None: a switch structure's chosen
    forms, ``{"adstock": index, "saturation": index}`` (int32 scalars).
    """

    media: Array
    controls: Array
    control_scale: Array
    control_mean: Array
    fourier: Array
    trend: Array
    spend: Array
    y_scale: Array
    y: Array | None
    lift: LiftDesign | None
    centring: dict[str, Array] | None = None
    select: dict[str, Array] | None = None


def spend_of(spec: ModelSpec, data: MMMData) -> np.ndarray:
    """Spend ``(n_geos, n_times, n_channels)``: media, times cost per unit where priced."""
    return data.media_gt * unit_costs(spec)


def _lift_design(spec: ModelSpec, structure: ModelStructure, data: MMMData,
                 scalers: Scalers) -> LiftDesign | None:
    if not spec.lift_tests:
        return None
    l_max = spec.adstock_max_lag
    deltas, lifts, ses = [], [], []
    cost = dict(zip(spec.channel_columns, unit_costs(spec), strict=True))
    for i, (test, site) in enumerate(zip(spec.lift_tests, structure.lift, strict=True)):
        where = f"lift test #{i + 1} ({test.channel!r})"
        g, c = site.geo, site.channel
        inside = (data.dates >= pd.Timestamp(test.start)) & (data.dates <= pd.Timestamp(test.end))
        if not inside.any():
            raise SpecError(f"{where}: no period of the data lies in {test.start} .. "
                            f"{test.end} (data: {data.dates[0]:%Y-%m-%d} .. "
                            f"{data.dates[-1]:%Y-%m-%d})")
        units = test.spend_change / cost[test.channel]
        x = np.where(inside, units / inside.sum(), 0.0) / scalers.channel_scale_g[g, c]
        below = data.media_gt[g, inside, c] / scalers.channel_scale_g[g, c] + x[inside] < -1e-9
        if below.any():
            raise SpecError(f"{where}: removing {-test.spend_change:g} makes spend negative in "
                            "the test periods; spend_change must not exceed the spend there")
        deltas.append(np.asarray(lag_stack(x[:, None], l_max))[:, :, 0])
        y_s = scalers.y_scale_g[g]
        lifts.append(test.lift / y_s)
        ses.append(test.lift_se / y_s)
    f32 = jnp.float32
    return LiftDesign(jnp.asarray(np.stack(deltas), f32), jnp.asarray(lifts, f32),
                      jnp.asarray(ses, f32))


def make_design(spec: ModelSpec, data: MMMData, scalers: Scalers, *, with_target: bool = True,
                t_offset: int = 0, n_train: int | None = None,
                structure: ModelStructure | None = None) -> Design:
    """The model's arrays for ``data`` (whose controls already include calendar columns).

    ``t_offset``/``n_train`` place the periods on the fitted time axis (for forecasts:
    ``t_offset`` = periods between the first fitted period and ``data``'s first);
    ``structure`` is :meth:`ModelStructure.build` of ``spec`` and ``data`` (built if
    not given).
    """
    structure = ModelStructure.build(spec, data) if structure is None else structure
    def f32(a: Any) -> Array:
        return jnp.asarray(a, dtype=jnp.float32)

    n_train = data.n_times if n_train is None else n_train
    ch_scale = scalers.channel_scale_g[:, None, :]
    controls = (data.controls_gt - scalers.control_center) / scalers.control_scale
    t = np.arange(data.n_times) + t_offset
    return Design(
        media=lag_stack(f32(data.media_gt / ch_scale), spec.adstock_max_lag),
        controls=f32(controls - controls.mean(axis=1, keepdims=True)),
        control_scale=f32(scalers.control_scale),
        control_mean=f32(data.controls_gt.mean(axis=1)),
        fourier=f32(structure.fourier(data.dates)),
        trend=f32(trend_basis(spec.trend, t, n_train, spec.trend_changepoints)),
        spend=f32(spend_of(spec, data).sum(axis=1)),
        y_scale=f32(scalers.y_scale_g),
        y=f32(data.y_gt / scalers.y_scale_g[:, None]) if with_target else None,
        lift=_lift_design(spec, structure, data, scalers) if with_target else None,
    )
