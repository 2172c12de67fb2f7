"""Named model presets: the classic model and LightweightMMM's three models.

LightweightMMM (Google, 2022) offers ``adstock``, ``hill_adstock`` and ``carryover``
models. The presets give the same structure and the same published default priors, so
its users can switch without surprises:

* media coefficient ``HalfNormal(scale = cost share x n_channels)`` (LightweightMMM's
  ``media_prior`` = costs divided by their mean): ``media_prior='spend_share'`` with
  ``saturation_beta ~ HalfNormal(1)``;
* ``intercept ~ HalfNormal(2)``, ``coef_trend ~ Normal(0, 1)``, ``expo_trend ~
  Uniform(0.5, 1.5)`` (our ``trend='power'``), ``sigma ~ Gamma(1, 1)``,
  ``gamma_seasonality ~ Normal(0, 1)`` with 2 Fourier degrees,
  ``coef_extra_features ~ Normal(0, 1)``;
* ``adstock``: geometric adstock ``lag_weight ~ Beta(2, 1)`` (normalised), then an
  exponent ``~ Beta(9, 1)`` (our ``power`` saturation);
* ``hill_adstock``: the same adstock, then Hill with ``half_max_effective_concentration
  ~ Gamma(1, 1)`` and ``slope ~ Gamma(1, 1)``;
* ``carryover``: ``ad_effect_retention_rate ~ Beta(1, 1)``, ``peak_effect_delay ~
  HalfNormal(2)`` over 13 lags, then the exponent ``~ Beta(9, 1)``.

Differences that remain: LightweightMMM divides media and target by their means, we
by their max (priors of shape parameters are scale-free; Hill's half-saturation point
is in units of the max rather than the mean); its geometric adstock is recursive
(infinite), ours is truncated at ``adstock_max_lag`` (13 here, weights beyond are
< 2e-4 of the first for ``lag_weight`` <= 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bayesmmm.errors import SpecError
from bayesmmm.model._spec import ModelSpec
from bayesmmm.priors import Prior
from bayesmmm.transforms import Registry

__all__ = ["PRESETS", "preset_spec", "spec_from_options"]


def _lightweight_base() -> dict[str, Any]:
    return {
        "trend": "power", "yearly_seasonality": 2, "media_prior": "spend_share",
        "adstock_max_lag": 13,
        "priors": {
            "intercept": Prior("HalfNormal", {"scale": 2}),
            "trend_coef": Prior("Normal", {"loc": 0, "scale": 1}),
            "trend_exponent": Prior("Uniform", {"low": 0.5, "high": 1.5}),
            "y_sigma": Prior("Gamma", {"concentration": 1, "rate": 1}),
            "gamma_fourier": Prior("Normal", {"loc": 0, "scale": 1}),
            "gamma_control": Prior("Normal", {"loc": 0, "scale": 1}),
            "saturation_beta": Prior("HalfNormal", {"scale": 1}),
        },
    }


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    priors = {**base["priors"], **changes.pop("priors", {})}
    return {**base, **changes, "priors": priors}


PRESETS: Registry[dict[str, Any]] = Registry("preset")
PRESETS.add("classic", {})  # DESIGN.md's classic model: the ModelSpec defaults
PRESETS.add("adstock", _with(
    _lightweight_base(), adstock="geometric", saturation="power",
    priors={"adstock_alpha": Prior("Beta", {"concentration1": 2, "concentration0": 1}),
            "saturation_rho": Prior("Beta", {"concentration1": 9, "concentration0": 1})}))
PRESETS.add("hill_adstock", _with(
    _lightweight_base(), adstock="geometric", saturation="hill",
    priors={"adstock_alpha": Prior("Beta", {"concentration1": 2, "concentration0": 1}),
            "saturation_kappa": Prior("Gamma", {"concentration": 1, "rate": 1}),
            "saturation_slope": Prior("Gamma", {"concentration": 1, "rate": 1})}))
PRESETS.add("carryover", _with(
    _lightweight_base(), adstock="carryover", saturation="power",
    priors={"adstock_retention": Prior("Beta", {"concentration1": 1, "concentration0": 1}),
            "adstock_peak": Prior("HalfNormal", {"scale": 2}),
            "saturation_rho": Prior("Beta", {"concentration1": 9, "concentration0": 1})}))


def preset_spec(name: str, **columns: Any) -> ModelSpec:
    """A :class:`ModelSpec` for preset ``name`` (``classic``, ``adstock``,
    ``hill_adstock``, ``carryover``) and the given columns and options.

    Options passed explicitly override the preset's, and ``priors`` are merged.

    Examples
    --------
    >>> spec = preset_spec("hill_adstock", date_column="week", y_column="sales",
    ...                    channel_columns=["tv", "search"])
    >>> spec.saturation, spec.prior("saturation_slope").dist
    ('hill', 'Gamma')
    """
    try:
        base = PRESETS.get(name)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    kw = _with({"priors": {}, **base}, **columns) if base else dict(columns)
    return ModelSpec(**kw)


def spec_from_options(options: Mapping[str, Any], preset: str | None = None) -> ModelSpec:
    """The spec a surface's merged options ask for: ``options`` (spec fields, as from a
    config file, flags or a request) over the preset's, or over the spec defaults.

    The one merge rule of the CLI, config files and the service: fields given explicitly
    win over the preset's and ``priors`` are merged (:func:`preset_spec`). Unknown or
    missing fields are a ``SpecError`` naming them.
    """
    ModelSpec.check_fields(options)
    priors = options.get("priors")
    if priors is not None and not isinstance(priors, Mapping):
        raise SpecError(f"'priors' must map parameter names to priors, got {priors!r}")
    return preset_spec(preset, **options) if preset is not None \
        else ModelSpec.from_dict(options)
