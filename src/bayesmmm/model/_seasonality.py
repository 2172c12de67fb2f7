"""Seasonality: a registry of named seasonal bases.

An entry (:class:`SeasonalityForm`) gives the Fourier basis of one season over the
data's dates and the names of its terms; the model weighs the terms with
``gamma_fourier`` (prior ``Laplace(0, 1)``, PyMC-Marketing's default). Today a spec
chooses the number of modes of the ``yearly`` season (``ModelSpec.yearly_seasonality``);
a further season (e.g. weekly, for daily data) is one more entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmmm.transforms import Registry

__all__ = ["SEASONALITIES", "SeasonalityForm", "fourier_features", "fourier_names"]


def fourier_names(n_modes: int) -> list[str]:
    """``['sin_order_1', ..., 'sin_order_n', 'cos_order_1', ..., 'cos_order_n']``."""
    return [f"{f}_order_{k}" for f in ("sin", "cos") for k in range(1, n_modes + 1)]


def fourier_features(day_of_year: np.ndarray, n_modes: int, period: float = 365.25
                     ) -> np.ndarray:
    r"""Fourier terms :math:`\sin(2\pi k d / P)`, :math:`\cos(2\pi k d / P)`, k = 1..n.

    ``d`` is the position in the season (day of year for the yearly season, ``P`` =
    365.25 days).

    Returns
    -------
    ndarray, shape ``(n_times, 2 * n_modes)``, ordered as :func:`fourier_names`.
    """
    if n_modes == 0:
        return np.zeros((len(day_of_year), 0))
    k = np.arange(1, n_modes + 1)
    angle = 2 * np.pi * np.asarray(day_of_year, dtype=float)[:, None] * k[None, :] / period
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


@dataclass(frozen=True)
class SeasonalityForm:
    """A named season: its period in days and where each date falls in it."""

    name: str
    period: float
    position: str  # a pandas DatetimeIndex attribute: 'day_of_year', 'day_of_week', ...

    def features(self, dates: pd.DatetimeIndex, n_modes: int) -> np.ndarray:
        """The basis ``(n_times, 2 n_modes)`` over ``dates``."""
        where = np.asarray(getattr(dates, self.position))
        return fourier_features(where, n_modes, self.period)

    def names(self, n_modes: int) -> list[str]:
        return fourier_names(n_modes)


SEASONALITIES: Registry[SeasonalityForm] = Registry("seasonality")
SEASONALITIES.add("yearly", SeasonalityForm("yearly", 365.25, "day_of_year"))
