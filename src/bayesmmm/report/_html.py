"""A self-contained HTML page of Plotly figures: plotly.js inlined once, no network."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import plotly.graph_objects as go

from bayesmmm._files import atomic_write

__all__ = ["figure_div", "figures_html", "page_html", "plotly_js", "write_figures_html"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2937; background: #f8fafc; }
header { padding: 1.2rem 2rem; background: #ffffff; border-bottom: 1px solid #e5e7eb; }
h1 { font-size: 1.4rem; margin: 0 0 0.4rem 0; }
main { padding: 1rem 2rem; max-width: 1200px; margin: auto; }
section.figure { background: #ffffff; border: 1px solid #e5e7eb; border-radius: 6px;
                 margin: 1rem 0; padding: 0.5rem; }
ul.notes { margin: 0.3rem 0; padding-left: 1.2rem; }
nav a { margin-right: 0.8rem; font-size: 0.9rem; }
"""


#: The print layout (the browser's "save as PDF", ``bayesmmm report --pdf``); it comes
#: after every page's own style, so that it wins in print.
_PRINT = """
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { background: #ffffff; font-size: 10pt; }
  header, main { padding: 0; max-width: none; }
  header { border: none; }
  nav, .modebar-container { display: none !important; }
  section.figure, section.part, div.figure, table, tr, .verdict { break-inside: avoid; }
  section.part { border: none; padding: 0; margin: 0 0 8mm 0; }
  h2, h3 { break-after: avoid; }
  div.scroll { max-height: none; overflow: visible; }
  .verdict, td.ok, td.care, td.bad { print-color-adjust: exact;
                                     -webkit-print-color-adjust: exact; }
}
"""


def plotly_js() -> str:
    """The plotly.js bundled with the installed ``plotly`` package (works offline)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def figure_div(fig: go.Figure, name: str) -> str:
    """One figure as a ``<div id="figure-{name}">`` drawn by the page's inlined plotly.js."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{name}",
                       config={"displaylogo": False, "responsive": True})


def page_html(title: str, header: str, body: str, style: str = "") -> str:
    """A whole self-contained document: ``header`` and ``body`` are HTML (escaped by the
    caller), plotly.js is inlined once, ``style`` adds CSS rules to the shared ones."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}{style}{_PRINT}</style>"
        f"<script type=\"text/javascript\">{plotly_js()}</script></head><body>"
        f"<header><h1>{html.escape(title)}</h1>{header}</header>"
        f"<main>{body}</main></body></html>\n")


def figures_html(figures: Mapping[str, go.Figure], title: str,
                 notes: Sequence[str] = ()) -> str:
    """One HTML document showing ``figures`` in order, self-contained.

    Parameters
    ----------
    figures : mapping of name to Plotly figure
        Names become the sections' anchors (``#correlation``).
    title : str
        Page title and heading.
    notes : sequence of str
        Lines shown under the heading (plain text, escaped).
    """
    nav = " ".join(f'<a href="#{html.escape(n)}">{html.escape(n.replace("_", " "))}</a>'
                   for n in figures)
    sections = "".join(f'<section class="figure" id="{html.escape(name)}">'
                       f"{figure_div(fig, name)}</section>" for name, fig in figures.items())
    items = "".join(f"<li>{html.escape(line)}</li>" for line in notes)
    listed = f'<ul class="notes">{items}</ul>' if items else ""
    return page_html(title, f"{listed}<nav>{nav}</nav>", sections)


def write_figures_html(figures: Mapping[str, go.Figure], path: str | Path, title: str,
                       notes: Sequence[str] = ()) -> Path:
    """Write :func:`figures_html` to ``path`` (atomically)."""
    text = figures_html(figures, title, notes)
    return atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
