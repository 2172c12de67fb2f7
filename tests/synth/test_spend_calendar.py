"""Spend patterns and the holiday calendar, against hand-checked dates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmmm.synth import HOLIDAYS, PATTERNS, holiday_weeks, simulate_preset, spend_pattern


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("n", [30, 104, 208])
def test_every_pattern_is_usable(pattern: str, n: int) -> None:
    for seed in range(5):
        x = spend_pattern(pattern, n, 250.0, np.random.default_rng(seed))  # type: ignore[arg-type]
        assert x.shape == (n,) and (x >= 0).all() and (x > 0).sum() >= 2
        assert x.mean() == pytest.approx(250.0)


@pytest.mark.parametrize("pattern", ["campaign", "on_off", "flighted", "launch"])
def test_patterns_with_dark_weeks(pattern: str) -> None:
    x = spend_pattern(pattern, 156, 1.0, np.random.default_rng(1))  # type: ignore[arg-type]
    assert 0.05 < (x == 0).mean() < 0.95


def test_launch_zero_before_then_at_least_20_weeks() -> None:
    for seed in range(20):
        x = spend_pattern("launch", 40, 1.0, np.random.default_rng(seed))
        first = int(np.argmax(x > 0))
        assert first >= 4 and (x[:first] == 0).all() and (x[first:] > 0).all()
        assert len(x) - first >= 20


def test_launch_needs_enough_weeks() -> None:
    assert (spend_pattern("launch", 24, 1.0, np.random.default_rng(0)) > 0).sum() == 20
    with pytest.raises(ValueError, match="'launch' needs at least 24 weeks, got 23"):
        spend_pattern("launch", 23, 1.0, np.random.default_rng(0))


@pytest.mark.parametrize(("year", "day"), [(2021, dt.date(2021, 4, 4)),
                                           (2024, dt.date(2024, 3, 31)),
                                           (2025, dt.date(2025, 4, 20))])
def test_easter(year: int, day: dt.date) -> None:
    assert HOLIDAYS["easter"](year) == day


def test_us_holidays_by_date_arithmetic() -> None:
    assert HOLIDAYS["thanksgiving"](2023) == dt.date(2023, 11, 23)
    assert HOLIDAYS["black_friday"](2024) == dt.date(2024, 11, 29)
    assert HOLIDAYS["labor_day"](2022) == dt.date(2022, 9, 5)


def test_holiday_weeks_mark_the_week_that_contains_the_day() -> None:
    dates = pd.date_range("2023-11-13", periods=9, freq="7D")  # Mondays to 2024-01-08
    flags = holiday_weeks(dates, ["black_friday", "christmas", "new_year"])
    marked = [d.strftime("%Y-%m-%d") for d, f in zip(dates, flags, strict=True) if f]
    # Black Friday 2023-11-24 (week of 11-20), Christmas Monday 2023-12-25,
    # New Year 2024-01-01 (its own Monday).
    assert marked == ["2023-11-20", "2023-12-25", "2024-01-01"]
    with pytest.raises(ValueError, match="Unknown holiday"):
        holiday_weeks(dates, ["xmas"])


def test_simulation_save_keeps_its_two_paths(tmp_path: Path) -> None:
    sim = simulate_preset("small_business", seed=1)
    data, truth = sim.save(tmp_path)
    assert (data.name, truth.name) == ("data.csv", "truth.json")
    assert json.loads((tmp_path / "spec.json").read_text()) == sim.spec_kwargs
