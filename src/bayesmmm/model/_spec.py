"""The model specification: frozen, validated on creation, serialisable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from bayesmmm.errors import SpecError
from bayesmmm.model._lift import LiftTest, lift_tests_from
from bayesmmm.model._trends import TRENDS as _TREND_FORMS
from bayesmmm.priors import Prior
from bayesmmm.transforms import ADSTOCKS, SATURATIONS, Registry

__all__ = ["FEW_GEOS", "MEDIA_PRIORS", "PRIOR_DEFAULTS", "RESERVED_NAMES", "TRENDS", "ModelSpec",
           "default_priors"]

#: Names of model components; a column with one of these names would be ambiguous in
#: contributions, so the spec refuses it.
RESERVED_NAMES = frozenset({"intercept", "seasonality", "trend"})

#: Baseline trends (a registry: ``none``, ``linear``, ``piecewise``, ``power``,
#: ``smooth``; see :mod:`bayesmmm.model._trends`).
TRENDS = _TREND_FORMS

#: How the media coefficients get their prior: ``default`` (``saturation_beta`` as given),
#: ``spend_share`` (HalfNormal scale in proportion to each channel's share of spend, as
#: LightweightMMM and the PyMC Labs benchmark do), ``roi`` (a prior on each channel's ROI;
#: ``saturation_beta`` is derived from it, as Meridian does).
MEDIA_PRIORS = ("default", "spend_share", "roi")

#: Default priors of the parameters that are not a form's (forms carry their own in
#: their registries: ADSTOCKS, SATURATIONS, TRENDS): PyMC-Marketing's for the classic
#: model, Meridian's for the ROI prior, and the geo spread (sd of a pooled parameter's
#: geo values in its prior's unconstrained space).
PRIOR_DEFAULTS: Registry[Prior] = Registry("prior default")
for _name, _prior in {
    "intercept": Prior("Normal", {"loc": 0, "scale": 2}),
    "gamma_control": Prior("Normal", {"loc": 0, "scale": 2}),
    "gamma_fourier": Prior("Laplace", {"loc": 0, "scale": 1}),
    "y_sigma": Prior("HalfNormal", {"scale": 2}),
    "roi": Prior("LogNormal", {"loc": 0.2, "scale": 0.9}),
    "geo_spread": Prior("HalfNormal", {"scale": 0.3}),
}.items():
    PRIOR_DEFAULTS.add(_name, _prior)
_BASE = ("intercept", "gamma_control", "gamma_fourier", "y_sigma")


def _forms(value: str | Mapping[str, str], channels: Sequence[str], what: str,
           registry: Any) -> dict[str, str]:
    """One form name per channel from a name or a ``{channel: form}`` mapping."""
    if isinstance(value, str):
        out = dict.fromkeys(channels, value)
    elif isinstance(value, Mapping):
        unknown = sorted(set(value) - set(channels) - {"default"})
        if unknown:
            raise SpecError(f"{what} names channel(s) {unknown} that are not in "
                            f"channel_columns {list(channels)}")
        default = value.get("default", "geometric" if what == "adstock" else "logistic")
        out = {c: str(value.get(c, default)) for c in channels}
    else:
        raise SpecError(f"{what} must be a form name or a mapping channel -> form name, "
                        f"got {value!r}")
    for name in set(out.values()):
        try:
            registry.get(name)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
    return out


def _channels_with(forms: dict[str, str], registry: Any, param: str) -> list[str]:
    return [c for c, f in forms.items() if param in registry.get(f).params]


def default_priors(adstock: str | Mapping[str, str] = "geometric",
                   saturation: str | Mapping[str, str] = "logistic",
                   trend: str = "none", media_prior: str = "default",
                   panel: bool = False) -> dict[str, Prior]:
    """Default priors by parameter name (``adstock_alpha``, ``saturation_lam``, ...).

    A parameter name shared by several forms has the same default prior in all of them
    (the registries' contract), so one entry per name is enough.
    """
    out: dict[str, Prior] = {}
    for registry, prefix, value in ((ADSTOCKS, "adstock", adstock),
                                    (SATURATIONS, "saturation", saturation)):
        names = [value] if isinstance(value, str) else list(dict(value).values())
        for name in dict.fromkeys(names):
            out.update({f"{prefix}_{k}": v for k, v in registry.get(name).priors.items()})
    out.update({name: PRIOR_DEFAULTS.get(name) for name in _BASE})
    out.update(_TREND_FORMS.get(trend).priors)
    if media_prior == "roi":
        out["roi"] = PRIOR_DEFAULTS.get("roi")
    if panel:
        channel_params = [k for k in out if k.startswith(("adstock_", "saturation_"))]
        spread = PRIOR_DEFAULTS.get("geo_spread")
        out.update({f"{k}_sigma": spread for k in channel_params})
        out["gamma_control_sigma"] = spread
    return out


#: Panels of at most this many cells share the curves' shapes and the controls by
#: default (``geo_shared="auto"``): a spread estimated from so few values is decided by
#: its prior. On ``growing_business`` (2 geos, 4 x 1000 x 1000) pooled shapes and
#: controls gave 560 divergent draws and r_hat 1.12; shared, none and 1.003
#: (docs/benchmarks.md, session 25).
FEW_GEOS = 3

#: The controls' effect site (geos may share it: ``geo_shared``)
GAMMA_CONTROL = "gamma_control"


def _names(value: Sequence[str] | str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    out = tuple(str(v) for v in value)
    if any(not v for v in out):
        raise SpecError(f"{what} contains an empty column name: {list(out)}")
    return out


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SpecError(f"Unknown {name} {value!r}; expected one of {list(choices)}")


@dataclass(frozen=True)
class ModelSpec:
    """What to fit: columns, transforms, baseline, priors and experiments.

    Parameters
    ----------
    date_column, y_column : str
        Date (``%Y-%m-%d``) and target columns.
    channel_columns : sequence of str
        Media columns: spend, or units (impressions) priced by ``cost_per_unit``.
    control_columns : sequence of str
        Control columns (not scaled; coefficients in scaled-target units per unit).
    adstock, saturation : str or mapping of channel to str
        Registered forms (``bayesmmm.transforms.ADSTOCKS`` / ``SATURATIONS``), one for
        all channels or chosen per channel (``{"tv": "weibull_pdf", "default":
        "geometric"}``). ``"geometric"`` + ``"logistic"`` is the classic model.
    adstock_max_lag : int
        Carry-over length ``l_max`` in periods (default 8).
    adstock_normalize : bool
        Carry-over weights sum to 1 (default), so adstock moves spend in time only.
    saturation_first : bool
        Apply saturation to the spend of each period before the carry-over (the reverse
        of the default adstock-then-saturation order).
    yearly_seasonality : int
        Number of Fourier modes of yearly seasonality (default 2; 0 disables).
    trend : str
        One of :data:`TRENDS`.
    trend_changepoints : int
        Number of changepoints of the ``piecewise`` trend (evenly spaced over the first
        80% of the data) or knots of the ``smooth`` trend.
    holidays : sequence of str
        Country codes (``"US"``, ``"GB"`` ...): each holiday becomes a control column
        ``holiday_<name>`` (days of the holiday in the period), from a calendar computed
        offline.
    events : mapping of str to list
        Named events: days (``"2023-11-24"``) or inclusive ranges (``["2023-07-01",
        "2023-07-14"]``); each becomes a control column ``event_<name>``.
    media_prior : str
        One of :data:`MEDIA_PRIORS`.
    cost_per_unit : mapping of channel to float
        Channels given in units (impressions, GRPs): spend = units x cost. ROI and
        budgets use spend; the model uses the units.
    panel_columns : sequence of str
        Long-format panel key (``["geo"]`` or ``["brand", "region"]``): a geo-hierarchical
        model with one intercept, seasonality, trend and noise per panel cell and channel
        parameters partially pooled across cells. One cell gives the national model.
    geo_shared : sequence of str or "auto"
        Parameters shared by all panel cells instead of partially pooled: channel
        parameters (e.g. ``["adstock_alpha"]``) and ``"gamma_control"`` (the controls'
        effects); ``[]`` pools every one. ``"auto"`` (default): on a panel of at most
        :data:`FEW_GEOS` cells the curves' shapes (every channel parameter but
        ``saturation_beta``) and the controls are shared, since a spread across so few
        cells is its prior's and pooling there gives the sampler a funnel; on more cells
        everything is pooled.
    lift_tests : sequence of LiftTest (or dicts)
        Experiments that calibrate the model: an extra likelihood term each.
    priors : mapping of str to Prior
        Overrides of :func:`default_priors` by parameter name; a list of values gives one
        per channel having that parameter.
    """

    date_column: str
    y_column: str
    channel_columns: tuple[str, ...]
    control_columns: tuple[str, ...] = ()
    adstock: str | Mapping[str, str] = "geometric"
    saturation: str | Mapping[str, str] = "logistic"
    adstock_max_lag: int = 8
    adstock_normalize: bool = True
    saturation_first: bool = False
    yearly_seasonality: int = 2
    trend: str = "none"
    trend_changepoints: int = 5
    holidays: tuple[str, ...] = ()
    events: Mapping[str, Any] = field(default_factory=dict)
    media_prior: str = "default"
    cost_per_unit: Mapping[str, float] = field(default_factory=dict)
    panel_columns: tuple[str, ...] = ()
    geo_shared: tuple[str, ...] | str = "auto"
    lift_tests: tuple[LiftTest, ...] = ()
    priors: Mapping[str, Prior] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "channel_columns", _names(self.channel_columns, "channel_columns"))
        set_(self, "control_columns", _names(self.control_columns, "control_columns"))
        set_(self, "panel_columns", _names(self.panel_columns, "panel_columns"))
        set_(self, "holidays", tuple(str(h).upper() for h in (
            [self.holidays] if isinstance(self.holidays, str) else self.holidays)))
        _check_int("adstock_max_lag", self.adstock_max_lag, 1)
        _check_int("yearly_seasonality", self.yearly_seasonality, 0)
        _check_int("trend_changepoints", self.trend_changepoints, 1)
        for flag in ("adstock_normalize", "saturation_first"):
            if not isinstance(getattr(self, flag), bool):
                raise SpecError(f"{flag} must be true or false, got {getattr(self, flag)!r}")
        _check_choice("trend", self.trend, TRENDS.names())
        _check_choice("media_prior", self.media_prior, MEDIA_PRIORS)
        ad = _forms(self.adstock, self.channel_columns, "adstock", ADSTOCKS)
        sat = _forms(self.saturation, self.channel_columns, "saturation", SATURATIONS)
        # One name when all channels share a form: the serialised spec stays simple.
        set_(self, "adstock", next(iter(ad.values())) if len(set(ad.values())) == 1 else ad)
        set_(self, "saturation",
             next(iter(sat.values())) if len(set(sat.values())) == 1 else sat)
        if self.media_prior == "roi" and any(
                SATURATIONS.get(f).contribution_fn is not None for f in sat.values()):
            raise SpecError("media_prior='roi' needs saturations where the contribution is "
                            "beta x curve; 'tanh' puts beta inside the curve. Fix: use "
                            "media_prior='default' or another saturation")
        set_(self, "cost_per_unit", self._check_costs())
        set_(self, "events", self._check_events())
        shared = self.geo_shared if self.geo_shared == "auto" \
            else _names(self.geo_shared, "geo_shared")
        set_(self, "geo_shared", shared)
        set_(self, "lift_tests", lift_tests_from(self.lift_tests, self.channel_columns))
        known = self.default_priors()
        allowed = [*self.channel_parameters(), GAMMA_CONTROL]
        for name in () if shared == "auto" else shared:
            if name not in allowed:
                raise SpecError(f"geo_shared: {name!r} is not a parameter that geos can "
                                f"share in this model; expected 'auto' or some of {allowed}")
        priors = {}
        for key, prior in dict(self.priors).items():
            if key not in known:
                raise SpecError(f"Unknown prior {key!r}; expected one of {sorted(known)}")
            priors[key] = prior if isinstance(prior, Prior) else Prior.from_dict(prior)
        set_(self, "priors", priors)
        self._check_names()
        for key, prior in priors.items():
            self._check_prior_size(key, prior)

    # -- validation helpers -------------------------------------------------------------
    def _check_costs(self) -> dict[str, float]:
        costs = dict(self.cost_per_unit)
        for ch, cost in costs.items():
            if ch not in self.channel_columns:
                raise SpecError(f"cost_per_unit names {ch!r}, which is not a channel column "
                                f"{list(self.channel_columns)}")
            if isinstance(cost, bool) or not isinstance(cost, int | float) or not cost > 0:
                raise SpecError(f"cost_per_unit[{ch!r}] must be a positive number (spend per "
                                f"unit), got {cost!r}")
        return {k: float(v) for k, v in costs.items()}

    def _check_events(self) -> dict[str, list[Any]]:
        if not isinstance(self.events, Mapping):
            raise SpecError("events must map an event name to a list of dates or "
                            f"[start, end] ranges, got {self.events!r}")
        out = {}
        for name, days in self.events.items():
            if isinstance(days, str) or not isinstance(days, Sequence) or not days:
                raise SpecError(f"event {name!r}: give a non-empty list of dates or [start, "
                                f"end] ranges, got {days!r}. Fix: {{{name!r}: ['2023-11-24']}}")
            out[str(name)] = [list(d) if isinstance(d, list | tuple) else str(d) for d in days]
        return out

    def _check_names(self) -> None:
        for name in (*self.channel_columns, *self.control_columns):
            if name in RESERVED_NAMES:
                raise SpecError(
                    f"column name {name!r} is reserved for a model component "
                    f"({sorted(RESERVED_NAMES)}). Fix: df = df.rename(columns={{{name!r}: "
                    f"'{name}_col'}}) and use '{name}_col'")

    def _param_size(self, key: str) -> int | None:
        """Number of elements a list-valued prior must have (None: a scalar parameter)."""
        if key.endswith("_sigma") and key != "trend_sigma":
            key = key[: -len("_sigma")]
        if key in ("gamma_control",):
            return len(self.control_columns)
        if key == "gamma_fourier":
            return 2 * self.yearly_seasonality
        if key == "roi" or key == "saturation_beta":
            return len(self.channel_columns)
        if key.startswith("adstock_"):
            return len(_channels_with(self.adstock_forms, ADSTOCKS, key[len("adstock_"):]))
        if key.startswith("saturation_"):
            return len(_channels_with(self.saturation_forms, SATURATIONS,
                                      key[len("saturation_"):]))
        return None

    def _check_prior_size(self, key: str, prior: Prior) -> None:
        """A list of values must have one value per element of the parameter's dimension."""
        size = self._param_size(key)
        for param, value in prior.params.items():
            if not isinstance(value, tuple):
                continue
            if size is None:
                raise SpecError(f"prior {key!r} is a single number, but '{param}' is a list "
                                f"{list(value)}. Fix: give one value, e.g. {value[0]}")
            if len(value) != size:
                raise SpecError(f"prior {key!r}: '{param}' has {len(value)} values but the "
                                f"parameter has {size}. Fix: give one value for all or "
                                f"exactly {size}")

    # -- accessors ----------------------------------------------------------------------
    @property
    def adstock_forms(self) -> dict[str, str]:
        """``{channel: adstock form}``."""
        return _forms(self.adstock, self.channel_columns, "adstock", ADSTOCKS)

    @property
    def saturation_forms(self) -> dict[str, str]:
        """``{channel: saturation form}``."""
        return _forms(self.saturation, self.channel_columns, "saturation", SATURATIONS)

    def channels_with(self, name: str) -> list[str]:
        """Channels that have parameter ``name`` (``adstock_alpha``, ``saturation_lam``)."""
        kind, _, param = name.partition("_")
        if kind == "adstock":
            return _channels_with(self.adstock_forms, ADSTOCKS, param)
        if param == "beta":
            return list(self.channel_columns)
        return _channels_with(self.saturation_forms, SATURATIONS, param)

    def channel_parameters(self) -> list[str]:
        """Names of the channel parameters (``adstock_alpha``, ..., ``saturation_beta``)."""
        out = []
        for c in self.channel_columns:
            out += [f"adstock_{p}" for p in ADSTOCKS.get(self.adstock_forms[c]).params]
            out += [f"saturation_{p}" for p in SATURATIONS.get(self.saturation_forms[c]).params]
        return [*dict.fromkeys(out), "saturation_beta"]

    def default_priors(self) -> dict[str, Prior]:
        return default_priors(self.adstock, self.saturation, self.trend, self.media_prior,
                              panel=bool(self.panel_columns))

    def prior(self, name: str) -> Prior:
        """The prior in force for parameter ``name`` (override or default)."""
        return self.priors.get(name) or self.default_priors()[name]

    def data_kwargs(self) -> dict[str, Any]:
        """The columns and options that :func:`bayesmmm.validate` / ``prepare`` take."""
        return {"date_column": self.date_column, "y_column": self.y_column,
                "channel_columns": self.channel_columns, "control_columns": self.control_columns,
                "adstock_max_lag": self.adstock_max_lag,
                "yearly_seasonality": self.yearly_seasonality,
                "panel_columns": self.panel_columns}

    def with_forms(self, adstock: str, saturation: str) -> ModelSpec:
        """This spec with one adstock and one saturation form on every channel; priors
        (and ``geo_shared`` entries) of parameters those forms do not have are left out
        (a prior on ``saturation_lam`` means nothing to a Hill curve)."""
        bare = self.replace(adstock=adstock, saturation=saturation, priors={}, geo_shared=[])
        known = bare.default_priors()
        shared = self.geo_shared if self.geo_shared == "auto" else [
            p for p in self.geo_shared if p in (*bare.channel_parameters(), GAMMA_CONTROL)]
        return bare.replace(priors={k: v for k, v in self.priors.items() if k in known},
                            geo_shared=shared)

    def shared_over(self, n_geos: int) -> tuple[str, ...]:
        """The parameters all ``n_geos`` geos share (``geo_shared`` with ``"auto"``
        resolved: see the class)."""
        if self.geo_shared != "auto":
            return tuple(self.geo_shared)
        if n_geos > FEW_GEOS:
            return ()
        return (*(p for p in self.channel_parameters() if p != "saturation_beta"),
                GAMMA_CONTROL)

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed (validated again)."""
        d = self.to_dict()
        d.update({k: (v.to_dict() if isinstance(v, Prior) else v) for k, v in changes.items()})
        return ModelSpec.from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "priors":
                value = {k: p.to_dict() for k, p in value.items()}
            elif f.name == "lift_tests":
                value = [t.to_dict() for t in value]
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def check_fields(cls, d: Mapping[str, Any]) -> None:
        """``SpecError`` naming unknown or missing required fields of ``d``."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(d) - allowed
        if unknown:
            raise SpecError(f"Unknown spec field(s) {sorted(unknown)}; expected {sorted(allowed)}")
        missing = {"date_column", "y_column", "channel_columns"} - set(d)
        if missing:
            raise SpecError(f"spec is missing required field(s) {sorted(missing)}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        cls.check_fields(d)
        kw = dict(d)
        priors = d.get("priors") or {}
        if not isinstance(priors, Mapping):
            raise SpecError(f"'priors' must map parameter names to priors, got {priors!r}")
        kw["priors"] = {k: v if isinstance(v, Prior) else Prior.from_dict(v)
                        for k, v in priors.items()}
        return cls(**kw)
