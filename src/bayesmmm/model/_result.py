"""The fitted model: posterior draws, the spec, the scalers and the data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmmm.data import MMMData
from bayesmmm.model._design import Scalers
from bayesmmm.model._fitfile import save_fit
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import ModelStructure

if TYPE_CHECKING:  # pragma: no cover
    import arviz as az
    import pandas as pd

__all__ = ["ANSWERS", "Fit", "Scalers"]

#: The answers behind :class:`Fit`'s shortcut methods, by method name (``summary``,
#: ``contributions``, ``roi``, ``media_share``, ``fit_metrics``, ``warnings``): functions
#: of the analysis layer taking the fit first. ``bayesmmm.analysis`` fills it on import
#: (importing ``bayesmmm`` imports it), so the model layer does not depend on the layer
#: above it.
ANSWERS: dict[str, Callable[..., Any]] = {}


def _answer(name: str) -> Callable[..., Any]:
    try:
        return ANSWERS[name]
    except KeyError:
        raise RuntimeError(f"Fit.{name} needs the analysis layer: import bayesmmm.analysis"
                           ) from None


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

    @cached_property
    def structure(self) -> ModelStructure:
        """The model's static structure (names, channel groups, index maps)."""
        return ModelStructure.build(self.spec, self.data)

    @property
    def coords(self) -> dict[str, list[str]]:
        return self.structure.coords(self.posterior)

    @property
    def dims(self) -> dict[str, list[str]]:
        return {name: self.structure.dims(name) for name in self.posterior}

    def parameter_names(self) -> list[str]:
        """Posterior parameters in summary order: baseline, media, hierarchy, controls,
        seasonality, noise."""
        return self.structure.parameter_names(self.posterior)

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

    # Answers: shortcuts to the analysis layer's functions, found in ANSWERS (the analysis
    # layer registers them when imported; the model layer never imports it).
    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        return _answer("summary")(self, hdi_prob=hdi_prob)

    def contributions(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return _answer("contributions")(self, hdi_prob=hdi_prob, level=level)

    def roi(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return _answer("roi")(self, hdi_prob=hdi_prob, level=level)

    def media_share(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return _answer("media_share")(self, hdi_prob=hdi_prob, level=level)

    def fit_metrics(self) -> dict[str, float]:
        return _answer("fit_metrics")(self)

    def warnings(self) -> list[str]:
        return _answer("warnings")(self)

    def select_draws(self, index: np.ndarray) -> Fit:
        """The fit restricted to some draws: ``index`` into the draws with chains merged
        (chain-major, as ``flat_params``); the result has one chain of ``len(index)``
        draws. For mixtures of fits (model averaging); its r_hat means nothing."""
        index = np.asarray(index, dtype=int)

        def pick(a: np.ndarray) -> np.ndarray:
            return a.reshape((-1,) + a.shape[2:])[index][None]

        return Fit(spec=self.spec, data=self.data, scalers=self.scalers,
                   posterior={k: pick(v) for k, v in self.posterior.items()},
                   sample_stats={k: pick(v) for k, v in self.sample_stats.items()},
                   meta={**self.meta, "selected_draws": int(len(index))})

    def save(self, path: str | Path) -> Path:
        """Write the fit to one compressed NetCDF file; see :func:`load_fit`."""
        return save_fit(self, path)
