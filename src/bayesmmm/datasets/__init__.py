"""Bundled example data (PyMC-Marketing's simulated example; see NOTICE.md)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd

__all__ = ["example_data", "example_path", "example_spec"]


def example_path() -> Path:
    """Path of the bundled example CSV."""
    return Path(str(files("bayesmmm.datasets").joinpath("mmm_example.csv")))


def example_data() -> pd.DataFrame:
    """The bundled example: 179 weeks, channels x1 and x2, controls event_1, event_2, t."""
    return pd.read_csv(example_path())


def example_spec():  # type: ignore[no-untyped-def]
    """The classic model spec for the example (as in PyMC-Marketing's notebook)."""
    from bayesmmm.model import ModelSpec

    return ModelSpec(date_column="date_week", y_column="y", channel_columns=("x1", "x2"),
                     control_columns=("event_1", "event_2", "t"), adstock_max_lag=8,
                     yearly_seasonality=2)
