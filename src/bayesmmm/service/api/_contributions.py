"""getContributions' table: per period as the library gives it, or summed per channel and
calendar period (:func:`bayesmmm.analysis.contributions_by_period`) so that the answer
stays small."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

__all__ = ["By", "Freq", "FREQS", "contribution_table"]

By = Literal["channel", "component"]
Freq = Literal["none", "W", "M", "Q", "Y"]
#: What each ``freq`` sums over, in words.
FREQS: dict[str, str] = {"none": "each period of the data", "W": "calendar week (Monday to "
                         "Sunday)", "M": "calendar month", "Q": "calendar quarter",
                         "Y": "calendar year"}


def contribution_table(fitted: Any, by: By, freq: Freq, level: str,
                       hdi_prob: float) -> pd.DataFrame:
    """Contributions in original units of the target, period by period.

    ``by='component', freq='none'`` is :meth:`Fit.contributions` itself (rows ordered by
    date, then component); every other form sums posterior draws per channel (and one
    ``base`` of the rest) or per calendar period (``period``, with the first and last date
    of the data inside it, ``start`` and ``end``, and how many data periods it holds:
    the first and last may be partial).
    """
    if by == "component" and freq == "none":
        table = fitted.contributions(hdi_prob, level)
        keys = ["panel", "date"] if "panel" in table.columns else ["date"]
        if "panel" in table.columns:  # keep the cells in the library's order
            order = {p: i for i, p in enumerate(dict.fromkeys(table["panel"]))}
            table = table.assign(_cell=table["panel"].map(order))
            keys = ["_cell", "date"]
        table = table.sort_values(keys, kind="stable").drop(columns="_cell", errors="ignore")
        return table.reset_index(drop=True)
    from bayesmmm.analysis import contributions_by_period

    return contributions_by_period(fitted, freq, by=by, level=level, hdi_prob=hdi_prob)
