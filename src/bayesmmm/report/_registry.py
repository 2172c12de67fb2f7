"""The plot registry: every plot the library draws, by name, in reading order.

Each entry pairs a plot's two public functions (``plot_data_<name>`` for its numbers,
``plot_<name>`` for its figure) with a one-line description, what it is drawn from
(the data, a fit or a budget plan), a group and the options it takes. The report's
figure lists, the service's getPlot endpoint and the dashboard's result page read it;
a new plot is its two functions in a ``_plots_*`` module plus one line here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.report import _plots_diag as diag
from bayesmmm.report import _plots_eda as eda
from bayesmmm.report import _plots_fit as res
from bayesmmm.report import _plots_plan as plan

__all__ = ["PLOTS", "Plot", "PlotRegistry", "fit_figures"]

#: What a plot is drawn from: ``MMMData`` (before any fit), a ``Fit``, an ``Allocation``.
Subject = Literal["data", "fit", "plan"]
#: Where a plot belongs: exploratory, a fit's results, its convergence diagnostics, a plan.
Group = Literal["exploration", "results", "diagnostics", "planning"]
_SUBJECT: dict[str, Subject] = {"exploration": "data", "results": "fit",
                                "diagnostics": "fit", "planning": "plan"}


@dataclass(frozen=True)
class Plot:
    """One registered plot.

    ``options`` are the keyword options ``figure`` takes after its subject (read once
    from its signature), e.g. ``("hdi_prob", "panel")``.
    """

    name: str
    data: Callable[..., pd.DataFrame]
    figure: Callable[..., go.Figure]
    description: str
    group: Group
    options: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        params = list(inspect.signature(self.figure).parameters)[1:]
        object.__setattr__(self, "options", tuple(params))

    @property
    def subject(self) -> Subject:
        return _SUBJECT[self.group]

    def accepted(self, **options: Any) -> dict[str, Any]:
        """The ``options`` this plot takes (the others dropped)."""
        return {k: v for k, v in options.items() if k in self.options}

    def draw(self, subject: Any, **options: Any) -> go.Figure:
        """The figure of ``subject``; an option the plot does not take is a ``SpecError``."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise SpecError(f"plot '{self.name}' takes no option {unknown}; its options "
                            f"are {list(self.options)}. Fix: leave {unknown} out")
        return self.figure(subject, **options)


class PlotRegistry:
    """Plots by name, kept in the order they were added (the reading order)."""

    def __init__(self) -> None:
        self._items: dict[str, Plot] = {}

    def add(self, name: str, data: Callable[..., pd.DataFrame],
            figure: Callable[..., go.Figure], description: str, group: Group) -> Plot:
        if name in self._items:
            raise ValueError(f"plot {name!r} is already registered")
        self._items[name] = Plot(name, data, figure, description, group)
        return self._items[name]

    def get(self, name: str) -> Plot:
        """The plot called ``name``; ``SpecError`` naming the choices if unknown."""
        try:
            return self._items[name]
        except KeyError:
            raise SpecError(f"Unknown plot {name!r}; expected one of "
                            f"{sorted(self._items)}") from None

    def names(self, *groups: Group) -> tuple[str, ...]:
        """Names in reading order, of the given groups only when any are given."""
        return tuple(p.name for p in self if not groups or p.group in groups)

    def of(self, subject: Subject) -> tuple[Plot, ...]:
        """The plots drawn from ``subject`` ("data", "fit" or "plan"), in reading order."""
        return tuple(p for p in self if p.subject == subject)

    def __iter__(self) -> Iterator[Plot]:
        return iter(self._items.values())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


PLOTS = PlotRegistry()
_add = PLOTS.add
_add("spend", eda.plot_data_spend, eda.plot_spend, "Spend per channel over time",
     "exploration")
_add("sales", eda.plot_data_sales, eda.plot_sales, "The target over time", "exploration")
_add("sales_vs_spend", eda.plot_data_sales_vs_spend, eda.plot_sales_vs_spend,
     "The target against each channel's spend", "exploration")
_add("total_spend", eda.plot_data_total_spend, eda.plot_total_spend,
     "Total spend per channel", "exploration")
_add("correlation", eda.plot_data_correlation, eda.plot_correlation,
     "Correlations of target, channels and controls", "exploration")
_add("seasonality", eda.plot_data_seasonality, eda.plot_seasonality,
     "Mean target by month or week of the year", "exploration")
_add("outliers", eda.plot_data_outliers, eda.plot_outliers,
     "Periods whose target departs from its local level", "exploration")
_add("actual_vs_fitted", res.plot_data_actual_vs_fitted, res.plot_actual_vs_fitted,
     "Actual vs fitted", "results")
_add("contributions", res.plot_data_contributions, res.plot_contributions,
     "Contributions over time", "results")
_add("waterfall", res.plot_data_waterfall, res.plot_waterfall, "Contributions in total",
     "results")
_add("spend_vs_effect", res.plot_data_spend_vs_effect, res.plot_spend_vs_effect,
     "Share of spend vs share of effect", "results")
_add("roi", res.plot_data_roi, res.plot_roi, "Return on investment", "results")
_add("saturation", res.plot_data_saturation, res.plot_saturation,
     "Response curves (saturation)", "results")
_add("adstock", res.plot_data_adstock, res.plot_adstock, "Carry-over (adstock)", "results")
_add("prior_posterior", diag.plot_data_prior_posterior, diag.plot_prior_posterior,
     "Posterior vs prior", "diagnostics")
_add("trace", diag.plot_data_trace, diag.plot_trace, "Trace", "diagnostics")
_add("rank", diag.plot_data_rank, diag.plot_rank, "Rank plots (convergence)", "diagnostics")
_add("allocation", plan.plot_data_allocation, plan.plot_allocation,
     "Current vs optimal spend per channel", "planning")


def fit_figures(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None
                ) -> dict[str, go.Figure]:
    """Every result plot of a fit, by file-friendly name, in reading order: fit,
    contributions, shares, ROI, curves, carry-over, priors, convergence. For an averaged
    fit the result plots show the mixture and the diagnostic ones its heaviest member
    (their titles say which; ``PLOTS.get("trace").draw(fit, structure=...)`` for
    another)."""
    return {p.name: p.draw(fit, **p.accepted(hdi_prob=hdi_prob, panel=panel))
            for p in PLOTS.of("fit")}
