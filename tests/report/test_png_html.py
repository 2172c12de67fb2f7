"""PNG export (matplotlib redraws the Plotly figure) and the self-contained HTML page."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import bayesmmm as bm
from bayesmmm.data import MMMData
from bayesmmm.report import (
    figures_html,
    plot_actual_vs_fitted,
    plot_correlation,
    plot_data_correlation,
    plot_roi,
    plot_sales_vs_spend,
    plot_spend,
    plot_spend_vs_effect,
    plot_waterfall,
    to_matplotlib,
    write_figures_html,
    write_png,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_lines_are_redrawn_with_the_same_numbers(tiny_fit: bm.Fit) -> None:
    fig = plot_actual_vs_fitted(tiny_fit)
    image = to_matplotlib(fig)
    ax = image.axes[0]
    ys = [np.asarray(line.get_ydata(), dtype=float) for line in ax.lines]
    assert any(np.allclose(y, tiny_fit.data.y) for y in ys)
    assert image.get_suptitle().startswith("Actual vs fitted")
    legend = [t.get_text() for t in image.legends[0].get_texts()]
    assert legend == ["94% predictive interval", "actual", "fitted (mean)"]


def test_bars_heatmap_and_waterfall(tiny_fit: bm.Fit, example_data: MMMData) -> None:
    roi = tiny_fit.roi()["roi"].to_numpy()
    bars = to_matplotlib(plot_roi(tiny_fit)).axes[0].patches
    np.testing.assert_allclose([p.get_height() for p in bars], roi, rtol=1e-6)
    grouped = to_matplotlib(plot_spend_vs_effect(tiny_fit)).axes[0].patches
    assert len(grouped) == 4 and grouped[0].get_width() == pytest.approx(0.4)
    heat = to_matplotlib(plot_correlation(example_data))
    np.testing.assert_allclose(heat.axes[0].images[0].get_array(),
                               plot_data_correlation(example_data).to_numpy())
    fall = to_matplotlib(plot_waterfall(tiny_fit)).axes[0].patches
    trace = plot_waterfall(tiny_fit).data[0]
    values = np.asarray(trace.y, dtype=float)
    assert fall[-1].get_height() == pytest.approx(values[:-1].sum())  # the total bar
    assert fall[0].get_height() == pytest.approx(abs(values[0]))


def test_a_figure_read_back_from_json_is_redrawn(tiny_fit: bm.Fit,
                                                  example_data: MMMData) -> None:
    """Plotly 6 writes arrays as compact ``bdata`` dicts; a figure from JSON (a notebook's
    output, the service's plot endpoint) draws the same numbers as the original."""
    import plotly.io as pio

    for fig in (plot_actual_vs_fitted(tiny_fit), plot_correlation(example_data)):
        again = pio.from_json(fig.to_json())
        a, b = to_matplotlib(fig).axes[0], to_matplotlib(again).axes[0]
        for x, y in zip(a.lines, b.lines, strict=True):
            np.testing.assert_allclose(np.asarray(x.get_ydata(), float),
                                       np.asarray(y.get_ydata(), float))
        for x, y in zip(a.images, b.images, strict=True):
            np.testing.assert_allclose(x.get_array(), y.get_array())
        assert len(a.lines) + len(a.images) > 0


def test_facets_become_a_grid_with_titles(example_data: MMMData) -> None:
    image = to_matplotlib(plot_sales_vs_spend(example_data))
    titles = [ax.get_title() for ax in image.axes]
    assert titles[0].startswith("x1 (r = ") and titles[1].startswith("x2 (r = ")
    dates = to_matplotlib(plot_spend(example_data, "Q"))  # bars on a date axis
    assert len(dates.axes[0].patches) == 2 * len(plot_spend(example_data, "Q").data[0].x)


def test_write_png_and_unsupported_traces(tmp_path: Path, example_data: MMMData) -> None:
    path = write_png(plot_spend(example_data), tmp_path / "spend.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="cannot draw a Plotly 'pie' trace"):
        to_matplotlib(go.Figure(go.Pie(values=[1, 2])))


def test_html_page_is_self_contained(tmp_path: Path, example_data: MMMData) -> None:
    figures = {"spend": plot_spend(example_data), "corr": plot_correlation(example_data)}
    text = figures_html(figures, "A <title>", notes=["first & only note"])
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.IGNORECASE)
    assert "<link" not in text
    assert text.count("Plotly.newPlot(") == 2 and 'id="figure-corr"' in text
    assert "A &lt;title&gt;" in text and "first &amp; only note" in text
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs()[:200] in text  # plotly.js inlined
    path = write_figures_html(figures, tmp_path / "page.html", "t")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
