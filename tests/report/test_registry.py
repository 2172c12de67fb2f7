"""The plot registry: every public plot pair is in it, named as its functions, and the
surfaces that list plots read it."""

from __future__ import annotations

import inspect

import pytest

import bayesmmm as bm
import bayesmmm.report as report
from bayesmmm.errors import SpecError
from bayesmmm.report import PLOTS, fit_figures


@pytest.mark.parametrize("plot", list(PLOTS), ids=lambda p: p.name)
def test_entry_is_the_public_pair(plot: report.Plot) -> None:
    assert plot.figure is getattr(report, f"plot_{plot.name}")
    assert plot.data is getattr(report, f"plot_data_{plot.name}")
    assert plot.description and len(plot.description) <= 60
    assert plot.options == tuple(inspect.signature(plot.figure).parameters)[1:]


def test_every_public_plot_is_registered() -> None:
    public = {n.removeprefix("plot_") for n in report.__all__
              if n.startswith("plot_") and not n.startswith("plot_data_")}
    assert public == set(PLOTS.names())


def test_unknown_plot_names_the_choices() -> None:
    with pytest.raises(SpecError, match=r"Unknown plot 'pie'; expected one of \['actual_vs"):
        PLOTS.get("pie")


def test_groups_and_reading_order() -> None:
    assert PLOTS.names("results")[:2] == ("actual_vs_fitted", "contributions")
    assert PLOTS.names("diagnostics") == ("prior_posterior", "trace", "rank")
    assert [p.name for p in PLOTS.of("fit")] == list(PLOTS.names("results", "diagnostics"))
    assert {p.subject for p in PLOTS.of("data")} == {"data"}


def test_draw_refuses_an_option_the_plot_does_not_take(tiny_fit: bm.Fit) -> None:
    with pytest.raises(SpecError, match="plot 'trace' takes no option \\['panel'\\]"):
        PLOTS.get("trace").draw(tiny_fit, panel="north")


def test_fit_figures_are_the_registry_s_fit_plots(tiny_fit: bm.Fit) -> None:
    assert list(fit_figures(tiny_fit)) == [p.name for p in PLOTS.of("fit")]
