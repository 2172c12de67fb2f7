"""The what-if simulator: a percent change of spend per channel in; the plan's expected
sales, ROI and marginal ROI per channel out, each with its HDI; sliders in a notebook.

:func:`simulate` is the computing core, a pure function of the fit (or a prepared
:class:`Planner`) and the changes. The plan is the current plan (historical rate over
``n_periods``) with each channel's spend multiplied by ``1 + change / 100`` in every
geo, i.e. the plan that :func:`evaluate_plan` and :func:`compare_scenarios` price; its
numbers come from the same :class:`Planner` (incremental sales per draw, and marginal
ROI per cell as :func:`analyze_channel` averages it), so they equal theirs.

:func:`simulator` puts the core behind one slider per channel (ipywidgets, the
``notebook`` extra). Where widgets are unavailable (ipywidgets not installed, or the
environment variable ``BAYESMMM_NO_WIDGETS=1``) it shows a static table of preset moves
(each channel alone at -50, -20, 0, +20, +50 %) with the same columns, and one note
saying why and how to get the sliders.
"""

from __future__ import annotations

import html
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm._numbers import format_number as num
from bayesmmm.analysis import hdi_columns
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize._planner import Planner
from bayesmmm.optimize._report import describe, ratio, shares

__all__ = ["NO_WIDGETS_ENV", "Simulation", "SimulatorView", "simulate", "simulator"]

#: Set to 1 to show the static table of preset moves instead of sliders.
NO_WIDGETS_ENV = "BAYESMMM_NO_WIDGETS"

#: The preset moves of the static table, percent changes of one channel's spend.
DEFAULT_MOVES = (-50.0, -20.0, 0.0, 20.0, 50.0)

#: The quantities of a simulation, each a mean with its HDI (columns ``<q>``,
#: ``<q>_hdi_3%``, ``<q>_hdi_97%``) and its label on screen.
_QUANTITIES = {"sales": "expected sales", "sales_change": "vs current", "roi": "ROI",
               "marginal_roi": "marginal ROI"}


@dataclass(frozen=True)
class Simulation:
    """One plan of the simulator against the current plan (historical rate).

    Attributes
    ----------
    changes : dict
        Percent change of spend per channel (every channel, 0 where unchanged).
    table : DataFrame
        One row per channel and a ``total`` row: ``change_pct``, ``current_spend``,
        ``plan_spend`` (currency over the horizon); ``sales`` (incremental sales of
        the plan), ``sales_change`` (per-draw difference to the current plan), ``roi``
        (sales / spend) and ``marginal_roi`` (sales of one more unit of spend at the
        plan's level, spread over geos like the plan; the total row's spreads it over
        channels like the plan), each as mean and HDI (``<name>_hdi_3%``,
        ``<name>_hdi_97%`` for 0.94). NaN where a channel spends nothing (no ROI).
    prob_better : float
        Posterior probability that the plan brings more incremental sales in total
        (NaN for the current plan itself).
    n_periods : int
    hdi_prob : float
    """

    changes: dict[str, float]
    table: pd.DataFrame
    prob_better: float
    n_periods: int
    hdi_prob: float = 0.94

    def summary(self) -> str:
        """The plan's totals in one sentence."""
        t = self.table.loc["total"]
        low, high = hdi_columns(self.hdi_prob)
        pct = self.hdi_prob
        return (f"Plan over {self.n_periods} periods: spend {num(t['plan_spend'])} "
                f"({_pct(t['change_pct'])} vs current); expected incremental sales "
                f"{num(t['sales'])} ({pct:.0%} HDI {num(t[f'sales_{low}'])} to "
                f"{num(t[f'sales_{high}'])}), {_signed(t['sales_change'])} vs current "
                f"({pct:.0%} HDI {num(t[f'sales_change_{low}'])} to "
                f"{num(t[f'sales_change_{high}'])})"
                + ("; this is the current plan." if math.isnan(self.prob_better) else
                   f"; probability of more sales than the current plan "
                   f"{self.prob_better:.0%}."))

    def to_display(self) -> pd.DataFrame:
        """The table as people read it: numbers formatted as everywhere in BayesMMM,
        each mean with its HDI in one cell."""
        return _display(self.table, self.hdi_prob)


def _pct(value: float) -> str:
    """A percent change, signed, without a ``-0%`` for rounding noise."""
    if not np.isfinite(value):
        return "–"
    return "0%" if round(value) == 0 else f"{value:+.0f}%"


def _signed(value: float) -> str:
    text = num(value)
    return text if text.startswith(("-", "–")) or text == "0" else f"+{text}"


def _with_hdi(row: pd.Series, name: str, low: str, high: str) -> str:
    if not np.isfinite(row[name]):
        return "–"
    return f"{num(row[name])} ({num(row[f'{name}_{low}'])} to {num(row[f'{name}_{high}'])})"


def _display(table: pd.DataFrame, hdi_prob: float) -> pd.DataFrame:
    low, high = hdi_columns(hdi_prob)
    out = pd.DataFrame(index=table.index)
    out["spend"] = [num(v) for v in table["plan_spend"]]
    out["change"] = [_pct(v) for v in table["change_pct"]]
    for name, label in _QUANTITIES.items():
        out[f"{label} ({hdi_prob:.0%} HDI)"] = [_with_hdi(r, name, low, high)
                                               for _, r in table.iterrows()]
    if "prob_better" in table.columns:
        out["P(more sales)"] = [f"{p:.0%}" if np.isfinite(p) else "–"
                                for p in table["prob_better"]]
    return out


def _multipliers(planner: Planner, changes: Mapping[str, Any] | None) -> np.ndarray:
    """``1 + change / 100`` per channel, after checking every name and value."""
    changes = {} if changes is None else changes
    if not isinstance(changes, Mapping):
        raise SpecError(f"changes must map channel names to percent changes of spend, e.g. "
                        f"{{'tv': -20, 'search': 30}}, got {changes!r}")
    unknown = sorted(str(k) for k in set(changes) - set(planner.channels))
    if unknown:
        raise SpecError(f"Unknown channel(s) {unknown} in the changes; expected names from "
                        f"{planner.channels}")
    out = np.ones(len(planner.channels))
    for name, value in changes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise SpecError(f"the change for {name!r} must be a finite percent change such as "
                            f"-20 or 30, got {value!r}")
        pct = float(value)
        if pct < -100:
            c = planner.channels.index(name)
            now = float(planner.reference[:, c].sum())
            raise SpecError(f"a change of {pct:g}% for {name!r} would make its spend "
                            f"negative ({num(now * (1 + pct / 100))} over "
                            f"{planner.n_periods} periods); a change must be >= -100% "
                            "(-100% stops the channel)")
        out[planner.channels.index(name)] = 1 + pct / 100
    return out


def simulate(fit: Fit | AveragedFit | Planner, changes: Mapping[str, float] | None = None, *,
             n_periods: int = 13, gap: int = 0,
             pattern: str | Sequence[float] | np.ndarray = "flat",
             hdi_prob: float = 0.94) -> Simulation:
    """Price the current plan with each channel's spend changed by a percent.

    Parameters
    ----------
    fit : Fit, AveragedFit or Planner
        A fit (geo panels and averaged fits included), or a :class:`Planner` built
        once for many calls (then ``n_periods``, ``gap`` and ``pattern`` are its own;
        all posterior draws are used either way).
    changes : mapping, optional
        ``{channel: percent change of spend}``, e.g. ``{'tv': -20, 'search': 30}``;
        channels not named keep their current spend. A change is >= -100.
    n_periods, gap, pattern
        The horizon (see :func:`optimize_budget`).
    hdi_prob : float

    Returns
    -------
    Simulation
        Per channel and in total: spend, expected sales, change vs the current plan,
        ROI and marginal ROI, each with its HDI; P(more sales than current).

    Notes
    -----
    With spend ``x[g, c] = m_c * ref[g, c]`` (``ref``: the historical rate) and
    incremental sales ``s[d, g, c]`` per draw ``d``: ``roi_c = sum_g s / sum_g x``,
    ``marginal_roi_c = sum_g w[g, c] * ds[d, g, c] / dx[g, c]`` with ``w`` each geo's
    share of the channel's spend, and the total's ``marginal_roi = sum_c x_c *
    marginal_roi_c / sum_c x_c``.
    """
    planner = fit if isinstance(fit, Planner) else Planner(
        fit, n_periods, gap=gap, pattern=pattern, n_draws=None)
    mult = _multipliers(planner, changes)
    ref = planner.reference
    x = ref * mult[None, :]
    current = planner.cells(planner.spend_per_period(ref)).sum(1)  # (S, C)
    sales = planner.cells(planner.spend_per_period(x)).sum(1)
    per_geo = planner.marginal(x)  # (S, G, C)
    mroi = (per_geo * shares(x, ref)[None]).sum(1)  # (S, C)
    spend_c, ref_c = x.sum(0), ref.sum(0)
    mroi_total = ratio((mroi * spend_c[None]).sum(1), spend_c.sum())
    all_sales = np.column_stack([sales, sales.sum(1)])
    all_current = np.column_stack([current, current.sum(1)])
    spend = np.append(spend_c, spend_c.sum())
    draws = {"sales": all_sales, "sales_change": all_sales - all_current,
             "roi": ratio(all_sales, spend[None]),
             "marginal_roi": np.column_stack([mroi, mroi_total])}
    cur_spend = np.append(ref_c, ref_c.sum())
    columns: dict[str, np.ndarray] = {
        "change_pct": 100 * (ratio(spend, cur_spend) - 1), "current_spend": cur_spend,
        "plan_spend": spend}
    for name, value in draws.items():
        d = describe(value, hdi_prob, f"{name}_")
        columns[name] = d.pop(f"{name}_mean")
        columns.update(d)
    table = pd.DataFrame(columns, index=pd.Index([*planner.channels, "total"], name="channel"))
    prob = (float((all_sales[:, -1] > all_current[:, -1]).mean()) if (mult != 1).any()
            else math.nan)
    pcts = {c: float((changes or {}).get(c, 0.0)) for c in planner.channels}
    return Simulation(pcts, table, prob, planner.n_periods, hdi_prob)


def preset_table(planner: Planner, channels: Sequence[str],
                 moves: Sequence[float] = DEFAULT_MOVES, hdi_prob: float = 0.94
                 ) -> pd.DataFrame:
    """Each of ``channels`` alone moved by each of ``moves`` (percent), others at the
    current plan: one row per (channel, move) with that channel's row of
    :func:`simulate` (the change in sales is then the plan's) and ``prob_better``."""
    rows = []
    for channel in channels:
        for move in moves:
            sim = simulate(planner, {channel: move}, hdi_prob=hdi_prob)
            rows.append(sim.table.loc[channel].to_dict() | {"prob_better": sim.prob_better})
    index = pd.MultiIndex.from_product([list(channels), [float(m) for m in moves]],
                                       names=["channel", "move_pct"])
    return pd.DataFrame(rows, index=index)


def _widgets_unavailable(widgets: bool | None) -> str | None:
    """Why the simulator shows a table instead of sliders, or None (sliders)."""
    if widgets is False:
        return "showing preset moves instead of sliders (widgets=False)"
    if widgets is None and os.environ.get(NO_WIDGETS_ENV, "") not in ("", "0"):
        return (f"showing preset moves instead of sliders ({NO_WIDGETS_ENV}="
                f"{os.environ[NO_WIDGETS_ENV]}); unset {NO_WIDGETS_ENV} for sliders")
    try:
        import ipywidgets  # noqa: F401
    except ImportError as exc:
        if exc.name != "ipywidgets":
            raise
        # worded as bayesmmm._extras.missing_extra's (which this layer may not import)
        message = ("the interactive simulator needs ipywidgets (the 'notebook' extra). "
                   "Fix: pip install 'bayesmmm[notebook]'")
        if widgets:
            raise ImportError(message, name="ipywidgets") from exc
        return f"showing preset moves instead of sliders: {message}"
    return None


class SimulatorView:
    """What :func:`simulator` returns: sliders, or a static table where widgets are
    unavailable. Jupyter shows it as the last expression of a cell.

    Attributes
    ----------
    simulation : Simulation
        The plan the sliders describe now (the current plan at first).
    sliders : dict
        ``{channel: ipywidgets.FloatSlider}`` (percent change of spend); empty without
        widgets. Setting a slider's ``value`` updates :attr:`simulation` and the shown
        table.
    widget : ipywidgets.VBox or None
        The sliders and the output area (an ``HTML`` widget).
    presets : DataFrame or None
        Without widgets: :func:`preset_table`'s grid of preset moves.
    note : str or None
        Without widgets: why, and how to get them.
    """

    def __init__(self, planner: Planner, channels: Sequence[str], *,
                 range_pct: tuple[float, float], step_pct: float, moves: Sequence[float],
                 hdi_prob: float, unavailable: str | None) -> None:
        self.planner = planner
        self.hdi_prob = hdi_prob
        self.note = f"note: {unavailable}" if unavailable else None
        self.simulation = simulate(planner, hdi_prob=hdi_prob)
        self.sliders: dict[str, Any] = {}
        self.widget: Any = None
        self.presets: pd.DataFrame | None = None
        self._holding = False
        if unavailable:
            self.presets = preset_table(planner, channels, moves, hdi_prob)
        else:
            self._build(channels, range_pct, step_pct)

    def _build(self, channels: Sequence[str], range_pct: tuple[float, float],
               step_pct: float) -> None:
        import ipywidgets as widgets

        for channel in channels:
            slider = widgets.FloatSlider(
                value=0.0, min=range_pct[0], max=range_pct[1], step=step_pct,
                description=f"{channel} (%)", continuous_update=False, readout_format="+.0f",
                style={"description_width": "initial"},
                layout=widgets.Layout(width="420px"))
            slider.observe(self._changed, names="value")
            self.sliders[channel] = slider
        reset = widgets.Button(description="Reset to current plan")
        reset.on_click(lambda _: self.reset())
        self._output = widgets.HTML(self._html())
        self.widget = widgets.VBox([*self.sliders.values(), reset, self._output])

    def _changed(self, _change: Any = None) -> None:
        if self._holding:
            return
        changes = {c: float(s.value) for c, s in self.sliders.items()}
        try:
            self.simulation = simulate(self.planner, changes, hdi_prob=self.hdi_prob)
        except SpecError as exc:  # sliders clamp to range_pct; a safeguard only
            self._output.value = f"<p>{html.escape(str(exc))}</p>"
            return
        self._output.value = self._html()

    def reset(self) -> None:
        """Every slider back to 0 (the current plan), recomputed once."""
        self._holding = True
        try:
            for slider in self.sliders.values():
                slider.value = 0.0
        finally:
            self._holding = False
        self._changed()

    def _html(self) -> str:
        return (f"<p>{html.escape(self.simulation.summary())}</p>"
                + self.simulation.to_display().to_html())

    def _static(self) -> tuple[str, str]:
        assert self.presets is not None and self.note is not None
        shown = _display(self.presets, self.hdi_prob)
        title = (f"Each channel alone moved by a preset percent, over "
                 f"{self.planner.n_periods} periods (expected sales, change, ROI and marginal "
                 "ROI are the moved channel's; P(more sales) is the plan's)")
        text = f"{self.note}\n\n{title}\n{shown.to_string()}"
        page = (f"<p>{html.escape(self.note)}</p><p>{html.escape(title)}</p>"
                + shown.to_html())
        return text, page

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None
                          ) -> dict[str, Any]:
        if self.widget is not None:
            bundle: dict[str, Any] = self.widget._repr_mimebundle_()
            return bundle
        text, page = self._static()
        return {"text/plain": text, "text/html": page}

    def __repr__(self) -> str:
        if self.widget is None:
            return self._static()[0]
        return f"{self.simulation.summary()}\n{self.simulation.to_display().to_string()}"


def _check_range(range_pct: Any, step_pct: Any) -> tuple[tuple[float, float], float]:
    try:
        low, high = (float(v) for v in range_pct)
    except (TypeError, ValueError):
        raise SpecError(f"range_pct must be two percents (lowest, highest), e.g. (-100, 200), "
                        f"got {range_pct!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low < -100 or not low <= 0 <= high \
            or low == high:
        raise SpecError(f"range_pct must run from a change >= -100 up to one above it, with "
                        f"0 (the current plan) inside, got {range_pct!r}")
    if isinstance(step_pct, bool) or not isinstance(step_pct, numbers.Real) \
            or not 0 < float(step_pct) <= high - low:
        raise SpecError(f"step_pct must be a number above 0 and at most the range's width "
                        f"({high - low:g}), got {step_pct!r}")
    return (low, high), float(step_pct)


def simulator(fit: Fit | AveragedFit, n_periods: int = 13, *,
              channels: Sequence[str] | None = None,
              range_pct: tuple[float, float] = (-100, 200), step_pct: float = 10,
              moves: Sequence[float] = DEFAULT_MOVES, gap: int = 0,
              pattern: str | Sequence[float] | np.ndarray = "flat", hdi_prob: float = 0.94,
              widgets: bool | None = None) -> SimulatorView:
    """An interactive what-if simulator for a notebook: one slider per channel.

    Each slider is a percent change of that channel's spend from the current plan
    (historical rate over ``n_periods``); on each release the output shows, per channel
    and in total, the plan's spend, expected incremental sales, change vs the current
    plan, ROI and marginal ROI with their HDIs (:func:`simulate`), and the probability
    of more sales than the current plan.

    Without widgets (ipywidgets, the ``notebook`` extra, not installed; the environment
    variable ``BAYESMMM_NO_WIDGETS=1``; or ``widgets=False``) it shows a static table
    instead: each channel alone at each of ``moves`` percent, with the same columns,
    and a note saying why and how to get the sliders.

    Parameters
    ----------
    fit : Fit or AveragedFit
    n_periods, gap, pattern
        The horizon (see :func:`optimize_budget`).
    channels : list of str, optional
        Channels with a slider (or preset rows); default all. Others keep their spend.
    range_pct : (float, float)
        The sliders' lowest and highest percent change (>= -100; 0 inside).
    step_pct : float
        The sliders' step, percent.
    moves : sequence of float
        The static table's percent changes.
    hdi_prob : float
    widgets : bool, optional
        None: sliders when possible; True: sliders or an ImportError saying how to get
        them; False: the static table.

    Returns
    -------
    SimulatorView
        Shown by Jupyter; ``.sliders``, ``.simulation``, ``.presets`` and ``.note`` for
        code.
    """
    names = list(fit.spec.channel_columns)
    chosen = list(names if channels is None else channels)
    if isinstance(channels, str) or not chosen:
        raise SpecError(f"channels must be a non-empty list of channel names, got {channels!r}")
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise SpecError(f"Unknown channel(s) {unknown}; expected names from {names}")
    range_checked, step = _check_range(range_pct, step_pct)
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=None)
    # a bad move fails here, before any widget or table is built
    for move in moves:
        _multipliers(planner, {chosen[0]: move})
    moves = [float(m) for m in moves]
    return SimulatorView(planner, chosen, range_pct=range_checked, step_pct=step, moves=moves,
                         hdi_prob=hdi_prob, unavailable=_widgets_unavailable(widgets))
