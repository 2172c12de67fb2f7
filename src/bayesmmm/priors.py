"""Priors as data: a frozen, serialisable description of a distribution.

A :class:`Prior` names a NumPyro distribution and its parameters. It round-trips
through :meth:`Prior.to_dict` / :meth:`Prior.from_dict`, so a model spec that holds
priors can be saved, sent over an API and reloaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpyro.distributions as dist
from numpyro.distributions import Distribution

from bayesmmm.errors import SpecError

__all__ = ["Prior", "ALLOWED_DISTRIBUTIONS"]

#: Distribution names a prior may use, mapped to the NumPyro class and its parameters.
ALLOWED_DISTRIBUTIONS: dict[str, tuple[type[dist.Distribution], tuple[str, ...]]] = {
    "Normal": (dist.Normal, ("loc", "scale")),
    "HalfNormal": (dist.HalfNormal, ("scale",)),
    "LogNormal": (dist.LogNormal, ("loc", "scale")),
    "Gamma": (dist.Gamma, ("concentration", "rate")),
    "Beta": (dist.Beta, ("concentration1", "concentration0")),
    "Laplace": (dist.Laplace, ("loc", "scale")),
    "Exponential": (dist.Exponential, ("rate",)),
    "HalfCauchy": (dist.HalfCauchy, ("scale",)),
    "StudentT": (dist.StudentT, ("df", "loc", "scale")),
    "TruncatedNormal": (dist.TruncatedNormal, ("loc", "scale", "low", "high")),
    "Uniform": (dist.Uniform, ("low", "high")),
}

_POSITIVE = {"scale", "concentration", "rate", "concentration1", "concentration0", "df"}


def _check_value(dist_name: str, key: str, value: Any) -> float | tuple[float, ...]:
    values = value if isinstance(value, list | tuple) else [value]
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise SpecError(
                f"prior {dist_name}: parameter '{key}' must be a finite number or a list of "
                f"numbers, got {value!r}. Fix: e.g. Prior('{dist_name}', {{'{key}': 1.0}})"
            )
        if key in _POSITIVE and v <= 0:
            raise SpecError(
                f"prior {dist_name}: parameter '{key}' must be > 0, got {v!r}."
                f" Fix: use a positive {key}."
            )
        out.append(float(v))
    return tuple(out) if isinstance(value, list | tuple) else out[0]


@dataclass(frozen=True)
class Prior:
    """A prior distribution as data.

    Parameters
    ----------
    dist : str
        Name of the distribution, one of :data:`ALLOWED_DISTRIBUTIONS`.
    params : Mapping[str, float | Sequence[float]]
        Parameters by NumPyro's names (e.g. ``{"loc": 0, "scale": 2}``); a list gives
        one value per element of the parameter's dimension (e.g. per channel).

    Examples
    --------
    >>> Prior("Beta", {"concentration1": 1, "concentration0": 3}).to_dict()
    {'dist': 'Beta', 'params': {'concentration1': 1.0, 'concentration0': 3.0}}
    """

    dist: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dist not in ALLOWED_DISTRIBUTIONS:
            raise SpecError(
                f"Unknown prior distribution {self.dist!r}; expected one of "
                f"{sorted(ALLOWED_DISTRIBUTIONS)}"
            )
        _, names = ALLOWED_DISTRIBUTIONS[self.dist]
        given = set(self.params)
        if given != set(names):
            raise SpecError(
                f"prior {self.dist} takes parameters {list(names)}, got {sorted(given)}."
                f" Fix: Prior('{self.dist}', {{{', '.join(repr(n) + ': ...' for n in names)}}})"
            )
        checked = {k: _check_value(self.dist, k, self.params[k]) for k in names}
        object.__setattr__(self, "params", checked)

    def __hash__(self) -> int:  # params is a dict: hash its (validated, hashable) items
        return hash((self.dist, tuple(sorted(self.params.items()))))

    def to_numpyro(self) -> Distribution:
        """Build the NumPyro distribution this prior describes."""
        cls, names = ALLOWED_DISTRIBUTIONS[self.dist]
        import jax.numpy as jnp

        return cls(*(jnp.asarray(self.params[n]) for n in names))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it."""
        return {
            "dist": self.dist,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Prior:
        """Rebuild a prior from :meth:`to_dict` output."""
        if not isinstance(d, Mapping) or "dist" not in d:
            raise SpecError(f"a prior must be a mapping with 'dist' and 'params', got {d!r}")
        return cls(str(d["dist"]), dict(d.get("params", {})))
