"""Answers sized for an assistant: contributions summed per channel and per month, quarter
or year (with the posterior interval of each sum), response curves thinned to a few
spend levels, long tables paged, and plots drawn as PNG.

Sums of contributions are computed from the posterior draws of the fit file the service
serves (:func:`bayesmmm.analysis.component_draws`): the interval of a sum is the HDI of
the summed draws, not a sum of per-period bounds, which would be too wide.
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


def _kinds(fit: Any) -> dict[str, str]:
    from bayesmmm.model import Site

    kinds = {Site.INTERCEPT: "baseline"}
    kinds.update({c: "control" for c in fit.data.control_names})
    kinds.update({c: "channel" for c in fit.spec.channel_columns})
    return kinds


def _describe(draws: np.ndarray, hdi_prob: float) -> dict[str, np.ndarray]:
    """Mean, sd and HDI of ``(n_samples, k)`` draws along the samples."""
    from bayesmmm.analysis import hdi, hdi_columns

    low, high = hdi(draws, hdi_prob)
    names = hdi_columns(hdi_prob)
    return {"mean": draws.mean(axis=0), "sd": draws.std(axis=0), names[0]: low,
            names[1]: high}


def contribution_sums(fit: Any, freq: str, hdi_prob: float, channels_only: bool
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Contributions summed over the whole fitted period (``totals``) and per calendar
    period of ``freq`` (``Y``, ``Q``, ``M``; ``total``: none), original units of the
    target, all panel cells together.

    Returns ``(totals, by_period)``: rows of component, kind, mean, sd and HDI bounds;
    totals add ``share`` (of the summed means of all components) and by-period rows
    ``period`` and ``n_periods`` (data periods inside it: the first and last may be
    partial).
    """
    from bayesmmm.analysis import component_draws

    draws = {k: v.sum(axis=1) for k, v in component_draws(fit, keep_geo=True).items()}
    kinds = _kinds(fit)
    names = [k for k in draws if not channels_only or kinds.get(k, k) == "channel"]
    whole = {k: draws[k].sum(axis=1) for k in draws}  # (n_samples,) per component
    grand = float(sum(v.mean() for v in whole.values()))
    stats = _describe(np.stack([whole[k] for k in names], axis=1), hdi_prob)
    totals = [{"component": k, "kind": kinds.get(k, k),
               **{s: float(v[i]) for s, v in stats.items()},
               "share": float(whole[k].mean() / grand) if grand else None}
              for i, k in enumerate(names)]
    if freq == "total":
        return totals, []
    labels = fit.data.dates.to_period(freq).astype(str)
    periods = list(dict.fromkeys(labels))
    index = {p: np.flatnonzero(labels == p) for p in periods}
    rows = []
    for k in names:
        summed = np.stack([draws[k][:, index[p]].sum(axis=1) for p in periods], axis=1)
        per = _describe(summed, hdi_prob)
        rows += [{"period": p, "component": k, "kind": kinds.get(k, k),
                  **{s: float(v[j]) for s, v in per.items()}, "n_periods": len(index[p])}
                 for j, p in enumerate(periods)]
    rows.sort(key=lambda r: periods.index(r["period"]))
    return totals, rows


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
