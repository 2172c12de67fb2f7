"""Goal, objective and bound types: validation and parsing."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from bayesmmm.errors import SpecError
from bayesmmm.optimize import (
    Bound,
    ExpectedSales,
    FixedBudget,
    MeanMinusSd,
    SalesQuantile,
    TargetMarginalROI,
    TargetROI,
    parse_amount,
    parse_bound,
    parse_objective,
)


@pytest.mark.parametrize(("text", "value"), [("500000", 5e5), ("500k", 5e5), ("1.5M", 1.5e6),
                                             ("2e6", 2e6), ("1,250,000", 1.25e6),
                                             ("-100k", -1e5), ("3b", 3e9)])
def test_parse_amount(text: str, value: float) -> None:
    assert parse_amount(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "5x", "1.2.3", "k"])
def test_parse_amount_rejects(text: str) -> None:
    with pytest.raises(SpecError, match="not an amount"):
        parse_amount(text)


@pytest.mark.parametrize(("text", "bound"), [
    ("0.5:2", Bound(0.5, 2.0, "multiple")),
    (":2", Bound(None, 2.0, "multiple")),
    ("0.5:", Bound(0.5, None, "multiple")),
    ("-30%:+20%", Bound(0.7, 1.2, "multiple")),
    ("-100%:", Bound(0.0, None, "multiple")),
    ("100k:250kabs", Bound(1e5, 2.5e5, "absolute")),
    ("0:1Mabs", Bound(0.0, 1e6, "absolute")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_parse_bound(text: str, bound: Bound) -> None:
    got = parse_bound(text)
    assert got.kind == bound.kind
    for side in ("low", "high"):
        want = getattr(bound, side)
        assert getattr(got, side) == (None if want is None else pytest.approx(want))


@pytest.mark.parametrize(("text", "message"), [
    ("2", "LOW:HIGH"), ("2:1", "above"), ("-150%:", "more than 100%"),
    ("+10%:+20%", "must be a cut"), ("-10%:-30%", "below the lower"),
    ("-5:1", ">= 0"), ("1%:2abs", "mixes"), ("a:b", "not an amount")])
def test_parse_bound_errors_name_the_rule(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_bound(text)


def test_bound_percent_is_a_multiple() -> None:
    b = Bound.percent(30, 20)
    assert (b.low, b.high, b.kind) == (pytest.approx(0.7), pytest.approx(1.2), "multiple")
    with pytest.raises(SpecError):
        Bound.percent(120, 0)
    with pytest.raises(SpecError, match="kind"):
        Bound(0, 1, "relative")  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [lambda: FixedBudget(0), lambda: FixedBudget(-5),
                                  lambda: TargetROI(0), lambda: TargetMarginalROI(float("nan")),
                                  lambda: SalesQuantile(1.0), lambda: MeanMinusSd(-1),
                                  lambda: FixedBudget(True)])  # type: ignore[arg-type]
def test_goals_validate_themselves(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError):
        make()


def test_objectives_reduce_draws() -> None:
    draws = jnp.asarray(np.arange(101, dtype=float))
    assert float(ExpectedSales().reduce(draws)) == pytest.approx(50.0)
    assert float(SalesQuantile(0.1).reduce(draws)) == pytest.approx(10.0)
    assert float(MeanMinusSd(2.0).reduce(draws)) == pytest.approx(50 - 2 * np.std(np.arange(101)))


@pytest.mark.parametrize(("text", "objective"), [("mean", ExpectedSales()),
                                                  ("q10", SalesQuantile(0.1)),
                                                  ("q0.25", SalesQuantile(0.25)),
                                                  ("mean-1sd", MeanMinusSd(1.0)),
                                                  ("mean - 0.5sd", MeanMinusSd(0.5))])
def test_parse_objective(text: str, objective: object) -> None:
    assert parse_objective(text) == objective


def test_parse_objective_unknown() -> None:
    with pytest.raises(SpecError, match="Unknown objective"):
        parse_objective("median")
