"""From a drawn world to what a user gets: the data table, ``truth.json`` and ``spec.json``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayesmmm._runtime import configure
from bayesmmm.synth._config import SimulationConfig
from bayesmmm.synth._generator import World, draw_world
from bayesmmm.synth._simulation import Simulation

__all__ = ["simulate"]


def simulate(config: SimulationConfig, seed: int = 0) -> Simulation:
    """Simulate weekly sales with known ground truth.

    Parameters
    ----------
    config : SimulationConfig
        What to simulate (see also :func:`simulate_preset`).
    seed : int
        The only source of randomness: the same ``(config, seed)`` gives identical output.

    Returns
    -------
    Simulation
        ``data``: national ``date, y, <channels>, <controls>``; a geo panel in long format
        with ``geo`` (``geo_01`` ...) first, sorted by geo then date.

        ``truth``: a JSON-ready dict:

        * ``parameters``: true values named as the fitted summary names them, in the
          model's scaled units (per geo: channel / its max, target / max |y|). National:
          ``intercept``, ``y_sigma``, ``trend_slope`` (if any: the linear trend's change
          over the whole period), ``adstock_<p>[<channel>]``,
          ``saturation_<p>[<channel>]``, ``saturation_beta[<channel>]``,
          ``gamma_control[<control>]``, ``gamma_fourier[sin_order_1]`` ... A panel has the
          geo values ``intercept[<geo>]``, ``y_sigma[<geo>]``, ``trend_slope[<geo>]``,
          ``gamma_fourier[<geo>, sin_order_1]``, ``adstock_<p>_geo[<geo>, <channel>]``,
          ``saturation_<p>_geo[...]``, ``saturation_beta_geo[...]``,
          ``gamma_control_geo[<geo>, <control>]``, and the shared means under the
          national names: the value each geo's channel parameter spreads around, and for
          ``gamma_control`` the mean of the geo values.
        * ``contributions``: component (``intercept``, ``trend``, ``seasonality``, each
          control, each channel) -> per-period values in original units (panel:
          ``{geo: values}``); ``noise`` likewise. Components plus noise equal ``y``.
        * ``total_contribution``, ``total_spend``, ``roi``, ``marginal_roi`` per channel
          (panel: also ``*_geo``, ``{geo: {channel: value}}``). ROI = sum contribution /
          sum spend; marginal ROI = (contribution with the channel's spend x 1.01 -
          contribution) / (0.01 sum spend), through the same transforms and scalers.
        * ``adstock``, ``saturation`` (form per channel), ``l_max``, ``y_scale`` (max |y|,
          per geo for a panel), ``geos`` (panel: size and unit), ``summary`` (shape, media
          share, R² of the true mean), ``settings`` and ``seed``.

        ``spec_kwargs``: the model spec's arguments (``spec.json``).
    """
    configure()  # JAX set-up before its first computation in this process
    world = draw_world(config, seed)
    return Simulation(_frame(world), _truth(world), _spec(world.config))


def _per_geo(world: World, values: np.ndarray) -> Any:
    """``(n_geos, ...)`` -> national value or ``{geo: value}``."""
    if len(world.geos) == 1:
        return values[0].tolist()
    return {g: v.tolist() for g, v in zip(world.geos, values, strict=True)}


def _frame(world: World) -> pd.DataFrame:
    cfg = world.config
    n_geos, n_times = len(world.geos), len(world.dates)
    y = world.y_units * world.unit[:, None]
    data: dict[str, Any] = {}
    if n_geos > 1:
        data["geo"] = np.repeat(world.geos, n_times)
    data["date"] = np.tile(world.dates.strftime("%Y-%m-%d"), n_geos)
    data["y"] = y.reshape(-1)
    for i, c in enumerate(cfg.channels):
        data[c.name] = world.spend[:, :, i].reshape(-1)
    for k, control in enumerate(cfg.controls):
        data[control.name] = world.controls[:, :, k].reshape(-1)
    return pd.DataFrame(data)


def _truth(world: World) -> dict[str, Any]:
    cfg = world.config
    unit = world.unit[:, None]
    y = world.y_units * unit
    y_scale = np.abs(y).max(axis=1)
    money = {k: v * unit for k, v in world.parts.items()}
    truth: dict[str, Any] = {
        "parameters": _parameters(world, y_scale / world.unit),
        "contributions": {k: _per_geo(world, v) for k, v in money.items()},
        "noise": _per_geo(world, world.noise * unit),
    }
    truth.update(_returns(world))
    media = sum(money[c.name].sum() for c in cfg.channels)
    resid = world.noise * unit
    r2 = 1.0 - (resid**2).sum(axis=1) / ((y - y.mean(axis=1, keepdims=True))**2).sum(axis=1)
    summary: dict[str, Any] = {
        "n_rows": int(y.size), "n_weeks": cfg.n_weeks, "n_geos": cfg.n_geos,
        "channels": [c.name for c in cfg.channels], "controls": [c.name for c in cfg.controls],
        "media_share": float(media / y.sum()), "r2_true_mean": float(r2.mean()),
    }
    if cfg.n_geos > 1:
        summary["r2_true_mean_geo"] = dict(zip(world.geos, r2.tolist(), strict=True))
    truth.update({
        "adstock": {c.name: c.adstock for c in cfg.channels},
        "saturation": {c.name: c.saturation for c in cfg.channels},
        "l_max": cfg.l_max,
        "y_scale": _per_geo(world, y_scale),
        "summary": summary,
        "settings": _settings(cfg),
        "seed": world.seed,
    })
    if cfg.n_geos > 1:
        truth["geos"] = {g: {"size": float(s), "unit": float(u)}
                         for g, s, u in zip(world.geos, world.size, world.unit, strict=True)}
    return truth


def _parameters(world: World, s: np.ndarray) -> dict[str, float]:
    """True parameters in the model's units; ``s`` is the target scale per geo (units)."""
    from bayesmmm.model import fourier_names

    cfg = world.config
    national = cfg.n_geos == 1
    out: dict[str, float] = {}

    def put(name: str, values: np.ndarray, label: str = "", shared: float | None = None) -> None:
        """National: ``name[label]``; panel: ``name_geo[geo, label]`` (or ``name[geo]``)
        and the shared value under ``name[label]``."""
        label_ = f"[{label}]" if label else ""
        if national:
            out[f"{name}{label_}"] = float(values[0])
            return
        if shared is not None:
            out[f"{name}{label_}"] = float(shared)
        for g, v in zip(world.geos, values, strict=True):
            key = f"{name}_geo[{g}, {label}]" if label else f"{name}[{g}]"
            out[key] = float(v)

    put("intercept", world.intercept / s)
    put("y_sigma", world.noise_sd / s)
    if cfg.trend:  # the model's linear trend: slope over the time scaled to 0..1
        put("trend_slope", cfg.trend / s)
    for c, p in zip(cfg.channels, world.channels, strict=True):
        for name, v in p.adstock.items():
            put(f"adstock_{name}", v, c.name, p.adstock_shared[name])
        for name, v in p.saturation.items():
            put(f"saturation_{name}", v, c.name, p.saturation_shared[name])
        put("saturation_beta", p.beta, c.name, p.beta_shared)
    for k, control in enumerate(cfg.controls):
        geo = world.gamma_control[:, k] / s
        put("gamma_control", geo, control.name, geo.mean())
    for j, f in enumerate(fourier_names(cfg.n_modes)):
        values = world.gamma_fourier[:, j] / s
        if national:
            out[f"gamma_fourier[{f}]"] = float(values[0])
        else:
            out.update({f"gamma_fourier[{g}, {f}]": float(v)
                        for g, v in zip(world.geos, values, strict=True)})
    return out


def _returns(world: World) -> dict[str, Any]:
    """Totals, ROI and marginal ROI per channel (and per geo for a panel)."""
    names = [c.name for c in world.config.channels]
    money = (world.unit * world.scale)[:, None]  # sales per model unit, per geo
    base = money * world.media_scaled.sum(axis=1)  # (n_geos, n_channels)
    # The difference per period first: the two float32 curves differ by about 1%.
    up = money * (world.media_up - world.media_scaled).sum(axis=1)
    spend = world.spend.sum(axis=1)
    out: dict[str, Any] = {
        "total_contribution": _named(names, base.sum(axis=0)),
        "total_spend": _named(names, spend.sum(axis=0)),
        "roi": _named(names, base.sum(axis=0) / spend.sum(axis=0)),
        "marginal_roi": _named(names, up.sum(axis=0) / (0.01 * spend.sum(axis=0))),
    }
    if len(world.geos) > 1:
        for key, values in (("total_contribution", base), ("total_spend", spend),
                            ("roi", base / spend), ("marginal_roi", up / (0.01 * spend))):
            out[f"{key}_geo"] = {g: _named(names, v) for g, v in zip(world.geos, values,
                                                                     strict=True)}
    return out


def _named(names: list[str], values: np.ndarray) -> dict[str, float]:
    return {n: float(v) for n, v in zip(names, values, strict=True)}


def _settings(cfg: SimulationConfig) -> dict[str, Any]:
    return {
        "name": cfg.name, "n_weeks": cfg.n_weeks, "n_geos": cfg.n_geos, "start": cfg.start,
        "l_max": cfg.l_max, "normalize": cfg.normalize, "baseline": cfg.baseline,
        "trend": cfg.trend, "seasonality": list(cfg.seasonality), "target_r2": cfg.target_r2,
        "geo_sd": cfg.geo_sd, "geo_size_sd": cfg.geo_size_sd, "unit": cfg.unit,
        "patterns": {c.name: c.pattern for c in cfg.channels},
        "target_share": {c.name: c.share for c in cfg.channels},
        "target_roi": {c.name: c.roi for c in cfg.channels},
        "trend_basis": "trend * t / (n_weeks - 1), t = 0 .. n_weeks - 1 (linear)",
        "scaling": "per geo: each channel / its max over time, y / max |y| over time",
    }


def _spec(cfg: SimulationConfig) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "date_column": "date", "y_column": "y",
        "channel_columns": [c.name for c in cfg.channels],
        "control_columns": [c.name for c in cfg.controls],
        "adstock_max_lag": cfg.l_max, "yearly_seasonality": cfg.n_modes,
        "adstock": {c.name: c.adstock for c in cfg.channels},
        "saturation": {c.name: c.saturation for c in cfg.channels},
    }
    if not cfg.normalize:
        spec["adstock_normalize"] = False
    if cfg.trend:
        spec["trend"] = "linear"
    if cfg.n_geos > 1:
        spec["panel_columns"] = ["geo"]
    return spec
