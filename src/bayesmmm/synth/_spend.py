"""Weekly spend shapes: how real advertisers buy media."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

__all__ = ["PATTERNS", "Pattern", "spend_pattern"]

Pattern = Literal["always_on", "seasonal", "flighted", "bursts", "campaign", "launch", "on_off"]

#: Every spend pattern :func:`spend_pattern` knows.
PATTERNS: tuple[str, ...] = get_args(Pattern)

#: A launched channel spends in at least this many weeks (enough to learn its effect).
MIN_WEEKS_AFTER_LAUNCH = 20


def spend_pattern(pattern: Pattern, n: int, mean: float, rng: np.random.Generator) -> np.ndarray:
    """Weekly spend with a realistic shape, mean about ``mean``, never negative.

    Parameters
    ----------
    pattern : str
        ``always_on``: every week, lognormal noise; ``seasonal``: a yearly wave;
        ``flighted``: on/off blocks of 3-8 weeks; ``bursts``: a low base with campaign
        spikes; ``campaign``: dark except a few campaigns of 1-4 weeks; ``launch``: zero
        until a launch week, then a ramp to always-on (at least 20 weeks of spend);
        ``on_off``: rare long blocks on (6-20 weeks) and off (8-26 weeks).
    n : int
        Number of weeks.
    mean : float
        Mean weekly spend over all ``n`` weeks.
    rng : numpy Generator

    Returns
    -------
    ndarray, shape ``(n,)``; never all zero.
    """
    t = np.arange(n)
    noise = rng.lognormal(0.0, 0.35, n)
    if pattern == "always_on":
        x = noise
    elif pattern == "seasonal":
        x = (1 + 0.6 * np.sin(2 * np.pi * (t / 52.18 + rng.uniform()))) * noise
    elif pattern == "flighted":  # on/off blocks of 3-8 weeks
        x = np.where(_blocks(n, (3, 9), (3, 9), rng), 2 * noise, 0.0)
    elif pattern == "bursts":  # low base with campaign spikes
        x = 0.4 * noise + np.where(rng.uniform(size=n) < 0.12, rng.uniform(2, 6, n), 0.0)
    elif pattern == "campaign":
        x = _campaigns(noise, rng)
    elif pattern == "launch":
        x = _launch(noise, rng)
    elif pattern == "on_off":
        x = np.where(_blocks(n, (6, 21), (8, 27), rng), noise, 0.0)
    else:
        raise ValueError(f"Unknown spend pattern {pattern!r}; expected one of "
                         f"{sorted(PATTERNS)}")
    return np.clip(x / x.mean() * mean, 0.0, None)


def _blocks(n: int, on: tuple[int, int], off: tuple[int, int],
            rng: np.random.Generator) -> np.ndarray:
    """Alternating on/off blocks with lengths drawn from ``[low, high)``; never all off."""
    flags = np.zeros(n, dtype=bool)
    i, state = 0, rng.uniform() < 0.5
    while i < n:
        length = int(rng.integers(*(on if state else off)))
        flags[i:i + length] = state
        i, state = i + length, not state
    if not flags.any():  # a short series that drew one long off block
        flags[-min(n, on[0]):] = True
    return flags


def _campaigns(noise: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark weeks with 4-7 campaigns a year of 1-4 weeks, each at its own weight."""
    n = len(noise)
    x = np.zeros(n)
    n_campaigns = max(2, round(n / 52.18 * rng.uniform(4, 7)))
    for start in rng.choice(n, size=min(n, n_campaigns), replace=False):
        length = int(rng.integers(1, 5))
        x[start:start + length] += rng.uniform(2, 6) * noise[start:start + length]
    return x


def _launch(noise: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Nothing before a launch week, a 4-8 week ramp, then always-on."""
    n = len(noise)
    latest = n - max(MIN_WEEKS_AFTER_LAUNCH, n // 4)
    earliest = max(4, n // 5)
    if latest < earliest:
        raise ValueError(f"spend pattern 'launch' needs at least "
                         f"{MIN_WEEKS_AFTER_LAUNCH + 4} weeks, got {n}; use a longer series "
                         "or another pattern")
    launch = int(rng.integers(earliest, latest + 1))
    ramp = np.clip((np.arange(n) - launch + 1) / rng.uniform(4, 8), 0.0, 1.0)
    return noise * ramp
