"""(d) Structures that predict equally well but disagree on a channel's ROI.

An averaged fit's ROI is the stacking mixture of its members'. When two structures
predict the data about equally well (their ELPDs within :data:`ELPD_NOISE` of each
other) yet their ROI intervals for a channel do not overlap, the data cannot tell which
response shape is right, and the mixture's single interval hides that it is made of two
different answers. The same holds when such a structure's ROI estimate lies outside the
mixture's interval: stacking weighs structures by what their predictions add, so one
that predicts as well but adds nothing gets no weight however different its ROI, and
the mixture's interval then understates how little the data say; and so it does when
such a structure's interval reaches far beyond the mixture's (a flexible curve, such as
Hill's, that leaves the ROI open while the confident structures carry the weight). The
honest report is
the range that covers them all, and the fix is evidence that separates them: a lift test
for that channel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bayesmmm.analysis._checks._common import Finding, _finding, _num
from bayesmmm.model import AveragedFit
from bayesmmm.model._averaged import MIN_WEIGHT

__all__ = ["ELPD_NOISE", "STRUCTURE_WEIGHT", "WIDER", "roi_ranges", "structure_checks"]

#: Two structures whose PSIS-LOO ELPDs differ by less than this predict the data about
#: equally well: differences below 4 are within the estimate's own noise (Sivula,
#: Magnusson and Vehtari 2020 call such differences small).
ELPD_NOISE = 4.0
#: The structures' range counts as wider than the mixture's interval (report the range)
#: beyond this factor: short of it, the difference is the pilots' own roughness.
WIDER = 1.5
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


#: The interval level of the pilots' ROIs a structure search keeps (``meta["pilot_roi"]``).
PILOT_HDI = 0.94


def _pilot_rivals(fit: AveragedFit, names: list[str], hdi_prob: float, lo: str,
                  hi: str) -> dict[str, pd.DataFrame]:
    """Structures whose pilots predicted about as well as the best pilot but that carry
    no weight (pruned, or a full fit stacking left out): their pilot ROIs, labelled
    "(pilot)". Stacking gives no weight to a structure whose predictions add nothing to
    the others', yet its ROIs may differ: that is what this check is for."""
    if not np.isclose(hdi_prob, PILOT_HDI):
        return {}
    out = {}
    for label, by_channel in (fit.meta.get("pilot_roi") or {}).items():
        if label in names:
            continue
        rows = {c: {"roi": v[0], lo: v[1], hi: v[2]} for c, v in by_channel.items()}
        out[f"{label} (pilot)"] = pd.DataFrame.from_dict(rows, orient="index")
    return out


def roi_ranges(fit: AveragedFit, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Per channel, the ROI intervals of the structures that predict about as well as
    the best one (members within :data:`ELPD_NOISE`, and pilots of structures without
    weight, see :func:`structure_checks`), against the mixture's interval.

    Returns
    -------
    DataFrame
        Index ``channel``; ``low`` and ``high`` (the range covering every compared
        interval and the mixture's), ``gap`` (how far apart the two most distant
        intervals are, 0 when all overlap), ``outside`` (the structures whose ROI
        estimate lies outside the mixture's interval, ``; ``-joined), ``disagree``
        (``gap > 0``, any ``outside``, or ``wider`` above :data:`WIDER`: report the
        range, not the mixture's interval),
        ``mixture_low`` and ``mixture_high`` (the mixture's interval), ``wider`` (the
        range's width over the mixture interval's; ``disagree`` also when above
        :data:`WIDER`), ``structures``
        (``label mean [low, high]`` of each, ``; ``-joined) and ``pilots`` (whether a
        pilot's rough interval is among them). Empty when fewer than two structures are
        compared.
    """
    names = rivals(fit)
    lo, hi = f"hdi_{(1 - hdi_prob) / 2:.0%}", f"hdi_{(1 + hdi_prob) / 2:.0%}"
    pilots = _pilot_rivals(fit, names, hdi_prob, lo, hi)
    columns = ["low", "high", "gap", "outside", "wider", "disagree", "mixture_low",
               "mixture_high", "structures", "pilots"]
    if len(names) + len(pilots) < 2:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="channel"))
    tables = {k: fit.fits[k].roi(hdi_prob=hdi_prob) for k in names} | pilots
    mixture = fit.roi(hdi_prob=hdi_prob)
    rows = {}
    for channel in fit.spec.channel_columns:
        each = {k: t.loc[channel] for k, t in tables.items()}
        gap = max(float(each[a][lo]) - float(each[b][hi]) for a in each for b in each)
        gap = max(gap, 0.0) if math.isfinite(gap) else gap
        m_lo, m_hi = float(mixture.loc[channel, lo]), float(mixture.loc[channel, hi])
        outside = [k for k, r in each.items() if not m_lo <= float(r["roi"]) <= m_hi]
        low = min([m_lo] + [float(r[lo]) for r in each.values()])
        high = max([m_hi] + [float(r[hi]) for r in each.values()])
        wider = (high - low) / (m_hi - m_lo) if m_hi > m_lo else float("inf")
        rows[channel] = {
            "low": low, "high": high, "gap": gap, "outside": "; ".join(outside),
            "wider": wider, "disagree": bool(gap > 0 or outside or wider > WIDER),
            "mixture_low": m_lo, "mixture_high": m_hi,
            "structures": "; ".join(f"{k} {_num(float(r['roi']))} [{_num(float(r[lo]))}, "
                                    f"{_num(float(r[hi]))}]" for k, r in each.items()),
            "pilots": bool(pilots)}
    out = pd.DataFrame.from_dict(rows, orient="index")[columns]
    out.index.name = "channel"
    return out


def structure_checks(fit: AveragedFit, hdi_prob: float = 0.94) -> list[Finding]:
    """For each channel: do structures within LOO noise of each other give ROI intervals
    that do not overlap, or an estimate outside the mixture's interval? The members that
    carry weight are compared, and so are the structures whose short pilot fits predicted
    as well but that carry none (their pilot ROIs, kept by
    :func:`bayesmmm.analysis.fit_auto`). ``value`` is the gap between the intervals (0
    when they overlap, in ROI units); ``care`` when they disagree either way, with the
    range that covers them all (:func:`roi_ranges`)."""
    ranges = roi_ranges(fit, hdi_prob)
    rule = (f"the {hdi_prob:.0%} ROI intervals of structures within {ELPD_NOISE:g} ELPD of "
            "the best overlap, and the averaged interval holds their estimates and most of "
            f"their range (their range at most {WIDER:g}x as wide)")
    out = []
    for channel, r in ranges.iterrows():
        rough = "; a pilot's interval is from a short fit, rough" if r["pilots"] else ""
        averaged = f"[{_num(r['mixture_low'])}, {_num(r['mixture_high'])}]"
        if r["gap"] > 0:
            what = (f"give {channel} ROIs whose intervals do not overlap "
                    f"({r['structures']}{rough})")
        elif r["outside"]:
            what = (f"give {channel} different ROIs ({r['structures']}{rough}): the "
                    f"averaged interval {averaged} leaves out the estimate of "
                    f"{r['outside']}, so it understates how little the data say")
        else:
            what = (f"leave {channel}'s ROI far more open than the averaged interval "
                    f"{averaged} says ({r['structures']}{rough}; their range is "
                    f"{r['wider']:.1f}x as wide): the structures with the weight are "
                    "confident where others, as plausible, are not")
        out.append(_finding(
            "structures disagree", str(channel), r["gap"], rule,
            "care" if r["disagree"] else "ok",
            f"structures that predict equally well disagree on {channel}'s ROI",
            f"Structures that predict the data about equally well {what}. The data cannot "
            f"tell which response shape is right: report {channel}'s ROI as the range "
            f"{_num(r['low'])} to {_num(r['high'])}, not one number. Fix: a lift test "
            f"(experiment) for {channel} decides between them (lift_tests in the spec)."))
    return out
