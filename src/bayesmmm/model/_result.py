"""The fitted model: posterior draws, the spec, the scalers and the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmmm.data import MMMData
from bayesmmm.model._classic import fourier_names
from bayesmmm.model._spec import ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    import arviz as az
    import pandas as pd

__all__ = ["Fit", "Scalers", "PARAMETER_ORDER"]

#: Order of parameters in summaries (PyMC-Marketing's names).
PARAMETER_ORDER = ("intercept", "adstock_alpha", "saturation_lam", "saturation_beta",
                   "gamma_control", "gamma_fourier", "y_sigma")


@dataclass(frozen=True)
class Scalers:
    """How the data were scaled for the model.

    ``channel_scale`` (n_channels,) and ``y_scale`` are PyMC-Marketing's max-abs
    scalers; ``control_center``/``control_scale`` (n_controls,) define the internal
    standardised basis of the controls (coefficients are reported in original units).
    """

    channel_scale: np.ndarray
    y_scale: float
    control_center: np.ndarray
    control_scale: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"channel_scale": self.channel_scale.tolist(), "y_scale": self.y_scale,
                "control_center": self.control_center.tolist(),
                "control_scale": self.control_scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scalers:
        return cls(np.asarray(d["channel_scale"], dtype=float), float(d["y_scale"]),
                   np.asarray(d["control_center"], dtype=float),
                   np.asarray(d["control_scale"], dtype=float))


@dataclass
class Fit:
    """A fitted MMM.

    Attributes
    ----------
    spec : ModelSpec
    data : MMMData
        The data the model was fitted to (original units).
    scalers : Scalers
    posterior : dict of str to ndarray
        Draws per parameter, float32, shape ``(n_chains, n_draws, ...)``.
    sample_stats : dict of str to ndarray
        ``diverging``, ``num_steps``, ``energy``, ``accept_prob``: ``(n_chains, n_draws)``.
    meta : dict
        Sampler options and timings.

    Answers are computed on demand from these (nothing derived is stored): see
    :meth:`summary`, :meth:`contributions`, :meth:`roi`, :meth:`media_share`,
    :meth:`fit_metrics` and :meth:`warnings`.
    """

    spec: ModelSpec
    data: MMMData
    scalers: Scalers
    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return int(self.sample_stats["diverging"].shape[0])

    @property
    def n_draws(self) -> int:
        return int(self.sample_stats["diverging"].shape[1])

    @property
    def coords(self) -> dict[str, list[str]]:
        return {"channel": list(self.spec.channel_columns),
                "control": list(self.spec.control_columns),
                "fourier_mode": fourier_names(self.spec.yearly_seasonality)}

    @property
    def dims(self) -> dict[str, list[str]]:
        return {"adstock_alpha": ["channel"], "saturation_lam": ["channel"],
                "saturation_beta": ["channel"], "gamma_control": ["control"],
                "gamma_fourier": ["fourier_mode"]}

    @cached_property
    def inference_data(self) -> az.InferenceData:
        """The posterior and sample stats as ArviZ ``InferenceData``."""
        import arviz as az

        names = [n for n in PARAMETER_ORDER if n in self.posterior]
        stats = dict(self.sample_stats)
        stats["tree_depth"] = np.ceil(np.log2(stats["num_steps"] + 1)).astype(np.int32)
        stats["n_steps"] = stats.pop("num_steps")
        stats["acceptance_rate"] = stats.pop("accept_prob")
        return az.from_dict(posterior={n: self.posterior[n] for n in names}, sample_stats=stats,
                            coords=self.coords, dims=self.dims)

    # Answers (the analysis layer does the work; these are shortcuts).
    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        from bayesmmm.analysis import summary

        return summary(self, hdi_prob=hdi_prob)

    def contributions(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        from bayesmmm.analysis import contributions

        return contributions(self, hdi_prob=hdi_prob)

    def roi(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        from bayesmmm.analysis import roi

        return roi(self, hdi_prob=hdi_prob)

    def media_share(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        from bayesmmm.analysis import media_share

        return media_share(self, hdi_prob=hdi_prob)

    def fit_metrics(self) -> dict[str, float]:
        from bayesmmm.analysis import fit_metrics

        return fit_metrics(self)

    def warnings(self) -> list[str]:
        from bayesmmm.analysis import convergence_warnings

        return convergence_warnings(self)

    def save(self, path: str | Path) -> Path:
        """Write the fit to one compressed NetCDF file; see :func:`load_fit`."""
        from bayesmmm.model._io import save_fit

        return save_fit(self, path)
