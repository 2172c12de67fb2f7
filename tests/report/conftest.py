"""Fixtures of the report tests: tiny fits, built once per session (content checks need
a posterior, not a good one)."""

from __future__ import annotations

import pytest

import bayesmmm as bm
from bayesmmm.data import MMMData, prepare
from tests.report._tables import PANEL_KW, TINY, panel_table


@pytest.fixture(scope="session")
def example_data() -> MMMData:
    data, _ = prepare(bm.example_data(), **bm.example_spec().data_kwargs())
    return data


@pytest.fixture(scope="session")
def panel_data() -> MMMData:
    data, _ = prepare(panel_table(), **PANEL_KW)
    return data


@pytest.fixture(scope="session")
def tiny_fit() -> bm.Fit:
    return bm.fit(bm.example_data(), bm.example_spec(), **TINY)


@pytest.fixture(scope="session")
def panel_fit() -> bm.Fit:
    spec = bm.ModelSpec(**PANEL_KW, yearly_seasonality=1)
    return bm.fit(panel_table(), spec, **{**TINY, "chains": 1})
