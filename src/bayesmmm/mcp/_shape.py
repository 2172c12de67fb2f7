"""Answers sized for an assistant: contributions summed per channel and per month, quarter
or year (with the posterior interval of each sum), response curves thinned to a few
spend levels, long tables paged, and plots drawn as PNG.

Sums of contributions are computed from the posterior draws of the fit file the service
serves (:func:`bayesmmm.analysis.contributions_by_period`): the interval of a sum is the
HDI of the summed draws, not a sum of per-period bounds, which would be too wide.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["FREQS", "contribution_sums", "page", "png_of_figure", "thin_curves"]

#: Periods contributions can be summed over (pandas period codes), and the word for each.
FREQS = {"total": "the whole fitted period", "Y": "calendar year", "Q": "calendar quarter",
         "M": "calendar month"}


def contribution_sums(fit: Any, freq: str, hdi_prob: float, channels_only: bool
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Contributions summed over the whole fitted period (``totals``) and per calendar
    period of ``freq`` (``Y``, ``Q``, ``M``; ``total``: none), original units of the
    target, all panel cells together (:func:`bayesmmm.analysis.contributions_by_period`).

    Returns ``(totals, by_period)``: rows of component, kind, mean, sd and HDI bounds;
    totals add ``share`` (of the summed means of all components) and by-period rows
    ``period``, its ``start`` and ``end`` and ``n_periods`` (data periods inside it: the
    first and last may be partial).
    """
    from bayesmmm.analysis import contributions_by_period

    whole = contributions_by_period(fit, "total", hdi_prob=hdi_prob)
    grand = float(whole["mean"].sum())
    whole["share"] = whole["mean"] / grand if grand else None
    keep = (lambda t: t[t["kind"] == "channel"]) if channels_only else (lambda t: t)
    totals = keep(whole).drop(columns=["period", "start", "end", "n_periods"])
    if freq == "total":
        return totals.to_dict(orient="records"), []
    rows = keep(contributions_by_period(fit, freq, hdi_prob=hdi_prob))
    return totals.to_dict(orient="records"), rows.to_dict(orient="records")


def page(rows: Sequence[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """``rows[offset:offset + limit]`` with the total and the next offset (None: last)."""
    chunk = list(rows[offset:offset + limit])
    following = offset + len(chunk)
    return {"rows": chunk, "total_rows": len(rows), "offset": offset, "limit": limit,
            "next_offset": following if following < len(rows) else None}


def thin_curves(rows: Sequence[dict[str, Any]], points: int) -> list[dict[str, Any]]:
    """About ``points`` spend levels per channel, evenly spaced along each curve, always
    keeping zero spend, the current spend and the largest level computed."""
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_channel.setdefault(str(row.get("channel")), []).append(row)
    out = []
    for curve in by_channel.values():
        n = len(curve)
        keep = set(np.unique(np.linspace(0, n - 1, max(points, 2)).round().astype(int)))
        keep |= {i for i, r in enumerate(curve) if r.get("current")}
        out += [curve[i] for i in sorted(keep)]
    return out


def png_of_figure(figure_json: str | bytes, dpi: int = 100) -> bytes:
    """A Plotly figure's JSON (getPlot's answer) drawn as PNG with the report layer's
    matplotlib renderer (:func:`bayesmmm.report.to_matplotlib`)."""
    import plotly.io as pio

    from bayesmmm.report import to_matplotlib

    text = figure_json.decode("utf-8") if isinstance(figure_json, bytes) else figure_json
    figure = pio.from_json(text, skip_invalid=True)
    image = to_matplotlib(figure, dpi=dpi)
    buffer = io.BytesIO()
    image.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
