"""Shared fixtures: small fits are expensive, so they are built once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.synth import ChannelTruth, simulate_classic

#: Small sampler settings for unit tests (statistical checks use more).
QUICK = {"chains": 2, "warmup": 300, "draws": 300, "progress": False}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Set JAX up as a user's first fit does (host devices for the chains, the compilation
    cache) before any test module is imported. A fit does it only while JAX's backend has
    not started; a module that built a ``jnp`` array at import once started it during
    collection, and every fit in that test process then ran its chains on one device
    instead of eight: other draws than a user's, so a statistical test's outcome depended
    on which modules were collected with it."""
    bm.configure()


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


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium (``BAYESMMM_CHROMIUM`` or ``chromium`` on PATH); the browser tests
    skip without it, and fail instead when ``BAYESMMM_REQUIRE_BROWSER=1`` (CI)."""
    path = os.environ.get("BAYESMMM_CHROMIUM") or shutil.which("chromium")
    if not path:
        message = ("no chromium: apt-get install chromium, or set BAYESMMM_CHROMIUM to the "
                   "browser's path")
        if os.environ.get("BAYESMMM_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright (sync API), shared by a test process."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield launched
        finally:
            launched.close()
