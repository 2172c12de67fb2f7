"""Static images: redraw a Plotly figure with matplotlib (no browser, no kaleido), as
PNG, SVG or PDF.

The plot functions build Plotly figures from a small set of trace kinds; this module
draws exactly those kinds with matplotlib, so a PNG shows the same numbers as the
interactive figure:

* ``Scatter``: lines and/or markers, dash styles, step shapes (``hv``, ``hvh``),
  closed filled bands (``fill='toself'``), ``fill='tozeroy'`` and stacked areas
  (``stackgroup``);
* ``Bar``: vertical or horizontal, grouped when several share an axis, with error bars;
* ``Heatmap`` with its colour scale and cell text; ``Waterfall``;
* subplot grids from ``make_subplots`` (axis domains), subplot titles, axis titles,
  date / reversed / percent axes, and one legend for the figure.

Anything else raises ``ValueError`` rather than drawing something misleading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bayesmmm._files import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["IMAGE_FORMATS", "image_format", "to_matplotlib", "write_image", "write_png"]

_DASHES = {"dash": "--", "dot": ":", "dashdot": "-.", "longdash": "--", "solid": "-"}
_STEPS = {"hv": "steps-post", "vh": "steps-pre", "hvh": "steps-mid"}
_FILL_STEPS: dict[str, Literal["mid", "post"]] = {"hvh": "mid", "hv": "post"}
_KINDS = ("scatter", "bar", "heatmap", "waterfall")


def _rgba(value: Any, default: Any = None) -> Any:
    """A Plotly colour (``#hex``, ``rgb()``, ``rgba()``, a name) as a matplotlib colour."""
    if value is None:
        return default
    if isinstance(value, str):
        m = re.fullmatch(r"rgba?\(([^)]*)\)", value.replace(" ", ""))
        if m:
            parts = [float(p) for p in m.group(1).split(",")]
            return (parts[0] / 255, parts[1] / 255, parts[2] / 255,
                    parts[3] if len(parts) == 4 else 1.0)
    return value


def _axis_key(ref: str | None, letter: str) -> str:
    """``'x2'`` to ``'xaxis2'``; None to ``'xaxis'``."""
    ref = ref or letter
    return f"{letter}axis{ref[1:]}"


def _grid(layout: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[tuple[str, str],
                                                                        tuple[int, int]], int, int]:
    """The subplots ``[(xaxis key, yaxis key)]`` and their ``(row, col)`` in a grid
    built from the axis domains."""
    xkeys = sorted((k for k in layout if re.fullmatch(r"xaxis\d*", k)),
                   key=lambda k: int(k[5:] or 1)) or ["xaxis"]
    pairs, boxes = [], {}
    for xk in xkeys:
        xa = layout.get(xk, {})
        yk = _axis_key(xa.get("anchor", "y"), "y")
        ya = layout.get(yk, {})
        pairs.append((xk, yk))
        boxes[(xk, yk)] = (tuple(xa.get("domain", (0, 1))), tuple(ya.get("domain", (0, 1))))
    col_starts = sorted({round(b[0][0], 3) for b in boxes.values()})
    row_starts = sorted({round(b[1][0], 3) for b in boxes.values()}, reverse=True)
    cells = {p: (row_starts.index(round(b[1][0], 3)), col_starts.index(round(b[0][0], 3)))
             for p, b in boxes.items()}
    return pairs, cells, len(row_starts), len(col_starts)


def _x_values(values: Any, axis: dict[str, Any]) -> np.ndarray:
    if values is None:
        return np.asarray([])
    if axis.get("type") == "date":
        return pd.to_datetime(np.asarray(values)).to_numpy()
    return np.asarray(values)


def _typed_array(value: Any) -> Any:
    """Plotly's compact array (``{"dtype", "bdata", "shape"}``, as a figure read back from
    JSON holds its arrays) as a numpy array; anything else unchanged."""
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        import base64

        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            dims = [int(n) for n in str(shape).split(",")] if isinstance(shape, str) else shape
            out = out.reshape(dims)
        return out
    if isinstance(value, dict):  # nested properties, e.g. error_y.array
        return {k: _typed_array(v) for k, v in value.items()}
    return value


def _plain_arrays(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` whose trace arrays are numpy arrays, not compact JSON arrays."""
    traces = []
    for trace in fig.to_plotly_json()["data"]:
        traces.append({k: _typed_array(v) for k, v in trace.items()})
    return go.Figure(data=traces, layout=fig.layout)


def to_matplotlib(fig: go.Figure, dpi: int = 100) -> Figure:
    """Draw a Plotly figure (of the trace kinds listed in this module's docstring) as a
    matplotlib ``Figure`` (object-oriented API, no global pyplot state)."""
    from matplotlib.figure import Figure

    fig = _plain_arrays(fig)

    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    pairs, cells, rows, cols = _grid(layout)
    width = (layout.get("width") or max(900, 320 * cols)) / dpi
    height = (layout.get("height") or 450) / dpi
    out = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    grid = out.add_gridspec(rows, cols)
    axes = {p: out.add_subplot(grid[cells[p]]) for p in pairs}
    handles: dict[str, Any] = {}
    bars = _bar_slots(fig)
    stacks: dict[tuple[tuple[str, str], str], np.ndarray] = {}
    unknown = sorted({t.type for t in fig.data} - set(_KINDS))
    if unknown:
        raise ValueError(f"cannot draw a Plotly {unknown[0]!r} trace with matplotlib; "
                         f"expected one of {list(_KINDS)}")
    for i, trace in enumerate(fig.data):
        pair = (_axis_key(trace.xaxis, "x"), _axis_key(trace.yaxis, "y"))
        ax = axes[pair]
        xaxis = layout.get(pair[0], {})
        kind = trace.type
        if kind == "scatter":
            artist = _scatter(ax, trace, xaxis, stacks, pair)
        elif kind == "bar":
            artist = _bar(ax, trace, xaxis, *bars[i])
        elif kind == "heatmap":
            artist = _heatmap(out, ax, trace)
        else:
            artist = _waterfall(ax, trace)
        if trace.name and trace.showlegend is not False and artist is not None:
            handles.setdefault(trace.name, artist)
    _decorate(out, axes, layout)
    used = {(_axis_key(t.xaxis, "x"), _axis_key(t.yaxis, "y")) for t in fig.data}
    for pair, ax in axes.items():
        if pair not in used:  # an unfilled cell of a facet grid
            ax.set_axis_off()
    shown = [t for t in fig.data if t.name and t.showlegend is not False]
    if len(shown) > 1 and layout.get("showlegend") is not False and handles:
        out.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncol=min(len(handles), 4), frameon=False, fontsize=8)
    return out


def _scatter(ax: Axes, trace: Any, xaxis: dict[str, Any],
             stacks: dict[tuple[tuple[str, str], str], np.ndarray],
             pair: tuple[str, str]) -> Any:
    x = _x_values(trace.x, xaxis)
    y = np.asarray(trace.y, dtype=float) if trace.y is not None else np.asarray([])
    line, marker = trace.line, trace.marker
    colour = _rgba(line.color or marker.color)
    alpha = trace.opacity if trace.opacity is not None else 1.0
    if trace.fill == "toself":
        return ax.fill(x, y, color=_rgba(trace.fillcolor, colour), linewidth=0)[0]
    if trace.stackgroup:
        key = (pair, trace.stackgroup)
        base = stacks.get(key, np.zeros_like(y))
        stacks[key] = base + y
        return ax.fill_between(x, base, base + y, color=colour, alpha=0.85, linewidth=0)
    mode = trace.mode or "lines"
    style = _DASHES.get(line.dash or "solid", "-") if "lines" in mode else "none"
    symbol = marker.symbol or "circle"
    open_marker = isinstance(symbol, str) and symbol.endswith("-open")
    drawn = ax.plot(x, y, linestyle=style, color=colour, alpha=alpha,
                    linewidth=line.width if line.width is not None else 1.5,
                    drawstyle=_STEPS.get(line.shape or "linear", "default"),
                    marker="o" if "markers" in mode else None,
                    markersize=(marker.size or 6) * 0.6,
                    markerfacecolor="none" if open_marker else colour)[0]
    if trace.fill == "tozeroy":
        ax.fill_between(x, 0, y, color=colour, alpha=0.3, linewidth=0,
                        step=_FILL_STEPS.get(line.shape or ""))
    return drawn


def _bar_slots(fig: go.Figure) -> dict[int, tuple[int, int]]:
    """``{trace index: (slot, n_slots)}`` for grouped bars sharing an axis pair."""
    grouped = fig.layout.barmode in (None, "group")
    by_pair: dict[tuple[Any, Any], list[int]] = {}
    for i, t in enumerate(fig.data):
        if t.type == "bar":
            by_pair.setdefault((t.xaxis, t.yaxis), []).append(i)
    out = {}
    for members in by_pair.values():
        for k, i in enumerate(members):
            out[i] = (k, len(members)) if grouped else (0, 1)
    return out


def _positions(values: Sequence[Any], date_axis: bool) -> tuple[np.ndarray, float, list[str]]:
    """Numeric positions of bar categories or dates, the spacing between them, and tick
    labels for categories (empty for dates)."""
    if date_axis:
        import matplotlib.dates as mdates

        pos = mdates.date2num(pd.to_datetime(np.asarray(values)).to_pydatetime())
        step = float(np.min(np.diff(np.sort(pos)))) if len(pos) > 1 else 1.0
        return np.asarray(pos), step, []
    labels = [str(v) for v in values]
    return np.arange(len(labels), dtype=float), 1.0, labels


def _bar(ax: Axes, trace: Any, xaxis: dict[str, Any], slot: int, n_slots: int) -> Any:
    horizontal = trace.orientation == "h"
    cats = trace.y if horizontal else trace.x
    values = np.asarray(trace.x if horizontal else trace.y, dtype=float)
    pos, step, labels = _positions(list(cats), xaxis.get("type") == "date" and not horizontal)
    width = 0.8 * step / n_slots
    pos = pos - 0.4 * step + width * (slot + 0.5)
    colours = trace.marker.color
    colours = [_rgba(c) for c in colours] if isinstance(colours, list | tuple) else _rgba(colours)
    err = trace.error_x if horizontal else trace.error_y
    spread = None
    if err is not None and err.array is not None:
        plus = np.asarray(err.array, dtype=float)
        minus = np.asarray(err.arrayminus, dtype=float) if err.arrayminus is not None else plus
        spread = np.vstack([minus, plus])
    if horizontal:
        artist = ax.barh(pos, values, height=width, color=colours, xerr=spread, capsize=3)
        if labels:
            ax.set_yticks(np.arange(len(labels)), labels)
    else:
        artist = ax.bar(pos, values, width=width, color=colours, yerr=spread, capsize=3)
        if labels:
            ax.set_xticks(np.arange(len(labels)), labels, rotation=30 if len(labels) > 6 else 0)
        else:
            ax.xaxis_date()
    return artist


def _heatmap(out: Figure, ax: Axes, trace: Any) -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    scale = [(float(p), _rgba(c)) for p, c in trace.colorscale]
    cmap = LinearSegmentedColormap.from_list("plotly", scale)
    cmap = cmap.reversed() if trace.reversescale else cmap
    z = np.asarray(trace.z, dtype=float)
    image = ax.imshow(z, cmap=cmap, vmin=trace.zmin, vmax=trace.zmax, aspect="auto")
    ax.set_xticks(np.arange(z.shape[1]), [str(v) for v in trace.x], rotation=45, ha="right")
    ax.set_yticks(np.arange(z.shape[0]), [str(v) for v in trace.y])
    if trace.text is not None:
        for (r, c), text in np.ndenumerate(np.asarray(trace.text, dtype=object)):
            ax.text(c, r, str(text), ha="center", va="center", fontsize=8)
    out.colorbar(image, ax=ax)
    return None


def _waterfall(ax: Axes, trace: Any) -> Any:
    running, bottoms, heights, colours = 0.0, [], [], []
    up = _rgba(trace.increasing.marker.color, "tab:green")
    down = _rgba(trace.decreasing.marker.color, "tab:red")
    total = _rgba(trace.totals.marker.color, "tab:blue")
    for value, measure in zip(trace.y, trace.measure or ["relative"] * len(trace.y),
                              strict=True):
        if measure == "total":
            bottoms.append(0.0)
            heights.append(running)
            colours.append(total)
            continue
        bottoms.append(running if value >= 0 else running + value)
        heights.append(abs(value))
        colours.append(up if value >= 0 else down)
        running += value
    labels = [str(v) for v in trace.x]
    artist = ax.bar(np.arange(len(labels)), heights, bottom=bottoms, color=colours)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=30, ha="right")
    return artist


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("text")
    return str(value) if value else None


def _decorate(out: Figure, axes: dict[tuple[str, str], Axes], layout: dict[str, Any]) -> None:
    """Titles, axis titles, axis kinds and subplot titles."""
    from matplotlib.ticker import PercentFormatter

    title = _text(layout.get("title"))
    if title:
        out.suptitle(title, x=0.01, ha="left", fontsize=12)
    for (xk, yk), ax in axes.items():
        xa, ya = layout.get(xk, {}), layout.get(yk, {})
        ax.set_xlabel(_text(xa.get("title")) or "")
        ax.set_ylabel(_text(ya.get("title")) or "")
        for spec, which in ((xa, ax.xaxis), (ya, ax.yaxis)):
            if spec.get("tickformat", "").endswith("%"):
                which.set_major_formatter(PercentFormatter(1.0))
        if ya.get("autorange") == "reversed" and not ax.yaxis_inverted():
            ax.invert_yaxis()
        if ya.get("type") == "log":
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
        xd, yd = xa.get("domain", (0, 1)), ya.get("domain", (0, 1))
        for note in layout.get("annotations", []):
            if (note.get("xref") == "paper" and abs(note.get("x", -1) - (xd[0] + xd[1]) / 2)
                    < 1e-3 and abs(note.get("y", -1) - yd[1]) < 1e-3):
                ax.set_title(str(note.get("text", "")), fontsize=9)


#: Static image formats, by file suffix: raster PNG, and vector SVG and PDF (for slides
#: and print; text stays text).
IMAGE_FORMATS = ("png", "svg", "pdf")


def image_format(path: str | Path) -> str:
    """The image format a file name asks for (its suffix), or a ValueError naming the
    formats there are."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in IMAGE_FORMATS:
        raise ValueError(f"cannot write an image as '{Path(path).name}': name the file "
                         f"with one of the suffixes {', '.join('.' + f for f in IMAGE_FORMATS)}")
    return suffix


def write_image(fig: go.Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write a Plotly figure drawn by matplotlib (atomically) as PNG, SVG or PDF, chosen
    by the file's suffix."""
    kind = image_format(path)
    image = to_matplotlib(fig, dpi=dpi)
    return atomic_write(Path(path), lambda p: image.savefig(p, format=kind, dpi=dpi))


def write_png(fig: go.Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write a Plotly figure as a PNG drawn by matplotlib (atomically), whatever the
    file's suffix; :func:`write_image` chooses the format by the suffix."""
    image = to_matplotlib(fig, dpi=dpi)
    return atomic_write(Path(path), lambda p: image.savefig(p, format="png", dpi=dpi))
