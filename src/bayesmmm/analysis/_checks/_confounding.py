"""(e) Confounding: does a channel's spend follow the season or the trend?"""

from __future__ import annotations

import math

import numpy as np

from bayesmmm.analysis._checks._common import (
    CONFOUNDING_MODES,
    CONFOUNDING_R,
    LIFT_NARROWING,
    Finding,
    _finding,
    _ols,
)
from bayesmmm.model import SEASONALITIES, Fit, spend_of


# -- (e) confounding -------------------------------------------------------------------------
def confounding_checks(fit: Fit, threshold: float = CONFOUNDING_R) -> list[Finding]:
    """Is a channel's spend explained by seasonality and trend? One finding per channel.

    Each geo's spend is regressed on the model's Fourier basis (``structure.fourier``;
    :data:`CONFOUNDING_MODES` modes when the model has none) plus a linear time term;
    ``value`` is the multiple correlation R (over geos: the root of the spend-weighted
    mean R²). Above ``threshold`` the model can hardly tell the channel's effect from the
    season's or trend's, so its ROI rests on the prior.
    """
    structure, data = fit.structure, fit.data
    season = structure.fourier(data.dates) if structure.n_fourier else \
        SEASONALITIES.get(structure.seasonality).features(data.dates, CONFOUNDING_MODES)
    t = np.linspace(-1.0, 1.0, data.n_times)[:, None]
    one = np.ones_like(t)
    spend = spend_of(fit.spec, data)  # (G, T, C)
    out = []
    for c, name in enumerate(fit.spec.channel_columns):
        s = spend[..., c]
        weight = s.sum(axis=1)
        r2 = {key: _weighted_r2(s, np.hstack([one, *cols]), weight)
              for key, cols in (("both", (season, t)), ("season", (season,)), ("trend", (t,)))}
        r = math.sqrt(max(r2["both"], 0.0))
        rule = f"R <= {threshold} (spend on seasonality + linear time)"
        if r <= threshold:
            out.append(_finding("confounding", name, r, rule, "ok"))
            continue
        what = "the season" if r2["season"] >= 2 * r2["trend"] else \
            "the trend" if r2["trend"] >= 2 * r2["season"] else "the season and the trend"
        no_season = "" if structure.n_fourier else \
            " The model has no seasonality term, so the season's effect lands on the " \
            "channel: add yearly_seasonality."
        out.append(_finding(
            "confounding", name, r, rule, "care",
            f"{name}'s spend follows {what} (R = {r:.2f})",
            f"{name}'s spend moves with {what} (R = {r:.2f}): the data can hardly tell "
            f"{name}'s effect from that of {what}, so its ROI rests largely on the prior."
            f"{no_season} Fix: run a lift test on {name} (switch it off or double it in some "
            f"weeks or regions, then add the result as a LiftTest): in our measurement one lift "
            f"test narrowed such a channel's ROI interval about {LIFT_NARROWING}x. Or vary "
            f"{name}'s spend against the season in future plans."))
    return out


def _weighted_r2(s: np.ndarray, basis: np.ndarray, weight: np.ndarray) -> float:
    """Mean over geos (weighted by ``weight``) of the R² of ``s[g]`` on ``basis``."""
    r2 = []
    for g in range(s.shape[0]):
        tss = float(np.sum((s[g] - s[g].mean()) ** 2))
        if tss <= 0:
            r2.append(0.0)
            continue
        _, rss, _, _ = _ols(s[g], basis)
        r2.append(1 - rss / tss)
    w = weight if weight.sum() > 0 else np.ones_like(weight)
    return float(np.average(r2, weights=w))
