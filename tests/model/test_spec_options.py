"""ModelSpec options beyond the classic model: validated, serialisable, explained."""

from __future__ import annotations

import json

import pytest

import bayesmmm as bm
from bayesmmm.errors import SpecError
from bayesmmm.model import PRESETS, LiftTest, preset_spec
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

BASE = {"date_column": "d", "y_column": "y", "channel_columns": ["tv", "search", "social"]}


def test_full_spec_round_trips_through_json() -> None:
    spec = bm.ModelSpec(
        **BASE, control_columns=["price"], adstock={"tv": "weibull_pdf", "default": "geometric"},
        saturation={"search": "hill"}, adstock_max_lag=6, adstock_normalize=False,
        saturation_first=True, trend="piecewise", trend_changepoints=3, holidays=["us"],
        events={"black_friday": ["2023-11-24", ["2022-11-25", "2022-11-27"]]},
        media_prior="spend_share", cost_per_unit={"tv": 12.5}, panel_columns=["geo"],
        geo_shared=["adstock_alpha"],
        lift_tests=[{"channel": "tv", "start": "2023-03-06", "end": "2023-03-27",
                     "spend_change": 5000, "lift": 8000, "lift_se": 1500, "panel": "north"}],
        priors={"saturation_kappa": bm.Prior("Gamma", {"concentration": 2, "rate": 3}),
                "adstock_alpha_sigma": bm.Prior("HalfNormal", {"scale": 0.1})})
    again = bm.ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.adstock_forms == {"tv": "weibull_pdf", "search": "geometric",
                                   "social": "geometric"}
    assert again.saturation_forms["search"] == "hill"
    assert again.holidays == ("US",)
    assert again.lift_tests[0] == LiftTest("tv", "2023-03-06", "2023-03-27", 5000.0, 8000.0,
                                           1500.0, "north")
    # parameters only of the channels whose forms have them
    assert again.channels_with("adstock_alpha") == ["search", "social"]
    assert again.channels_with("adstock_lam") == ["tv"]
    assert again.channels_with("saturation_kappa") == ["search"]
    assert again.channels_with("saturation_beta") == ["tv", "search", "social"]


def test_one_form_for_all_channels_serialises_as_a_name() -> None:
    spec = bm.ModelSpec(**BASE, adstock={"default": "delayed"})
    assert spec.adstock == "delayed" and spec.to_dict()["adstock"] == "delayed"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"adstock": {"radio": "geometric"}}, r"names channel\(s\) \['radio'\]"),
        ({"saturation": {"tv": "hil"}}, "Unknown saturation 'hil'"),
        ({"trend": "cubic"}, "Unknown trend 'cubic'; expected one of"),
        ({"media_prior": "costs"}, "Unknown media_prior 'costs'"),
        ({"media_prior": "roi", "saturation": "tanh"}, "media_prior='roi' needs"),
        ({"cost_per_unit": {"tv": 0}}, r"cost_per_unit\['tv'\] must be a positive number"),
        ({"cost_per_unit": {"radio": 2.0}}, "cost_per_unit names 'radio'"),
        ({"events": {"sale": "2023-01-01"}}, "event 'sale': give a non-empty list"),
        ({"geo_shared": ["intercept"]}, "geo_shared: 'intercept' is not a parameter that geos"),
        ({"trend_changepoints": 0}, "trend_changepoints must be an integer >= 1"),
        ({"saturation_first": "yes"}, "saturation_first must be true or false"),
        ({"priors": {"trend_slope": bm.Prior("Normal", {"loc": 0, "scale": 1})}},
         "Unknown prior 'trend_slope'"),
        ({"priors": {"adstock_alpha": bm.Prior("Beta", {"concentration1": [1, 2, 3, 4],
                                                        "concentration0": 3})}},
         "'concentration1' has 4 values but the parameter has 3"),
        ({"lift_tests": [{"channel": "radio", "start": "2023-01-02", "end": "2023-01-09",
                          "spend_change": 1, "lift": 1, "lift_se": 1}]},
         "lift test #1 \\('radio'\\): channel is not one of"),
        ({"lift_tests": [{"channel": "tv", "start": "2023-01-09", "end": "2023-01-02",
                          "spend_change": 1, "lift": 1, "lift_se": 1}]}, "end .* is before start"),
        ({"lift_tests": [{"channel": "tv", "start": "2023-01-02", "end": "2023-01-09",
                          "spend_change": 1, "lift": 1, "lift_se": 0}]}, "lift_se must be > 0"),
        ({"lift_tests": [{"channel": "tv", "start": "2023-01-02", "end": "2023-01-09",
                          "spend_change": 1, "lift": 1}]}, r"missing \['lift_se'\]"),
        ({"channel_columns": ["trend"]}, "column name 'trend' is reserved"),
    ],
)
def test_bad_options_are_explained(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        bm.ModelSpec(**{**BASE, **kwargs})


def test_prior_keys_follow_the_options() -> None:
    spec = bm.ModelSpec(**BASE, trend="power", media_prior="roi", panel_columns=["geo"])
    known = spec.default_priors()
    assert {"trend_coef", "trend_exponent", "roi", "adstock_alpha_sigma",
            "saturation_beta_sigma", "gamma_control_sigma"} <= set(known)
    assert known["roi"].to_dict() == {"dist": "LogNormal", "params": {"loc": 0.2, "scale": 0.9}}


@pytest.mark.parametrize("name", PRESETS.names())
def test_presets_carry_lightweightmmm_priors(name: str) -> None:
    spec = preset_spec(name, **BASE)
    if name == "classic":
        assert spec == bm.ModelSpec(**BASE)
        return
    assert spec.media_prior == "spend_share" and spec.trend == "power"
    assert spec.prior("intercept").to_dict() == {"dist": "HalfNormal", "params": {"scale": 2.0}}
    assert spec.prior("y_sigma").dist == "Gamma"
    assert spec.prior("trend_exponent").params == {"low": 0.5, "high": 1.5}
    expected = {"adstock": ("geometric", "power"), "hill_adstock": ("geometric", "hill"),
                "carryover": ("carryover", "power")}[name]
    assert (spec.adstock, spec.saturation) == expected
    if name != "carryover":
        assert spec.prior("adstock_alpha").params == {"concentration1": 2.0,
                                                      "concentration0": 1.0}
    if "power" in expected:
        assert spec.prior("saturation_rho").params == {"concentration1": 9.0,
                                                       "concentration0": 1.0}
    # explicit options win, priors merge
    custom = preset_spec(name, **BASE, adstock_max_lag=4,
                         priors={"y_sigma": bm.Prior("HalfNormal", {"scale": 1})})
    assert custom.adstock_max_lag == 4 and custom.prior("y_sigma").dist == "HalfNormal"
    assert custom.prior("intercept").dist == "HalfNormal"


def test_unknown_preset_lists_choices() -> None:
    with pytest.raises(SpecError, match="Unknown preset 'hill'; expected one of"):
        preset_spec("hill", **BASE)


FORM_CASES = [("adstock", n) for n in ADSTOCKS.names()] + \
    [("saturation", n) for n in SATURATIONS.names()]


@pytest.mark.parametrize(("kind", "form"), FORM_CASES, ids=[f"{k}-{f}" for k, f in FORM_CASES])
def test_every_registered_form_round_trips_in_a_spec(kind: str, form: str) -> None:
    registry = ADSTOCKS if kind == "adstock" else SATURATIONS
    spec = bm.ModelSpec(**BASE, **{kind: {"tv": form}}, panel_columns=["geo"])
    again = bm.ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    forms = again.adstock_forms if kind == "adstock" else again.saturation_forms
    assert forms["tv"] == form
    for p in registry.get(form).params:
        name = f"{kind}_{p}"
        assert "tv" in again.channels_with(name)
        assert again.prior(name) == registry.get(form).priors[p]
        assert f"{name}_sigma" in again.default_priors()  # pooled across geos
