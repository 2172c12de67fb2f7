"""The model specification: frozen, validated on creation, serialisable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bayesmmm.errors import SpecError
from bayesmmm.priors import Prior
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["RESERVED_NAMES", "ModelSpec", "default_priors"]

#: Names of model components; a column with one of these names would be ambiguous in
#: contributions, so the spec refuses it.
RESERVED_NAMES = frozenset({"intercept", "seasonality"})

_BASE_PRIORS: dict[str, Prior] = {
    "intercept": Prior("Normal", {"loc": 0, "scale": 2}),
    "gamma_control": Prior("Normal", {"loc": 0, "scale": 2}),
    "gamma_fourier": Prior("Laplace", {"loc": 0, "scale": 1}),
    "y_sigma": Prior("HalfNormal", {"scale": 2}),
}


def default_priors(adstock: str = "geometric", saturation: str = "logistic") -> dict[str, Prior]:
    """Default priors by parameter name (``adstock_alpha``, ``saturation_lam``, ...)."""
    out = {f"adstock_{k}": v for k, v in ADSTOCKS.get(adstock).priors.items()}
    out.update({f"saturation_{k}": v for k, v in SATURATIONS.get(saturation).priors.items()})
    out.update(_BASE_PRIORS)
    return out


def _names(value: Sequence[str] | str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    out = tuple(str(v) for v in value)
    if any(not v for v in out):
        raise SpecError(f"{what} contains an empty column name: {list(out)}")
    return out


@dataclass(frozen=True)
class ModelSpec:
    """What to fit: columns, transforms and priors of the classic MMM.

    Parameters
    ----------
    date_column, y_column : str
        Date (``%Y-%m-%d``) and target columns.
    channel_columns : sequence of str
        Media spend columns.
    control_columns : sequence of str
        Control columns (not scaled; coefficients in original units).
    adstock, saturation : str
        Registered forms; ``"geometric"`` and ``"logistic"`` make the classic model.
    adstock_max_lag : int
        Carry-over length ``l_max`` in periods (default 8).
    yearly_seasonality : int
        Number of Fourier modes of yearly seasonality (default 2; 0 disables).
    priors : mapping of str to Prior
        Overrides of :func:`default_priors` by parameter name.
    """

    date_column: str
    y_column: str
    channel_columns: tuple[str, ...]
    control_columns: tuple[str, ...] = ()
    adstock: str = "geometric"
    saturation: str = "logistic"
    adstock_max_lag: int = 8
    yearly_seasonality: int = 2
    priors: Mapping[str, Prior] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_columns", _names(self.channel_columns, "channel_columns"))
        object.__setattr__(self, "control_columns", _names(self.control_columns, "control_columns"))
        for name in ("adstock_max_lag", "yearly_seasonality"):
            value = getattr(self, name)
            low = 1 if name == "adstock_max_lag" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SpecError(f"{name} must be an integer >= {low}, got {value!r}")
        try:
            ADSTOCKS.get(self.adstock)
            SATURATIONS.get(self.saturation)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        known = default_priors(self.adstock, self.saturation)
        priors = {}
        for key, prior in dict(self.priors).items():
            if key not in known:
                raise SpecError(f"Unknown prior {key!r}; expected one of {sorted(known)}")
            priors[key] = prior if isinstance(prior, Prior) else Prior.from_dict(prior)
        object.__setattr__(self, "priors", priors)
        self._check_names()
        for key, prior in priors.items():
            self._check_prior_size(key, prior)

    def _check_names(self) -> None:
        for name in (*self.channel_columns, *self.control_columns):
            if name in RESERVED_NAMES:
                raise SpecError(
                    f"column name {name!r} is reserved for a model component "
                    f"({sorted(RESERVED_NAMES)}). Fix: df = df.rename(columns={{{name!r}: "
                    f"'{name}_col'}}) and use '{name}_col'")

    def _check_prior_size(self, key: str, prior: Prior) -> None:
        """A list of values must have one value per element of the parameter's dimension."""
        sizes = {"gamma_control": len(self.control_columns),
                 "gamma_fourier": 2 * self.yearly_seasonality,
                 "intercept": None, "y_sigma": None}
        size = sizes.get(key, len(self.channel_columns))  # adstock_* / saturation_*
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

    def prior(self, name: str) -> Prior:
        """The prior in force for parameter ``name`` (override or default)."""
        return self.priors.get(name) or default_priors(self.adstock, self.saturation)[name]

    def data_kwargs(self) -> dict[str, Any]:
        """The columns and options that :func:`bayesmmm.validate` / ``prepare`` take."""
        return {"date_column": self.date_column, "y_column": self.y_column,
                "channel_columns": self.channel_columns, "control_columns": self.control_columns,
                "adstock_max_lag": self.adstock_max_lag,
                "yearly_seasonality": self.yearly_seasonality}

    def to_dict(self) -> dict[str, Any]:
        return {
            "date_column": self.date_column,
            "y_column": self.y_column,
            "channel_columns": list(self.channel_columns),
            "control_columns": list(self.control_columns),
            "adstock": self.adstock,
            "saturation": self.saturation,
            "adstock_max_lag": self.adstock_max_lag,
            "yearly_seasonality": self.yearly_seasonality,
            "priors": {k: p.to_dict() for k, p in self.priors.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        allowed = set(cls.__dataclass_fields__)
        unknown = set(d) - allowed
        if unknown:
            raise SpecError(f"Unknown spec field(s) {sorted(unknown)}; expected {sorted(allowed)}")
        missing = {"date_column", "y_column", "channel_columns"} - set(d)
        if missing:
            raise SpecError(f"spec is missing required field(s) {sorted(missing)}")
        kw = dict(d)
        priors = d.get("priors") or {}
        if not isinstance(priors, Mapping):
            raise SpecError(f"'priors' must map parameter names to priors, got {priors!r}")
        kw["priors"] = {k: Prior.from_dict(v) for k, v in priors.items()}
        return cls(**kw)
