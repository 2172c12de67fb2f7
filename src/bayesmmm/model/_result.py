"""The fitted model: posterior draws, the spec, the scalers and the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmmm.data import MMMData
from bayesmmm.model._design import Scalers, fourier_names
from bayesmmm.model._model import site_dims
from bayesmmm.model._spec import ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    import arviz as az
    import pandas as pd

__all__ = ["Fit", "Scalers"]


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
    def is_panel(self) -> bool:
        """A geo model (more than one panel cell)."""
        return self.data.n_geos > 1

    @property
    def coords(self) -> dict[str, list[str]]:
        out = {"channel": list(self.spec.channel_columns),
               "control": list(self.data.control_names),
               "fourier_mode": fourier_names(self.spec.yearly_seasonality)}
        if self.is_panel:
            out["geo"] = list(self.data.panels)
        for name in self.spec.channel_parameters():
            have = self.spec.channels_with(name)
            if len(have) != len(self.spec.channel_columns):
                out[f"{name}_channel"] = have
        for name, dim in (("trend_delta", "changepoint"), ("trend_knots", "knot")):
            if name in self.posterior:
                out[dim] = [str(k) for k in range(self.posterior[name].shape[-1])]
        return out

    @property
    def dims(self) -> dict[str, list[str]]:
        return {name: site_dims(self.spec, name, self.is_panel) for name in self.posterior}

    def parameter_names(self) -> list[str]:
        """Posterior parameters in summary order: baseline, media, hierarchy, controls,
        seasonality, noise."""
        channel = self.spec.channel_parameters()
        trend = sorted(n for n in self.posterior if n.startswith("trend_"))
        order = ["intercept", *trend, *channel, "roi", *(f"{n}_sigma" for n in channel),
                 *(f"{n}_geo" for n in channel), "gamma_control", "gamma_control_sigma",
                 "gamma_control_geo", "gamma_fourier", "y_sigma"]
        return [n for n in order if n in self.posterior]

    @cached_property
    def inference_data(self) -> az.InferenceData:
        """The posterior and sample stats as ArviZ ``InferenceData``."""
        import arviz as az

        names = self.parameter_names()
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

    def contributions(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        from bayesmmm.analysis import contributions

        return contributions(self, hdi_prob=hdi_prob, level=level)

    def roi(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        from bayesmmm.analysis import roi

        return roi(self, hdi_prob=hdi_prob, level=level)

    def media_share(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        from bayesmmm.analysis import media_share

        return media_share(self, hdi_prob=hdi_prob, level=level)

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
