"""(d) Structures that predict equally well but disagree on a channel's ROI.

An averaged fit's ROI is the stacking mixture of its members'. When two structures
predict the data about equally well (their ELPDs within :data:`ELPD_NOISE` of each
other) yet their ROI intervals for a channel do not overlap, the data cannot tell which
response shape is right, and the mixture's single interval hides that it is made of two
different answers. The honest report is the range that covers both, and the fix is
evidence that separates them: a lift test for that channel.
"""

from __future__ import annotations

import math

import pandas as pd

from bayesmmm.analysis._checks._common import Finding, _finding, _num
from bayesmmm.model import AveragedFit
from bayesmmm.model._averaged import MIN_WEIGHT

__all__ = ["ELPD_NOISE", "STRUCTURE_WEIGHT", "structure_checks"]

#: Two structures whose PSIS-LOO ELPDs differ by less than this predict the data about
#: equally well: differences below 4 are within the estimate's own noise (Sivula,
#: Magnusson and Vehtari 2020 call such differences small).
ELPD_NOISE = 4.0
#: Without a comparison table (an averaged fit built by hand), the members that carry at
#: least this weight are the ones compared.
STRUCTURE_WEIGHT = 0.05


def rivals(fit: AveragedFit) -> list[str]:
    """The members that predict about as well as the best one (see :data:`ELPD_NOISE`),
    best first; members without weight are left out."""
    carried = [k for k in fit.fits if fit.weights[k] >= MIN_WEIGHT]
    table = fit.comparison
    if table is not None and "elpd_loo" in table.columns:
        elpd = pd.to_numeric(table["elpd_loo"].reindex(carried), errors="coerce")
        if elpd.notna().any():
            best = float(elpd.max())
            return [str(k) for k in elpd.sort_values(ascending=False).index
                    if elpd[k] >= best - ELPD_NOISE]
    return sorted((k for k in carried if fit.weights[k] >= STRUCTURE_WEIGHT),
                  key=lambda k: -fit.weights[k])


def structure_checks(fit: AveragedFit, hdi_prob: float = 0.94) -> list[Finding]:
    """For each channel: do structures within LOO noise of each other give ROI intervals
    that do not overlap? ``value`` is the gap between the intervals (0 when they overlap,
    in ROI units); ``care`` when there is one, with the range that covers them all."""
    names = rivals(fit)
    if len(names) < 2:
        return []
    lo, hi = f"hdi_{(1 - hdi_prob) / 2:.0%}", f"hdi_{(1 + hdi_prob) / 2:.0%}"
    tables = {k: fit.fits[k].roi(hdi_prob=hdi_prob) for k in names}
    rule = (f"the {hdi_prob:.0%} ROI intervals of structures within {ELPD_NOISE:g} ELPD of "
            "the best overlap")
    out = []
    for channel in fit.spec.channel_columns:
        rows = {k: t.loc[channel] for k, t in tables.items()}
        gap = max(float(rows[a][lo]) - float(rows[b][hi]) for a in names for b in names)
        low = min(float(r[lo]) for r in rows.values())
        high = max(float(r[hi]) for r in rows.values())
        each = "; ".join(f"{k} {_num(float(r['roi']))} [{_num(float(r[lo]))}, "
                         f"{_num(float(r[hi]))}]" for k, r in rows.items())
        out.append(_finding(
            "structures disagree", channel, max(gap, 0.0) if math.isfinite(gap) else gap,
            rule, "care" if gap > 0 else "ok",
            f"structures that predict equally well disagree on {channel}'s ROI",
            f"Structures that predict the data about equally well give {channel} ROIs "
            f"whose intervals do not overlap ({each}). The data cannot tell which response "
            f"shape is right: report {channel}'s ROI as the range {_num(low)} to "
            f"{_num(high)}, not one number. Fix: a lift test (experiment) for {channel} "
            "decides between them (lift_tests in the spec)."))
    return out
