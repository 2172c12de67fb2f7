"""Response curves: incremental sales of each channel as its historical spend is scaled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from bayesmmm.analysis import media_param_draws
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit, media_contributions
from bayesmmm.model._design import spend_of
from bayesmmm.optimize._planner import DEFAULT_DRAWS, check_count
from bayesmmm.optimize._report import describe, ratio
from bayesmmm.transforms import lag_stack

__all__ = ["ResponseCurves", "response_curves", "saturation_point"]

#: Elements of one (draws x geos x periods x channels) block evaluated at once.
_BLOCK = 4_000_000


@dataclass(frozen=True)
class ResponseCurves:
    """Curves of every channel (and geo) and their landmarks.

    Attributes
    ----------
    table : DataFrame
        Long format, one row per (panel,) channel and multiplier: ``multiplier`` of the
        historical spend, ``spend``, incremental ``sales`` mean and HDI, ``roi`` (sales /
        spend), ``marginal_roi`` (d sales / d spend) mean and HDI, ``current`` (True at
        the historical spend, multiplier 1).
    points : DataFrame
        One row per (panel,) channel: ``spend``, ``sales`` and ``marginal_roi`` at the
        historical spend, ``peak_marginal_roi`` and the saturation point
        (``saturation_multiplier``, ``saturation_spend``; NaN when the curve does not
        saturate within the range).
    saturation_fraction : float
        The fraction of the peak marginal ROI that defines the saturation point.
    """

    table: pd.DataFrame
    points: pd.DataFrame
    saturation_fraction: float


def saturation_point(multipliers: np.ndarray, marginal: np.ndarray, fraction: float) -> float:
    """Where the marginal ROI curve, past its peak, first falls to ``fraction`` x the peak.

    For concave curves the peak is at zero spend; for S-shaped ones (e.g. Hill with a
    slope above 1) it is at the inflection. Linear interpolation between grid points;
    NaN when the curve never falls that low in the range, or is flat at 0.
    """
    m = np.asarray(marginal, dtype=float)
    k = int(np.nanargmax(m)) if np.isfinite(m).any() else 0
    peak = m[k]
    if not np.isfinite(peak) or peak <= 0:
        return float("nan")
    level = fraction * peak
    after = np.flatnonzero(m[k:] <= level)
    if len(after) == 0:
        return float("nan")
    j = k + int(after[0])
    if j == 0:
        return float(multipliers[0])
    x0, x1, y0, y1 = multipliers[j - 1], multipliers[j], m[j - 1], m[j]
    return float(x0 + (y0 - level) / (y0 - y1) * (x1 - x0)) if y0 != y1 else float(x1)


def response_curves(fit: Fit | AveragedFit, *,
                    multipliers: Sequence[float] | np.ndarray | None = None,
                    level: str = "total", n_draws: int | None = DEFAULT_DRAWS, seed: int = 0,
                    hdi_prob: float = 0.94, saturation_fraction: float = 0.2) -> ResponseCurves:
    r"""Incremental sales of each channel vs its spend over the fitted period.

    For a multiplier :math:`m` of channel :math:`c`'s historical spend (every period
    scaled alike, other channels unchanged), the incremental sales are
    :math:`\sum_t \mathrm{contrib}_c(m\,x_c)_t - \mathrm{contrib}_c(0)_t` over the fitted
    periods; the marginal ROI is its derivative with respect to the spend
    :math:`m \sum_t \mathrm{spend}_{c,t}` (exact, by forward-mode differentiation).

    Parameters
    ----------
    fit : Fit
    multipliers : sequence of float, optional
        Multiples of historical spend; default 0, 0.05, ..., 2 (1 is always included).
    level : 'total' or 'panel'
        Geo models: sum over geos (all scaled alike) or one curve per geo.
    n_draws : int or None
        Posterior draws used (a subsample drawn with ``seed``; ``None``: all).
    seed : int
    hdi_prob : float
    saturation_fraction : float
        The saturation point is where the marginal ROI (posterior mean), past its peak,
        falls to this fraction of the peak: 0.2 means "an extra unit of spend returns a
        fifth of what the best units did".

    Returns
    -------
    ResponseCurves
    """
    if level not in ("total", "panel"):
        raise SpecError(f"Unknown level {level!r}; expected one of ['panel', 'total']")
    if not 0.0 < saturation_fraction < 1.0:
        raise SpecError(f"saturation_fraction must lie in (0, 1), got {saturation_fraction!r}")
    grid = np.linspace(0.0, 2.0, 41) if multipliers is None else np.asarray(multipliers, float)
    if grid.ndim != 1 or len(grid) == 0 or not np.isfinite(grid).all() or (grid < 0).any():
        raise SpecError(f"multipliers must be a non-empty list of numbers >= 0, got {grid!r}")
    grid = np.unique(np.append(grid, 1.0))
    sales, deriv = _curve_draws(fit, grid, n_draws, seed)  # (S, M, G, C) each
    spend = spend_of(fit.spec, fit.data).sum(axis=1)  # (G, C)
    panel = level == "panel" and fit.is_panel
    if not panel:
        sales, deriv, spend = sales.sum(2, keepdims=True), deriv.sum(2, keepdims=True), \
            spend.sum(0, keepdims=True)
    return _tabulate(fit, grid, sales, deriv, spend, panel, hdi_prob, saturation_fraction)


def _curve_draws(fit: Fit | AveragedFit, grid: np.ndarray, n_draws: int | None, seed: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Sales and d sales / d multiplier per draw ``(S, M, G, C)``, original units. An
    averaged fit's draws are its mixture's: the subsample is drawn over all of them and
    each member computes its own."""
    check_count("seed", seed, 0)
    if isinstance(fit, AveragedFit):
        sizes = [p.n_draws for p in fit.parts]
        starts = np.cumsum([0, *sizes])
        index = np.arange(starts[-1])
        if n_draws is not None and check_count("n_draws", n_draws, 1) < len(index):
            index = np.sort(np.random.default_rng(seed).choice(len(index), n_draws,
                                                               replace=False))
        pieces = [_curve_draws(part.select_draws(index[(index >= lo) & (index < hi)] - lo),
                               grid, None, seed)
                  for part, lo, hi in zip(fit.parts, starts[:-1], starts[1:], strict=True)
                  if ((index >= lo) & (index < hi)).any()]
        return (np.concatenate([s for s, _ in pieces]),
                np.concatenate([d for _, d in pieces]))
    params = media_param_draws(fit)
    total = fit.n_chains * fit.n_draws
    index = np.arange(total)
    if n_draws is not None and check_count("n_draws", n_draws, 1) < total:
        index = np.sort(np.random.default_rng(seed).choice(total, n_draws, replace=False))
    structure = fit.structure.media
    scaled = fit.data.media_gt / fit.scalers.channel_scale_g[:, None, :]
    n_geos, n_times, n_channels = scaled.shape
    chunk = max(1, min(len(index), _BLOCK // (n_geos * n_times * n_channels)))
    y_scale = np.asarray(fit.scalers.y_scale_g, dtype=float)
    with jax.enable_x64(True):
        media = jnp.asarray(scaled, dtype=jnp.float64)
        y_j = jnp.asarray(y_scale)

        def at(p: dict[str, jax.Array], m: jax.Array) -> jax.Array:
            lagged = lag_stack(media * m, structure.l_max)
            return media_contributions(structure, lagged, p).sum(-2) * y_j[:, None]

        @jax.jit
        def curve(p: dict[str, jax.Array], ms: jax.Array) -> tuple[jax.Array, jax.Array]:
            zero = at(p, jnp.zeros(()))

            def one(m: jax.Array) -> tuple[jax.Array, jax.Array]:
                value, slope = jax.jvp(lambda mm: at(p, mm), (m,), (jnp.ones(()),))
                return value - zero, slope

            return jax.lax.map(one, ms)  # (M, S, G, C) each

        sales, deriv = [], []
        for start in range(0, len(index), chunk):
            part = index[start:start + chunk]
            padded = np.concatenate([part, np.repeat(part[-1:], chunk - len(part))])
            p = {k: jnp.asarray(v[padded], dtype=jnp.float64) for k, v in params.items()}
            s, d = curve(p, jnp.asarray(grid))
            sales.append(np.asarray(s)[:, :len(part)])
            deriv.append(np.asarray(d)[:, :len(part)])
    return (np.moveaxis(np.concatenate(sales, axis=1), 0, 1),
            np.moveaxis(np.concatenate(deriv, axis=1), 0, 1))


def _tabulate(fit: Fit | AveragedFit, grid: np.ndarray, sales: np.ndarray, deriv: np.ndarray,
              spend: np.ndarray, panel: bool, hdi_prob: float, fraction: float
              ) -> ResponseCurves:
    channels = list(fit.spec.channel_columns)
    labels = list(fit.data.panels) if panel else [None]
    rows, points = [], []
    for g, label in enumerate(labels):
        for c, name in enumerate(channels):
            s = sales[:, :, g, c]  # (S, M)
            mroi = deriv[:, :, g, c] / spend[g, c] if spend[g, c] > 0 else \
                np.full_like(s, np.nan)
            st = describe(s, hdi_prob, "sales_")
            mt = describe(mroi, hdi_prob, "marginal_roi_")
            block = pd.DataFrame({
                "channel": name, "multiplier": grid, "spend": grid * spend[g, c],
                "sales": st.pop("sales_mean"), **st,
                "roi": ratio(s.mean(0), grid * spend[g, c]),
                "marginal_roi": mt.pop("marginal_roi_mean"), **mt,
                "current": np.isclose(grid, 1.0)})
            cur = int(np.argmin(np.abs(grid - 1.0)))
            sat = saturation_point(grid, block["marginal_roi"].to_numpy(), fraction)
            point = {"channel": name, "spend": spend[g, c], "sales": block["sales"].iloc[cur],
                     "marginal_roi": block["marginal_roi"].iloc[cur],
                     "peak_marginal_roi": np.nanmax(block["marginal_roi"].to_numpy())
                     if spend[g, c] > 0 else np.nan,
                     "saturation_multiplier": sat, "saturation_spend": sat * spend[g, c]}
            if label is not None:
                block.insert(0, "panel", label)
                point = {"panel": label, **point}
            rows.append(block)
            points.append(point)
    return ResponseCurves(pd.concat(rows, ignore_index=True), pd.DataFrame(points), fraction)
