"""ModelSpec and Prior: validated on creation, round-trip through dicts."""

from __future__ import annotations

import json

import pytest

import bayesmmm as bm
from bayesmmm.errors import SpecError
from bayesmmm.model import default_priors


def test_spec_round_trips_through_json() -> None:
    spec = bm.ModelSpec("d", "y", ["tv", "search"], ["price"], adstock_max_lag=4,
                        yearly_seasonality=3,
                        priors={"saturation_lam": bm.Prior("Gamma",
                                                           {"concentration": 2, "rate": 1})})
    again = bm.ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.prior("saturation_lam").params == {"concentration": 2.0, "rate": 1.0}
    assert again.prior("adstock_alpha") == default_priors()["adstock_alpha"]


def test_default_priors_match_design() -> None:
    p = {k: v.to_dict() for k, v in default_priors().items()}
    assert p["adstock_alpha"] == {"dist": "Beta",
                                  "params": {"concentration1": 1.0, "concentration0": 3.0}}
    assert p["saturation_lam"]["dist"] == "Gamma"
    assert p["saturation_lam"]["params"] == {"concentration": 3.0, "rate": 1.0}
    assert p["saturation_beta"] == {"dist": "HalfNormal", "params": {"scale": 2.0}}
    assert p["intercept"] == {"dist": "Normal", "params": {"loc": 0.0, "scale": 2.0}}
    assert p["gamma_control"] == {"dist": "Normal", "params": {"loc": 0.0, "scale": 2.0}}
    assert p["gamma_fourier"] == {"dist": "Laplace", "params": {"loc": 0.0, "scale": 1.0}}
    assert p["y_sigma"] == {"dist": "HalfNormal", "params": {"scale": 2.0}}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"adstock_max_lag": 0}, "adstock_max_lag must be an integer >= 1"),
        ({"yearly_seasonality": -1}, "yearly_seasonality must be an integer >= 0"),
        ({"adstock": "geo"}, "Unknown adstock 'geo'; expected one of"),
        ({"saturation": "hilll"}, "Unknown saturation 'hilll'"),
        ({"priors": {"saturation_lambda": bm.Prior("Normal", {"loc": 0, "scale": 1})}},
         "Unknown prior 'saturation_lambda'"),
        ({"channel_columns": ["tv", ""]}, "empty column name"),
    ],
)
def test_spec_rejects_bad_values(kwargs: dict, message: str) -> None:
    base = {"date_column": "d", "y_column": "y", "channel_columns": ["tv"]}
    with pytest.raises(SpecError, match=message):
        bm.ModelSpec(**{**base, **kwargs})


def test_spec_from_dict_rejects_unknown_and_missing_fields() -> None:
    with pytest.raises(SpecError, match=r"Unknown spec field\(s\) \['chanels'\]"):
        bm.ModelSpec.from_dict({"date_column": "d", "y_column": "y", "chanels": ["tv"]})
    with pytest.raises(SpecError, match="missing required field"):
        bm.ModelSpec.from_dict({"date_column": "d", "y_column": "y"})


@pytest.mark.parametrize(
    ("dist", "params", "message"),
    [
        ("Cauchy2", {"scale": 1}, "Unknown prior distribution 'Cauchy2'; expected one of"),
        ("Normal", {"mu": 0, "sigma": 1}, r"takes parameters \['loc', 'scale'\]"),
        ("HalfNormal", {"scale": -1}, "'scale' must be > 0"),
        ("Normal", {"loc": float("nan"), "scale": 1}, "must be a finite number"),
        ("Normal", {"loc": "zero", "scale": 1}, "must be a finite number"),
    ],
)
def test_prior_rejects_bad_values(dist: str, params: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        bm.Prior(dist, params)


def test_prior_per_channel_values_round_trip() -> None:
    prior = bm.Prior("HalfNormal", {"scale": [1.0, 0.5]})
    assert bm.Prior.from_dict(prior.to_dict()) == prior
    assert prior.to_numpyro().scale.shape == (2,)


def test_data_kwargs_feed_validate(example_df) -> None:  # type: ignore[no-untyped-def]
    spec = bm.example_spec()
    report = bm.validate(example_df, **spec.data_kwargs())
    assert report.ok and spec.data_kwargs()["adstock_max_lag"] == 8


@pytest.mark.parametrize("name", ["intercept", "seasonality"])
def test_reserved_column_names_refused(name: str) -> None:
    with pytest.raises(SpecError, match=f"column name '{name}' is reserved"):
        bm.ModelSpec("d", "y", ["tv"], [name])


def test_prior_lists_must_match_the_dimension() -> None:
    with pytest.raises(SpecError, match="'saturation_lam': 'rate' has 3 values but the parameter"
                                        " has 2"):
        bm.ModelSpec("d", "y", ["tv", "radio"], priors={
            "saturation_lam": bm.Prior("Gamma", {"concentration": 3, "rate": [1, 1, 1]})})
    with pytest.raises(SpecError, match="prior 'intercept' is a single number"):
        bm.ModelSpec("d", "y", ["tv"], priors={
            "intercept": bm.Prior("Normal", {"loc": [0, 0], "scale": 2})})
    ok = bm.ModelSpec("d", "y", ["tv"], ["a", "b"], priors={
        "gamma_control": bm.Prior("Normal", {"loc": 0, "scale": [1, 2]})})
    assert ok.prior("gamma_control").params["scale"] == (1.0, 2.0)


def test_priors_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="'priors' must map parameter names"):
        bm.ModelSpec.from_dict({"date_column": "d", "y_column": "y", "channel_columns": ["tv"],
                                "priors": [1]})
