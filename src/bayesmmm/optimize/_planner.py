"""The planning window: future spend in, incremental sales per posterior draw out.

A plan spends ``x[g, c]`` (currency) in each geo and channel over ``n_periods`` future
periods, spread over the periods by a fixed time pattern. Its incremental sales are
computed with the model's own media function (:func:`bayesmmm.model.media_contributions`)
on the series

``[last l_max - 1 observed periods | gap zeros | plan | l_max - 1 zeros]``

as ``sum over the window of contribution(history + plan) - contribution(history + 0)``,
where the window starts after the observed periods. So the history's carry-over feeds
the plan (a channel still warm from past spend saturates sooner) but is not counted as
the plan's effect, and the plan's own carry-over after the horizon is counted.

An averaged fit (several structures, :class:`bayesmmm.AveragedFit`) is planned on its
mixture: each member's share of the draws goes through that member's media function, and
the draws are concatenated, so every objective (means, quantiles, probabilities) is the
mixture's.

All arithmetic runs in float64 (``jax.enable_x64``): the optimizer differentiates
differences of sums, where float32 rounding would blur the gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from bayesmmm.analysis import media_param_draws
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit, MediaStructure, media_contributions
from bayesmmm.model._design import spend_of
from bayesmmm.model._media_kinds import unit_costs
from bayesmmm.optimize._goals import Objective
from bayesmmm.transforms import lag_stack

__all__ = ["Planner", "channel_index", "check_count", "historical_spend"]

#: Draws used by the optimizer unless told otherwise (a seeded subsample).
DEFAULT_DRAWS = 200

#: Elements of one (draws x geos x periods x channels) block evaluated at once.
_BLOCK = 8_000_000


def check_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SpecError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def channel_index(fit: Fit | AveragedFit, name: str) -> int:
    channels = list(fit.spec.channel_columns)
    if name not in channels:
        raise SpecError(f"Unknown channel {name!r}; expected one of {channels}")
    return channels.index(name)


def _time_pattern(pattern: str | Sequence[float] | np.ndarray, spend: np.ndarray,
                  n_periods: int) -> np.ndarray:
    """Share of each cell's spend per period ``(G, P, C)``, each cell summing to 1."""
    n_geos, n_times, n_channels = spend.shape
    flat = np.full((n_geos, n_periods, n_channels), 1.0 / n_periods)
    if isinstance(pattern, str):
        if pattern == "flat":
            return flat
        if pattern != "historical":
            raise SpecError(f"Unknown pattern {pattern!r}; expected one of ['flat', "
                            "'historical'] or an array of weights per period")
        if n_periods > n_times:
            raise SpecError(f"pattern 'historical' needs the last {n_periods} periods but "
                            f"the fit has {n_times}; use pattern='flat' or fewer periods")
        weights = spend[:, n_times - n_periods:, :]
    else:
        w = np.asarray(pattern, dtype=float)
        if w.ndim == 1:
            w = w[None, :, None]
        elif w.ndim == 2:
            w = w[None]
        if w.ndim != 3 or w.shape[1] != n_periods or w.shape[0] not in (1, n_geos) \
                or w.shape[2] not in (1, n_channels) or not np.isfinite(w).all() or (w < 0).any():
            raise SpecError(f"pattern weights must be finite, >= 0 and of shape ({n_periods},), "
                            f"({n_periods}, {n_channels}) or ({n_geos}, {n_periods}, "
                            f"{n_channels}), got shape "
                            f"{np.shape(pattern)}. Fix: one weight per horizon period (and "
                            "per channel / geo)")
        weights = np.broadcast_to(w, (n_geos, n_periods, n_channels))
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weights / np.where(total > 0, total, 1.0), flat)


class Planner:
    """Incremental sales of future spend plans, per posterior draw.

    Parameters
    ----------
    fit : Fit
    n_periods : int
        Length of the horizon (periods of the fit's frequency).
    gap : int
        Periods of zero spend between the last observed period and the plan.
    pattern : 'flat', 'historical' or array of weights
        How a cell's spend is spread over the horizon: evenly, as in the last
        ``n_periods`` observed periods, or by given weights (``(P,)``, ``(P, C)`` or
        ``(G, P, C)``; normalised).
    n_draws : int or None
        Posterior draws the optimizer uses: a subsample drawn with ``seed`` (``None``
        or more than available: all of them). Reports use all draws.
    seed : int

    Attributes
    ----------
    reference : ndarray ``(n_geos, n_channels)``
        Historical spend for ``n_periods`` periods: the mean spend per period over the
        fitted data times ``n_periods`` (currency; units x cost for priced channels).
    pattern : ndarray ``(n_geos, n_periods, n_channels)``
    """

    def __init__(self, fit: Fit | AveragedFit, n_periods: int, *, gap: int = 0,
                 pattern: str | Sequence[float] | np.ndarray = "flat",
                 n_draws: int | None = DEFAULT_DRAWS, seed: int = 0) -> None:
        self.fit = fit
        self.n_periods = check_count("n_periods", n_periods, 1)
        self.gap = check_count("gap", gap, 0)
        seed = check_count("seed", seed, 0)
        spec = fit.spec
        self.channels = list(spec.channel_columns)
        self.panels = list(fit.data.panels) if fit.is_panel else []
        media = np.asarray(fit.data.media_gt, dtype=float)
        self.n_geos, n_times, self.n_channels = media.shape
        self.cost = unit_costs(spec)
        spend = spend_of(spec, fit.data)
        self.reference = historical_spend(fit, self.n_periods)
        self.pattern = _time_pattern(pattern, spend, self.n_periods)
        ch_scale = fit.scalers.channel_scale_g
        self.inv_unit = 1.0 / (self.cost[None, :] * ch_scale)  # currency -> scaled media
        l_max = spec.adstock_max_lag
        hist = media / ch_scale[:, None, :]
        n_tail = l_max - 1
        tail = hist[:, max(n_times - n_tail, 0):, :]
        tail = np.concatenate([np.zeros((self.n_geos, n_tail - tail.shape[1],
                                         self.n_channels)), tail], axis=1)
        parts = fit.parts if isinstance(fit, AveragedFit) else [fit]
        self._media: tuple[MediaStructure, ...] = tuple(p.structure.media for p in parts)
        self._params_all = [media_param_draws(p) for p in parts]
        sizes = [p.n_chains * p.n_draws for p in parts]
        self._starts = np.cumsum([0, *sizes])
        n_total = int(self._starts[-1])
        self.n_draws_total = n_total
        if n_draws is None or n_draws >= n_total:
            self.draw_index = np.arange(n_total)
        else:
            check_count("n_draws", n_draws, 1)
            rng = np.random.default_rng(seed)
            self.draw_index = np.sort(rng.choice(n_total, size=n_draws, replace=False))
        # draws evaluated at once when reporting on all of them: the used subsample's
        # size (one compiled shape) unless one block would pass ~_BLOCK elements
        window = self.gap + self.n_periods + l_max - 1
        cap = max(16, _BLOCK // (self.n_geos * window * self.n_channels))
        self.chunk = min(len(self.draw_index), cap)
        y_scale = np.asarray(fit.scalers.y_scale_g, dtype=float)
        self._build(tail, y_scale)
        with jax.enable_x64(True):
            self._params = self._device_params(self.draw_index)
            self._base = self._totals(self._consts, self._params,
                                     jnp.zeros(self.pattern.shape))

    # the compiled kernels ----------------------------------------------------------------
    def _build(self, tail: np.ndarray, y_scale: np.ndarray) -> None:
        structures, gap, n_tail = self._media, self.gap, tail.shape[1]
        l_max = structures[0].l_max
        n_geos, n_channels = self.n_geos, self.n_channels
        # the data enter the compiled kernels as arguments, not as captured constants:
        # XLA would otherwise constant-fold whole (draws x geos x periods x channels)
        # blocks of the backward pass at compile time (tens of seconds at 50 x 30)
        with jax.enable_x64(True):
            self._consts = {"tail": jnp.asarray(tail), "y": jnp.asarray(y_scale),
                            "inv_unit": jnp.asarray(self.inv_unit),
                            "pattern": jnp.asarray(self.pattern)}

        def totals(c: Mapping[str, Array], params: Sequence[Mapping[str, Array]],
                   plan: Array) -> Array:
            """Window sums of the contributions, original units ``(S, G, C)``; ``plan``
            is in scaled media units ``(G, P, C)``; ``params`` one draw set per part (its
            structure's), the parts' draws concatenated."""
            pad = jnp.zeros((n_geos, gap, n_channels))
            after = jnp.zeros((n_geos, l_max - 1, n_channels))
            series = jnp.concatenate([c["tail"], pad, plan, after], axis=1)
            lagged = lag_stack(series, l_max)[:, :, n_tail:, :]
            parts = [media_contributions(m, lagged, p).sum(axis=-2) * c["y"][:, None]
                     for m, p in zip(structures, params, strict=True) if len(p)]
            return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=0)

        def spread(c: Mapping[str, Array], x_gc: Array) -> Array:
            return x_gc[:, None, :] * c["inv_unit"][:, None, :] * c["pattern"]

        def marginals(c: Mapping[str, Array], params: Sequence[Mapping[str, Array]],
                      x_gc: Array) -> Array:
            # each cell's sales depend on that cell's spend only, so one forward-mode
            # pass with a tangent of ones gives every cell's own derivative
            return jax.jvp(lambda x: totals(c, params, spread(c, x)), (x_gc,),
                           (jnp.ones_like(x_gc),))[1]

        def objective(obj: Objective, z: Array, free: Array, fixed: Array, scale: Array,
                      penalty: Array, c: Mapping[str, Array],
                      params: Sequence[Mapping[str, Array]], base: Array) -> Array:
            x = fixed.at[free].set(z * scale)
            plan = spread(c, x.reshape(n_geos, n_channels))
            inc = (totals(c, params, plan) - base).sum((-2, -1))
            return -(obj.reduce(inc) - penalty * x.sum())

        self._totals = jax.jit(totals)
        self._marginals = jax.jit(marginals)
        self._value_grad = jax.jit(jax.value_and_grad(objective, argnums=1), static_argnums=0)
        self._value_only = jax.jit(objective, static_argnums=0)

    def _device_params(self, index: np.ndarray) -> list[dict[str, Array]]:
        """The draws ``index`` (sorted, over all parts) as one draw set per part (empty
        for a part without any of them)."""
        out = []
        for k, params in enumerate(self._params_all):
            lo, hi = self._starts[k], self._starts[k + 1]
            local = index[(index >= lo) & (index < hi)] - lo
            out.append({} if not len(local) else
                       {n: jnp.asarray(v[local], dtype=jnp.float64) for n, v in params.items()})
        return out

    def _chunks(self) -> list[np.ndarray]:
        """All draws in chunks of the optimizer's size, each within one part (the last of
        a part padded), so that every chunk has one compiled shape per part."""
        out = []
        for k in range(len(self._params_all)):
            idx = np.arange(self._starts[k], self._starts[k + 1])
            for start in range(0, len(idx), self.chunk):
                part = idx[start:start + self.chunk]
                out.append(np.concatenate([part,
                                           np.repeat(part[-1:], self.chunk - len(part))]))
        return out

    # public helpers ---------------------------------------------------------------------
    def spend_per_period(self, x_gc: np.ndarray) -> np.ndarray:
        """Spend per geo, period and channel ``(G, P, C)`` of cell totals ``x_gc``."""
        return np.asarray(x_gc, dtype=float)[:, None, :] * self.pattern

    def cells(self, plan_gpc: np.ndarray, draws: str = "all") -> np.ndarray:
        """Incremental sales of a plan (spend ``(G, P, C)``, currency) per draw, geo and
        channel ``(S, G, C)``, over the subsample (``draws='used'``) or all draws."""
        plan = np.asarray(plan_gpc, dtype=float) * self.inv_unit[:, None, :]
        return self._per_draw(lambda p, base: self._totals(self._consts, p, jnp.asarray(plan))
                              - base,
                              draws)

    def marginal(self, x_gc: np.ndarray, draws: str = "all") -> np.ndarray:
        """Marginal ROI of each cell at cell totals ``x_gc`` (spread by the pattern):
        d sales / d spend per draw ``(S, G, C)``."""
        x = np.asarray(x_gc, dtype=float)
        return self._per_draw(lambda p, base: self._marginals(self._consts, p, jnp.asarray(x)),
                              draws)

    def _per_draw(self, fn: Callable[[list[dict[str, Array]], Array], Array],
                  draws: str) -> np.ndarray:
        with jax.enable_x64(True):
            if draws == "used":
                return np.asarray(fn(self._params, self._base))
            out = []
            zeros = jnp.zeros(self.pattern.shape)
            for index in self._chunks():
                params = self._device_params(index)
                value = np.asarray(fn(params, self._totals(self._consts, params, zeros)))
                out.append(value[:len(np.unique(index))])  # drop the padding
            return np.concatenate(out)[:self.n_draws_total]

    def value_and_grad(self, objective: Objective, z: np.ndarray, free: np.ndarray,
                       fixed: np.ndarray, scale: np.ndarray, penalty: float = 0.0
                       ) -> tuple[float, np.ndarray]:
        """Negated objective (minus ``penalty`` x total spend) at free variables
        ``z * scale`` and its gradient in ``z``; the optimizer's kernel."""
        with jax.enable_x64(True):
            value, grad = self._value_grad(objective, jnp.asarray(z), jnp.asarray(free),
                                           jnp.asarray(fixed), jnp.asarray(scale),
                                           jnp.asarray(penalty), self._consts, self._params,
                                           self._base)
            return float(value), np.asarray(grad, dtype=float)

    def value(self, objective: Objective, z: np.ndarray, free: np.ndarray,
              fixed: np.ndarray, scale: np.ndarray, penalty: float = 0.0) -> float:
        """As :meth:`value_and_grad`, the value only (for finite-difference solvers)."""
        with jax.enable_x64(True):
            return float(self._value_only(objective, jnp.asarray(z), jnp.asarray(free),
                                          jnp.asarray(fixed), jnp.asarray(scale),
                                          jnp.asarray(penalty), self._consts, self._params,
                                           self._base))


def historical_spend(fit: Fit | AveragedFit, n_periods: int) -> np.ndarray:
    """Spend per geo and channel ``(n_geos, n_channels)`` over ``n_periods`` periods at the
    historical rate (mean spend per period over the fitted data); the current plan."""
    check_count("n_periods", n_periods, 1)
    return spend_of(fit.spec, fit.data).mean(axis=1) * n_periods
