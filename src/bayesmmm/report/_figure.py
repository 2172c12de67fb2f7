"""Plotly building blocks shared by the plot functions: colours, bands, facets, layout.

Every figure is built from a small set of trace kinds (lines, markers, filled bands,
stacked areas, bars with error bars, heatmaps, waterfalls), so that
:func:`bayesmmm.report.to_matplotlib` can redraw any of them for a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError

__all__ = ["BASELINE_COLORS", "CONTROL_COLORS", "GREY", "PALETTE", "band", "color",
           "component_color", "facet_grid", "finish", "panel_index", "rgba"]

#: Channels and other series: colour-blind-safe, distinct hues (Okabe & Ito's palette,
#: then Paul Tol's "muted" scheme), fixed here so PNGs and the dashboard use the same.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#332288", "#882255", "#44AA99", "#999933", "#AA4499")
GREY = "#7F7F7F"
#: Baseline components in lighter, colour-blind-safe tones (Paul Tol's "light" scheme),
#: each its own colour, so they read as the ground the channels stand on.
#: Chosen so that with the first controls and channels every pair stays apart (CIELAB
#: distance >= 10) in normal vision and in simulated protanopia, deuteranopia and
#: tritanopia (tests/report/test_colours.py).
BASELINE_COLORS = {"intercept": "#DDDDDD", "trend": "#EEDD88", "seasonality": "#FFAABB"}
#: Controls (events, holidays, promotions, ...) in turn.
CONTROL_COLORS = ("#99DDFF", "#77AADD", "#44BB99", "#BBCC33", "#AAAA00", "#EE8866")


def color(i: int) -> str:
    """The ``i``-th colour of the palette (cycling)."""
    return PALETTE[i % len(PALETTE)]


def component_color(name: str, kind: str, index: int) -> str:
    """The colour of a component of the mean: a channel's palette colour (``index`` is
    its position among the channels), the baseline parts' own tones, and the controls'
    tones in turn (``index``: its position among the controls)."""
    if kind == "channel":
        return color(index)
    if name in BASELINE_COLORS:
        return BASELINE_COLORS[name]
    return CONTROL_COLORS[index % len(CONTROL_COLORS)]


def rgba(hex_color: str, alpha: float) -> str:
    """``'#RRGGBB'`` as ``'rgba(r,g,b,alpha)'``."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def band(x: Sequence[object] | np.ndarray, low: np.ndarray, high: np.ndarray, hex_color: str,
         name: str, *, alpha: float = 0.2, legendgroup: str | None = None,
         showlegend: bool = False) -> go.Scatter:
    """A filled interval between ``low`` and ``high`` as one closed polygon."""
    xs = list(x)
    return go.Scatter(x=xs + xs[::-1], y=np.concatenate([np.asarray(high), np.asarray(low)[::-1]]),
                      fill="toself", fillcolor=rgba(hex_color, alpha), mode="lines",
                      line={"width": 0, "color": rgba(hex_color, 0.0)}, name=name,
                      legendgroup=legendgroup or name, showlegend=showlegend,
                      hoverinfo="skip")


def facet_grid(titles: Sequence[str], max_cols: int = 3, shared_x: bool = False,
               shared_y: bool = False) -> tuple[go.Figure, list[tuple[int, int]]]:
    """A grid of subplots, one per title, filled row by row; returns the figure and
    each title's ``(row, col)``."""
    n = max(len(titles), 1)
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles),
                        shared_xaxes=shared_x, shared_yaxes=shared_y,
                        horizontal_spacing=0.08, vertical_spacing=min(0.12, 0.5 / rows))
    cells = [(i // cols + 1, i % cols + 1) for i in range(len(titles))]
    fig.update_layout(height=max(380, 260 * rows))
    return fig, cells


def finish(fig: go.Figure, title: str, x_title: str | None = None, y_title: str | None = None,
           *, cells: Sequence[tuple[int, int]] = (), dates: bool = False) -> go.Figure:
    """Common layout: white template, title, axis titles, horizontal legend below the
    plot. For a facet grid, pass its ``cells``: the x title goes under the bottom row and
    the y title beside the first column."""
    fig.update_layout(template="plotly_white", title={"text": title, "x": 0.01},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
                      margin={"l": 70, "r": 20, "t": 70, "b": 70})
    if cells:
        for col in {c for _, c in cells}:  # under the lowest subplot of each column
            fig.update_xaxes(title_text=x_title, row=max(r for r, c in cells if c == col),
                             col=col)
        for row in {r for r, _ in cells}:
            fig.update_yaxes(title_text=y_title, row=row, col=1)
    else:
        fig.update_xaxes(title_text=x_title)
        fig.update_yaxes(title_text=y_title)
    if dates:
        fig.update_xaxes(type="date")
    return fig


def panel_index(data: MMMData, panel: str | None) -> int | None:
    """The geo index of ``panel`` (None: the total over panel cells)."""
    if panel is None:
        return None
    if panel not in data.panels:
        raise SpecError(f"Unknown panel {panel!r}; expected one of {list(data.panels)[:20]} "
                        "(or none for the total over panel cells)")
    return data.panels.index(panel)
