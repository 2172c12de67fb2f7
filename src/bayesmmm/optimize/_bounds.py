"""Per-cell spend bounds from per-channel :class:`Bound` s, and feasibility checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bayesmmm.errors import SpecError
from bayesmmm.optimize._goals import Bound, parse_bound
from bayesmmm.optimize._planner import Planner

__all__ = ["Box", "BoundsInput", "resolve_bounds"]

BoundsInput = Mapping[str, "Bound | str | tuple[float | None, float | None]"] | None


def _money(value: float) -> str:
    return "unbounded" if not np.isfinite(value) else f"{value:,.0f}"


@dataclass
class Box:
    """Bounds of every geo x channel cell ``(G, C)`` (currency over the horizon).

    ``free`` marks the cells the optimizer moves; the others are held at ``low``.
    ``totals`` holds ``(channel, low, high)`` limits on a channel's total over all geos
    (absolute bounds in geo models). ``notes`` explain cells held fixed on purpose.
    """

    low: np.ndarray
    high: np.ndarray
    free: np.ndarray
    totals: list[tuple[int, float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    def channel_low(self) -> np.ndarray:
        """Smallest feasible total per channel ``(C,)``."""
        out = self.low.sum(axis=0)
        for c, lo, _ in self.totals:
            out[c] = max(out[c], lo)
        return out

    def channel_high(self) -> np.ndarray:
        """Largest feasible total per channel ``(C,)`` (``inf`` if open)."""
        out = self.high.sum(axis=0)
        for c, _, hi in self.totals:
            out[c] = min(out[c], hi)
        return out

    def check_budget(self, budget: float) -> None:
        """``SpecError`` naming the numbers when no plan can spend exactly ``budget``."""
        low, high = self.channel_low(), self.channel_high()
        held = float(self.low[~self.free].sum())
        tol = 1e-9 * max(budget, 1.0)
        if low.sum() > budget + tol:
            parts = ", ".join(f"{self.channels[c]} {_money(low[c])}"
                              for c in np.argsort(-low)[:6] if low[c] > 0)
            raise SpecError(
                f"infeasible bounds: the lower bounds add up to {_money(low.sum())} "
                f"({parts}; {_money(held)} of it held fixed), more than the budget "
                f"{_money(budget)}. Fix: lower some lower bounds, or raise the budget to at "
                f"least {_money(low.sum())}.")
        if high.sum() < budget - tol:
            parts = ", ".join(f"{self.channels[c]} {_money(high[c])}"
                              for c in np.argsort(-high)[:6])
            raise SpecError(
                f"infeasible bounds: the upper bounds add up to {_money(high.sum())} "
                f"({parts}), less than the budget {_money(budget)}. Fix: raise some upper "
                f"bounds, free a fixed channel, or lower the budget to at most "
                f"{_money(high.sum())}.")


def _as_bound(channel: str, value: object) -> Bound:
    if isinstance(value, Bound):
        return value
    if isinstance(value, str):
        try:
            return parse_bound(value)
        except SpecError as exc:
            raise SpecError(f"bounds for {channel!r}: {exc}") from None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = value
        return Bound.multiple(None if lo is None else float(lo), None if hi is None else float(hi))
    raise SpecError(f"bounds for {channel!r} must be a Bound, a string such as '0.5:2' or a "
                    f"(low, high) pair of multiples of historical spend, got {value!r}")


def resolve_bounds(planner: Planner, bounds: BoundsInput = None,
                   fixed: Sequence[str] = ()) -> Box:
    """Cell bounds for ``planner``'s horizon.

    Without a bound a channel may spend anything >= 0. Channels in ``fixed`` are held at
    their historical spend. A cell with no historical spend (the model never saw that
    channel run there, so its response there is the prior's guess) is held at its
    lower bound - 0 unless an absolute lower bound says otherwise.
    """
    ref = planner.reference
    n_geos, n_channels = ref.shape
    channels = planner.channels
    low = np.zeros_like(ref)
    high = np.full_like(ref, np.inf)
    box = Box(low, high, np.ones_like(ref, dtype=bool), channels=channels)
    if isinstance(fixed, str):
        fixed = [fixed]
    unknown = sorted(set(bounds or {}) - set(channels)) + sorted(set(fixed) - set(channels))
    if unknown:
        raise SpecError(f"Unknown channel(s) {unknown} in bounds/fixed; expected names from "
                        f"{channels}")
    for name, value in (bounds or {}).items():
        c = channels.index(name)
        b = _as_bound(name, value)
        lo = 0.0 if b.low is None else b.low
        hi = np.inf if b.high is None else b.high
        if b.kind == "multiple":
            low[:, c], high[:, c] = lo * ref[:, c], hi * ref[:, c]
        elif n_geos == 1:
            low[0, c], high[0, c] = lo, hi
        else:
            high[:, c] = hi
            box.totals.append((c, lo, hi))
    for name in fixed:
        c = channels.index(name)
        low[:, c] = high[:, c] = ref[:, c]
        box.free[:, c] = False
    _hold_unseen(box, ref)
    box.free &= ~np.isfinite(high) | (high - low > 1e-12 * np.maximum(np.abs(high), 1.0))
    for c, lo, hi in box.totals:
        if low[:, c].sum() > hi * (1 + 1e-12) or high[:, c].sum() < lo * (1 - 1e-12):
            raise SpecError(f"bounds for {channels[c]!r}: its total must lie in "
                            f"{_money(lo)} .. {_money(hi)}, but its geos allow only "
                            f"{_money(low[:, c].sum())} .. {_money(high[:, c].sum())}")
    return box


def _hold_unseen(box: Box, ref: np.ndarray) -> None:
    """Hold cells without historical spend at their lower bound, with a note."""
    totals = {c: lo for c, lo, _ in box.totals}
    for c, name in enumerate(box.channels):
        unseen = ref[:, c] <= 0
        if not unseen.any():
            continue
        if unseen.all() and c in totals and totals[c] > 0:
            box.low[:, c] = totals[c] / len(ref)  # spread an absolute floor evenly
        box.high[unseen, c] = box.low[unseen, c]
        box.free[unseen, c] = False
        where = "" if unseen.all() else f" in {int(unseen.sum())} geo(s)"
        amount = box.low[unseen, c].sum()
        box.notes.append(f"channel {name!r} has no historical spend{where}: the model has not "
                         f"seen it respond, so it is held at {_money(amount)} there")
