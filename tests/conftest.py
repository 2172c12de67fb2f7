"""Shared fixtures: small fits are expensive, so they are built once per session."""

from __future__ import annotations

import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.synth import ChannelTruth, simulate_classic

#: Small sampler settings for unit tests (statistical checks use more).
QUICK = {"chains": 2, "warmup": 300, "draws": 300, "progress": False}


@pytest.fixture
def example_df() -> pd.DataFrame:
    return bm.example_data()


@pytest.fixture(scope="session")
def example_fit() -> bm.Fit:
    return bm.fit(bm.example_data(), bm.example_spec(), seed=1, **QUICK)


def three_channel_sim(seed: int = 0, n_periods: int = 156):  # type: ignore[no-untyped-def]
    channels = [
        ChannelTruth("tv", alpha=0.6, lam=2.0, beta=1.2, spend_mean=5000, pattern="flighted"),
        ChannelTruth("search", alpha=0.2, lam=3.0, beta=0.8, spend_mean=2000, pattern="seasonal"),
        ChannelTruth("social", alpha=0.4, lam=4.0, beta=0.8, spend_mean=1000,
                     pattern="always_on"),
    ]
    return simulate_classic(channels, n_periods=n_periods, seed=seed, noise_sd=0.15)
