"""estimate_time: a range around the expected seconds, from a pilot chain on the data."""

from __future__ import annotations

import os

import pytest

import bayesmmm as bm
from bayesmmm.model import estimate_time
from bayesmmm.model._estimate import SAMPLING_STEPS


@pytest.fixture(scope="module")
def data_and_spec() -> tuple[object, bm.ModelSpec]:
    return bm.example_data(), bm.example_spec()


def test_the_estimate_is_a_range_built_from_measured_parts(data_and_spec) -> None:
    data, spec = data_and_spec
    guess = estimate_time(data, spec, chains=2, warmup=300, draws=300)
    assert 0 < guess.low < guess.expected < guess.high
    assert guess.seconds_per_step > 0 and guess.steps_per_iteration >= 1
    assert guess.parallel == min(2, os.cpu_count() or 1)
    work = guess.expected - guess.compile_seconds
    # warm-up iterations at the pilot's steps, draws at SAMPLING_STEPS of them
    assert work == pytest.approx((300 + SAMPLING_STEPS * 300) * -(-2 // guess.parallel)
                                 * guess.steps_per_iteration * guess.seconds_per_step)
    assert "leapfrog steps per iteration" in guess.describe()


def test_more_iterations_or_chains_than_cores_take_longer(data_and_spec) -> None:
    data, spec = data_and_spec
    short = estimate_time(data, spec, chains=1, warmup=100, draws=100)
    long = estimate_time(data, spec, chains=1, warmup=1000, draws=1000)
    ratio = ((long.expected - long.compile_seconds) / long.steps_per_iteration
             / long.seconds_per_step) / ((short.expected - short.compile_seconds)
                                         / short.steps_per_iteration / short.seconds_per_step)
    assert ratio == pytest.approx(10)


def test_bad_options_are_refused_before_any_pilot(data_and_spec) -> None:
    data, spec = data_and_spec
    with pytest.raises((ValueError, TypeError), match="chains"):
        estimate_time(data, spec, chains=0)


def test_an_advi_start_adds_its_optimisation(data_and_spec) -> None:
    from bayesmmm.model._approx import PARTICLES

    data, spec = data_and_spec
    guess = estimate_time(data, spec, chains=2, warmup=300, draws=300, init="advi",
                          approx_steps=1000)
    sampling = ((300 + SAMPLING_STEPS * 300) * -(-2 // guess.parallel)
                * guess.steps_per_iteration * guess.seconds_per_step)
    start = 1000 * PARTICLES * 2 * guess.seconds_per_step
    assert guess.expected - guess.compile_seconds == pytest.approx(sampling + start)
