"""What to simulate: frozen configs that validate themselves on creation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from bayesmmm.errors import SpecError
from bayesmmm.synth._calendar import HOLIDAYS
from bayesmmm.synth._spend import PATTERNS, Pattern
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["ChannelConfig", "ControlConfig", "SimulationConfig"]

#: Names the generator uses for components; a channel or control may not take them.
RESERVED = frozenset({"intercept", "seasonality", "trend", "date", "y", "geo"})

ControlKind = Literal["promo", "holiday", "covariate"]
MIN_WEEKS = 26


@dataclass(frozen=True)
class ChannelConfig:
    """One media channel of a simulation.

    Parameters
    ----------
    name : str
        Column name.
    pattern : str
        Spend shape, one of :data:`bayesmmm.synth.PATTERNS`.
    adstock, saturation : str
        Registered forms (:data:`bayesmmm.transforms.ADSTOCKS`, ``SATURATIONS``).
    adstock_params, saturation_params : mapping of str to float
        True shared values by the form's parameter names (``form.params``); a missing
        one is drawn from the central 60% of the form's default prior.
    share : float
        The channel's contribution as a fraction of all sales (``beta`` is solved for it).
    roi : float
        Target ROI, sales per unit of spend over all geos and weeks (the spend level is
        set for it; the simulated ROI is close to, not exactly, this).
    """

    name: str
    pattern: Pattern = "always_on"
    adstock: str = "geometric"
    saturation: str = "logistic"
    adstock_params: Mapping[str, float] = field(default_factory=dict)
    saturation_params: Mapping[str, float] = field(default_factory=dict)
    share: float = 0.05
    roi: float = 1.5

    def __post_init__(self) -> None:
        _check_name(self.name, "channel")
        if self.pattern not in PATTERNS:
            raise SpecError(f"channel {self.name!r}: unknown spend pattern {self.pattern!r}; "
                            f"expected one of {sorted(PATTERNS)}")
        try:
            ad, sat = ADSTOCKS.get(self.adstock), SATURATIONS.get(self.saturation)
        except ValueError as exc:
            raise SpecError(f"channel {self.name!r}: {exc}") from None
        for kind, given, known in (("adstock", self.adstock_params, ad.params),
                                   ("saturation", self.saturation_params, sat.params)):
            extra = sorted(set(given) - set(known))
            if extra:
                raise SpecError(f"channel {self.name!r}: {kind} {getattr(self, kind)!r} has "
                                f"parameters {list(known)}, not {extra}")
            object.__setattr__(self, f"{kind}_params", {k: float(v) for k, v in given.items()})
        if not 0.0 < self.share < 1.0:
            raise SpecError(f"channel {self.name!r}: share must be in (0, 1), got {self.share}")
        if not self.roi > 0.0:
            raise SpecError(f"channel {self.name!r}: roi must be > 0, got {self.roi}")


@dataclass(frozen=True)
class ControlConfig:
    """One control variable.

    Parameters
    ----------
    name : str
    kind : {"promo", "holiday", "covariate"}
        ``promo``: a 0/1 dummy, on in about ``rate`` of the weeks, drawn per geo;
        ``holiday``: 1 in weeks that contain one of ``holidays`` (same in all geos);
        ``covariate``: a standardised AR(1) series per geo (prices, weather, ...).
    effect : float
        Effect in target units per unit of the control (the baseline level is
        :attr:`SimulationConfig.baseline`).
    holidays : tuple of str
        Keys of :data:`bayesmmm.synth.HOLIDAYS` (``holiday`` only).
    rate : float
        Share of promo weeks (``promo`` only).
    """

    name: str
    kind: ControlKind
    effect: float
    holidays: tuple[str, ...] = ()
    rate: float = 0.1

    def __post_init__(self) -> None:
        _check_name(self.name, "control")
        if self.kind not in ("promo", "holiday", "covariate"):
            raise SpecError(f"control {self.name!r}: unknown kind {self.kind!r}; expected one "
                            "of ['covariate', 'holiday', 'promo']")
        object.__setattr__(self, "holidays", tuple(self.holidays))
        unknown = [h for h in self.holidays if h not in HOLIDAYS]
        if unknown or (self.kind == "holiday" and not self.holidays):
            raise SpecError(f"control {self.name!r}: holidays must name some of "
                            f"{sorted(HOLIDAYS)}, got {list(self.holidays)}")
        if not 0.0 < self.rate < 1.0:
            raise SpecError(f"control {self.name!r}: rate must be in (0, 1), got {self.rate}")


@dataclass(frozen=True)
class SimulationConfig:
    """A whole simulated data set: weeks, geos, channels, controls and noise.

    All effects are in target *units*: the target of a geo is ``unit * size_g * y_units``,
    where ``y_units`` has baseline level ``baseline``.

    Parameters
    ----------
    channels, controls : tuple of ChannelConfig / ControlConfig
    n_weeks : int
        Weekly periods (>= 26).
    n_geos : int
        1 for a national series, more for a geo panel.
    start : str
        First Monday, ``%Y-%m-%d``.
    l_max : int
        Adstock length; ``normalize`` divides the carry-over weights by their sum.
    baseline : float
        Intercept in units.
    trend : float
        Change of the level over the whole period (linear), in units; 0 for none.
    seasonality : tuple of float
        Yearly Fourier coefficients in units, ``[sin_1..sin_n, cos_1..cos_n]``.
    target_r2 : float
        The noise is set so that the true mean explains this share of the variance of
        ``y`` in each geo.
    geo_sd : float
        Spread of geo-level channel parameters around the shared values, on each
        parameter's unconstrained scale (``biject_to(prior.support)``).
    geo_size_sd : float
        Log-sd of the geos' sizes.
    unit : float
        Sales per target unit in a geo of average size.
    name, description : str
        A label (a preset's name) and what the data set stands for.
    """

    channels: tuple[ChannelConfig, ...]
    controls: tuple[ControlConfig, ...] = ()
    n_weeks: int = 104
    n_geos: int = 1
    start: str = "2021-01-04"
    l_max: int = 8
    normalize: bool = True
    baseline: float = 10.0
    trend: float = 0.0
    seasonality: tuple[float, ...] = (1.0, 0.3, 0.6, -0.2)
    target_r2: float = 0.9
    geo_sd: float = 0.25
    geo_size_sd: float = 0.8
    unit: float = 1000.0
    name: str = "custom"
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "controls", tuple(self.controls))
        object.__setattr__(self, "seasonality", tuple(float(v) for v in self.seasonality))
        names = [c.name for c in self.channels] + [c.name for c in self.controls]
        if not self.channels:
            raise SpecError("a simulation needs at least one channel")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(f"channel and control names must be unique; repeated: {dupes}")
        for key, low in (("n_weeks", MIN_WEEKS), ("n_geos", 1), ("l_max", 1)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SpecError(f"{key} must be an integer >= {low}, got {value!r}")
        if len(self.seasonality) % 2:
            raise SpecError("seasonality holds [sin_1..sin_n, cos_1..cos_n]: an even number of "
                            f"coefficients, got {len(self.seasonality)}")
        media = sum(c.share for c in self.channels)
        if media >= 0.9:
            raise SpecError(f"channel shares add up to {media:.2f}; keep them below 0.9")
        if not 0.0 < self.target_r2 < 1.0:
            raise SpecError(f"target_r2 must be in (0, 1), got {self.target_r2}")
        if self.baseline <= 0 or self.unit <= 0 or self.geo_sd < 0 or self.geo_size_sd < 0:
            raise SpecError("baseline and unit must be > 0, geo_sd and geo_size_sd >= 0")
        start = pd.Timestamp(self.start)
        if start.day_of_week != 0:
            raise SpecError(f"start must be a Monday, got {self.start} ({start.day_name()}). "
                            f"Fix: start={(start - pd.Timedelta(days=start.day_of_week)):%Y-%m-%d}")

    @property
    def n_modes(self) -> int:
        """Fourier modes of yearly seasonality."""
        return len(self.seasonality) // 2


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name or name in RESERVED:
        raise SpecError(f"{what} name {name!r} is empty or reserved ({sorted(RESERVED)})")
