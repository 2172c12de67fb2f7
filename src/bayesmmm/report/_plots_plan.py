"""Plots of a budget plan (:class:`bayesmmm.optimize.Allocation`): current vs optimal."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bayesmmm.optimize import Allocation
from bayesmmm.report._figure import GREY, color, finish

__all__ = ["plot_allocation", "plot_data_allocation"]


def plot_data_allocation(allocation: Allocation) -> pd.DataFrame:
    """Spend per channel over the plan's horizon: ``channel``, ``current`` (the
    historical mix at the plan's budget), ``optimal``, ``change_pct``, and the incremental
    ``sales`` of the optimal plan (posterior mean)."""
    table = allocation.channels
    return pd.DataFrame({"channel": table.index.astype(str),
                         "current": table["historical_at_budget"].to_numpy(),
                         "optimal": table["optimal"].to_numpy(),
                         "change_pct": table["change_pct"].to_numpy(),
                         "sales": table["sales"].to_numpy()})


def plot_allocation(allocation: Allocation) -> go.Figure:
    """Current beside optimal spend per channel (grouped bars)."""
    frame = plot_data_allocation(allocation)
    fig = go.Figure([
        go.Bar(x=frame["channel"], y=frame["current"], name="current mix",
               marker={"color": GREY}),
        go.Bar(x=frame["channel"], y=frame["optimal"], name="optimal",
               marker={"color": color(0)})])
    fig.update_layout(barmode="group")
    return finish(fig, f"Spend per channel over {allocation.n_periods} periods: current mix "
                  "vs optimal", None, "spend")
