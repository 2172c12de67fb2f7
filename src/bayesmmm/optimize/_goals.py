"""What to optimise: budget goals, risk attitudes and per-channel bounds, as types."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bayesmmm.errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from jax import Array

__all__ = ["Bound", "ExpectedSales", "FixedBudget", "Goal", "MeanMinusSd", "Objective",
           "SalesQuantile", "TargetMarginalROI", "TargetROI", "parse_amount", "parse_bound",
           "parse_objective"]


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value):
        raise SpecError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise SpecError(f"{name} must be {rule}, got {value!r}")
    return float(value)


# Goals ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FixedBudget:
    """Spend exactly ``total`` (currency, all channels and geos, the whole horizon)."""

    total: float

    def __post_init__(self) -> None:
        _positive("FixedBudget.total", self.total)


@dataclass(frozen=True)
class TargetROI:
    """The budget at which the optimal plan's ROI has come down to ``value``.

    ROI falls as the budget grows (diminishing returns), so this is the largest budget
    whose optimal plan still returns ``value`` per unit of spend: spend more and the
    ROI drops below the target.
    """

    value: float

    def __post_init__(self) -> None:
        _positive("TargetROI.value", self.value)


@dataclass(frozen=True)
class TargetMarginalROI:
    """Spend until the next unit of spend returns ``value`` in every channel (or the
    channel reaches a bound): the budget at which the marginal ROI falls to ``value``."""

    value: float

    def __post_init__(self) -> None:
        _positive("TargetMarginalROI.value", self.value)


Goal = FixedBudget | TargetROI | TargetMarginalROI


# Objectives (risk attitude) -------------------------------------------------------------

@dataclass(frozen=True)
class ExpectedSales:
    """Maximise the posterior mean of the incremental sales (risk neutral)."""

    def reduce(self, draws: Array) -> Array:
        return draws.mean()

    def describe(self) -> str:
        return "expected incremental sales"


@dataclass(frozen=True)
class SalesQuantile:
    """Maximise the ``q`` posterior quantile of the incremental sales (``q`` < 0.5 is
    risk averse: the plan that does best in the pessimistic cases)."""

    q: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < float(self.q) < 1.0:
            raise SpecError(f"SalesQuantile.q must lie in (0, 1), got {self.q!r}")

    def reduce(self, draws: Array) -> Array:
        import jax.numpy as jnp

        return jnp.quantile(draws, self.q)

    def describe(self) -> str:
        return f"{self.q:.0%} quantile of incremental sales"


@dataclass(frozen=True)
class MeanMinusSd:
    """Maximise ``mean - k * sd`` of the incremental sales over the posterior draws."""

    k: float = 1.0

    def __post_init__(self) -> None:
        _positive("MeanMinusSd.k", self.k, allow_zero=True)

    def reduce(self, draws: Array) -> Array:
        return draws.mean() - self.k * draws.std()

    def describe(self) -> str:
        return f"mean - {self.k:g} sd of incremental sales"


Objective = ExpectedSales | SalesQuantile | MeanMinusSd


# Bounds ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bound:
    """Allowed spend of one channel over the horizon.

    ``kind='multiple'``: ``low``/``high`` are multiples of the channel's historical spend
    for the same number of periods (in a geo model they hold in every geo);
    ``kind='absolute'``: amounts of currency (in a geo model, for the channel's total
    over all geos). ``None`` leaves a side open (the lower side then is 0).
    """

    low: float | None = None
    high: float | None = None
    kind: Literal["multiple", "absolute"] = "multiple"

    def __post_init__(self) -> None:
        if self.kind not in ("multiple", "absolute"):
            raise SpecError(f"Unknown bound kind {self.kind!r}; expected one of "
                            "['absolute', 'multiple']")
        for side in ("low", "high"):
            value = getattr(self, side)
            if value is not None:
                _positive(f"bound {side}", value, allow_zero=True)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise SpecError(f"bound low {self.low:g} is above high {self.high:g}")

    @classmethod
    def multiple(cls, low: float | None = None, high: float | None = None) -> Bound:
        """Between ``low`` and ``high`` times the historical spend."""
        return cls(low, high, "multiple")

    @classmethod
    def absolute(cls, low: float | None = None, high: float | None = None) -> Bound:
        """Between ``low`` and ``high`` in currency."""
        return cls(low, high, "absolute")

    @classmethod
    def percent(cls, down: float = 0.0, up: float = 0.0) -> Bound:
        """Within ``-down`` % and ``+up`` % of the historical spend (``percent(30, 20)``:
        0.7x to 1.2x)."""
        _positive("percent down", down, allow_zero=True)
        _positive("percent up", up, allow_zero=True)
        if down > 100:
            raise SpecError(f"a spend cannot fall by more than 100%, got -{down:g}%")
        return cls(1.0 - down / 100.0, 1.0 + up / 100.0, "multiple")

    def describe(self) -> str:
        lo = "" if self.low is None else f"{self.low:g}"
        hi = "" if self.high is None else f"{self.high:g}"
        return f"{lo}:{hi}" + (" (absolute)" if self.kind == "absolute" else " (x historical)")


_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}
_AMOUNT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([kmb]?)\s*$", re.I)


def parse_amount(text: str) -> float:
    """``'500000'``, ``'500k'``, ``'1.5M'``, ``'2e6'`` -> a float; ``SpecError`` otherwise."""
    match = _AMOUNT.match(str(text).replace(",", "").replace("_", ""))
    if not match:
        raise SpecError(f"{text!r} is not an amount; write e.g. 500000, 500k or 1.5M")
    return float(match.group(1)) * _SUFFIX[match.group(2).lower()]


def _percent(text: str) -> float:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        raise SpecError(f"{text!r} is not a percentage; write e.g. -30% or +20%") from None


def parse_bound(text: str) -> Bound:
    """Parse a bound written as on the command line.

    * ``'0.5:2'`` - between 0.5x and 2x the historical spend (``':2'``, ``'0.5:'``
      leave a side open);
    * ``'-30%:+20%'`` - within 30 % below and 20 % above the historical spend;
    * ``'100k:250kabs'`` - between 100,000 and 250,000 (the ``abs`` suffix marks
      amounts of currency; ``k``/``M``/``B`` abbreviate thousands, millions, billions).
    """
    raw = str(text).strip()
    absolute = raw.lower().endswith("abs")
    body = raw[:-3] if absolute else raw
    if body.count(":") != 1:
        raise SpecError(f"bound {text!r} must be LOW:HIGH, e.g. 0.5:2 (x historical), "
                        "-30%:+20% or 100k:250kabs")
    low_s, high_s = (s.strip() for s in body.split(":"))
    if "%" in body:
        if absolute:
            raise SpecError(f"bound {text!r} mixes % and abs; use one")
        down = -_percent(low_s) if low_s else 100.0
        up = _percent(high_s) if high_s else None
        if down < 0:
            raise SpecError(f"bound {text!r}: the lower side must be a cut (e.g. -30%)")
        if up is not None and up < -down:
            raise SpecError(f"bound {text!r}: the upper side is below the lower side")
        floor = 1.0 - down / 100.0
        if floor < 0:
            raise SpecError(f"bound {text!r}: a spend cannot fall by more than 100%")
        return Bound.multiple(floor, None if up is None else 1.0 + up / 100.0)
    low = parse_amount(low_s) if low_s else None
    high = parse_amount(high_s) if high_s else None
    for value in (low, high):
        if value is not None and value < 0:
            raise SpecError(f"bound {text!r}: spend bounds must be >= 0")
    return Bound(low, high, "absolute" if absolute else "multiple")


def parse_objective(text: str) -> Objective:
    """``'mean'`` -> :class:`ExpectedSales`; ``'q10'`` (or ``'q0.1'``) ->
    ``SalesQuantile(0.1)``; ``'mean-1sd'`` -> ``MeanMinusSd(1)``."""
    raw = str(text).strip().lower().replace(" ", "")
    if raw in ("mean", "expected"):
        return ExpectedSales()
    m = re.fullmatch(r"q(\d+(?:\.\d*)?)", raw)
    if m:
        q = float(m.group(1))
        return SalesQuantile(q / 100 if q >= 1 else q)
    m = re.fullmatch(r"mean-(\d+(?:\.\d*)?)sd", raw)
    if m:
        return MeanMinusSd(float(m.group(1)))
    raise SpecError(f"Unknown objective {text!r}; expected 'mean', a quantile such as 'q10' "
                    "(the 10% quantile) or 'mean-1sd'")
