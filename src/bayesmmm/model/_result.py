"""The fitted model: posterior draws, the spec, the scalers and the data."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmmm._providers import ANSWER_PROVIDERS
from bayesmmm.data import MMMData
from bayesmmm.model._design import Scalers
from bayesmmm.model._fitfile import file_attrs, save_fit
from bayesmmm.model._idata import (
    constant_dataset,
    log_likelihood_dataset,
    observed_dataset,
    posterior_dataset,
    posterior_predictive_dataset,
    prior_dataset,
    sample_stats_dataset,
)
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import ModelStructure

if TYPE_CHECKING:  # pragma: no cover
    import arviz as az
    import pandas as pd

__all__ = ["ANSWERS", "Fit", "Scalers", "answer"]

#: The answers behind :class:`Fit`'s shortcut methods, by method name (``summary``,
#: ``contributions``, ``roi``, ``media_share``, ``fit_metrics``, ``warnings``): functions
#: of the analysis layer taking the fit first. ``bayesmmm.analysis`` fills it on import;
#: :func:`answer` imports it by name when a shortcut is first needed, so the model layer's
#: modules never import the layer above them.
ANSWERS: dict[str, Callable[..., Any]] = {}


def answer(name: str) -> Callable[..., Any]:
    """The analysis layer's function behind the shortcut ``name``; the layer is imported
    (:data:`bayesmmm._providers.ANSWER_PROVIDERS`) the first time one is needed."""
    if name not in ANSWERS:
        for module in ANSWER_PROVIDERS:
            importlib.import_module(module)
    try:
        return ANSWERS[name]
    except KeyError:
        raise RuntimeError(f"Fit.{name}: no answer of that name is registered") from None


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
    prior : dict of str to ndarray, optional
        Prior draws per parameter ``(n_chains, n_draws, ...)`` when the fit carries them
        (``bm.fit`` does not sample the prior): the ``prior`` group of :attr:`idata` and
        of the fit file, read back by :func:`load_fit`.

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
    prior: dict[str, np.ndarray] | None = None

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
        """The posterior, sample stats, observed and constant data as ArviZ
        ``InferenceData`` (cheap: what summaries and diagnostics read). :attr:`idata`
        adds the log likelihood and posterior predictive draws."""
        import arviz as az

        from bayesmmm.model._quiet import quiet_arviz

        quiet_arviz()
        return az.InferenceData(posterior=posterior_dataset(self),
                                sample_stats=sample_stats_dataset(self),
                                observed_data=observed_dataset(self),
                                constant_data=constant_dataset(self),
                                attrs=file_attrs(self))

    @cached_property
    def idata(self) -> az.InferenceData:
        """The fit as ArviZ ``InferenceData``: ``posterior``, ``sample_stats``,
        ``observed_data`` (``y``), ``constant_data`` (``channel_data``,
        ``control_data``), ``log_likelihood`` (``y``, pointwise) and
        ``posterior_predictive`` (``y``), dims named as PyMC-Marketing's (``date``,
        ``geo``, ``channel``, ``control``, ``fourier_mode``), target in original units.

        The ArviZ toolbox works on it: ``az.loo(fit.idata)``,
        ``az.plot_ppc(fit.idata)``, ``az.plot_trace(fit.idata)``. Computed on first use
        (the likelihood and predictive draws take the model's mean for every draw).
        """
        import arviz as az

        base = self.inference_data
        groups: dict[str, Any] = {name: base[name] for name in base.groups()}
        groups["log_likelihood"] = log_likelihood_dataset(self)
        groups["posterior_predictive"] = posterior_predictive_dataset(self)
        if self.prior is not None:
            groups["prior"] = prior_dataset(self)
        return az.InferenceData(attrs=dict(base.attrs), **groups)

    # -- reading well in a console and a notebook ----------------------------------------
    def describe(self) -> list[tuple[str, str]]:
        """``(what, value)`` lines of a short description: data, model, sampler and
        convergence (max r_hat and min ess_bulk from :meth:`summary`, divergences)."""
        d, spec = self.data, self.spec
        shape = (f"{d.n_times} {d.frequency or ''} periods".replace("  ", " ")
                 + f" × {d.n_channels} channels × {len(d.control_names)} controls"
                 + (f" × {d.n_geos} geos" if d.is_panel else " (national)"))
        forms = sorted({f"{spec.adstock_forms[c]} adstock, {spec.saturation_forms[c]} saturation"
                        for c in spec.channel_columns})
        model = "; ".join(forms) + (f", trend {spec.trend}" if spec.trend != "none" else "")
        o = self.meta.get("options", {})
        sampler = (f"{self.meta.get('sampler', 'nuts')}: {self.n_chains} × {self.n_draws} "
                   f"draws" + (f" after {o['warmup']} warm-up" if "warmup" in o else ""))
        if "seconds_total" in self.meta:
            sampler += f", {float(self.meta['seconds_total']):.0f} s"
        divergences = int(np.sum(self.sample_stats["diverging"]))
        convergence = f"{divergences} divergent draws"
        if "summary" in ANSWERS:
            table = self.summary()
            convergence = (f"max r_hat {float(table['r_hat'].max()):.3f}, min ess_bulk "
                           f"{float(table['ess_bulk'].min()):,.0f}, " + convergence)
        return [("data", f"{d.y_column} by {d.date_column}: {shape}"), ("model", model),
                ("sampler", sampler), ("convergence", convergence + "; fit.warnings() "
                                       "says what to do about any problem")]

    def __repr__(self) -> str:
        return "Fit\n" + "\n".join(f"  {k:<11} {v}" for k, v in self.describe())

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th>"
                       f"<td style='text-align:left'>{escape(v)}</td></tr>"
                       for k, v in self.describe())
        return f"<div><strong>BayesMMM Fit</strong><table>{rows}</table></div>"

    # Answers: shortcuts to the analysis layer's functions, found in ANSWERS (the analysis
    # layer registers them when imported; the model layer imports it only by name, when
    # a shortcut is first called: see bayesmmm._providers).
    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        return answer("summary")(self, hdi_prob=hdi_prob)

    def contributions(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return answer("contributions")(self, hdi_prob=hdi_prob, level=level)

    def roi(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return answer("roi")(self, hdi_prob=hdi_prob, level=level)

    def media_share(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return answer("media_share")(self, hdi_prob=hdi_prob, level=level)

    def fit_metrics(self) -> dict[str, float]:
        return answer("fit_metrics")(self)

    def warnings(self) -> list[str]:
        return answer("warnings")(self)

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

    def save(self, path: str | Path, *, log_likelihood: bool | str = "auto") -> Path:
        """Write the fit to one compressed NetCDF file, ArviZ ``InferenceData`` groups
        (``az.from_netcdf`` reads it; :func:`load_fit` gives the fit back).

        ``log_likelihood``: store the pointwise log likelihood (``True``), leave it out
        (``False``), or store it unless it is large (``"auto"``: at most 2 million
        values); :attr:`idata` recomputes it either way.
        """
        return save_fit(self, path, log_likelihood=log_likelihood)  # type: ignore[arg-type]
