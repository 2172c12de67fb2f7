"""Whether a fit can be trusted: convergence and fit quality checks, in plain words.

Each check has a value, the rule it is held to and a status: ``ok``, ``care`` (the
results are usable with the caveat named) or ``bad`` (do not use them). The verdict is
the worst status of all checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesmmm.analysis._answers import summary
from bayesmmm.analysis._diagnostics import (
    ESS_BULK_MIN,
    PARETO_K_MAX,
    R_HAT_MAX,
    approximation_note,
    few_geos_advice,
    fit_metrics,
)
from bayesmmm.model import FEW_GEOS, AveragedFit, Fit

if TYPE_CHECKING:
    from bayesmmm.analysis._checks import Finding

__all__ = ["Check", "Verdict", "verdict"]

#: Above this r_hat the chains have clearly not found the same posterior.
R_HAT_BAD = 1.1
#: Below this many effective draws even the mean is unreliable (HDIs need far more).
ESS_BULK_BAD = 100
#: A larger share of divergent draws means whole regions of the posterior were missed.
DIVERGENCE_BAD = 0.01
R2_CARE, MAPE_CARE = 0.5, 20.0
DW_LOW, DW_HIGH = 1.5, 2.5
COVERAGE_CARE = 0.8

_ORDER = {"ok": 0, "care": 1, "bad": 2}
_HEADLINE = {"ok": "can be trusted", "care": "use with care", "bad": "do not use"}


@dataclass(frozen=True)
class Check:
    """One diagnostic: ``problem`` (a few words) and ``advice`` (what it means and what
    to do) are empty when the status is ``ok``."""

    name: str
    value: float
    rule: str
    status: str
    problem: str = ""
    advice: str = ""


@dataclass(frozen=True)
class Verdict:
    """The checks of one fit and their overall meaning.

    Attributes
    ----------
    checks : tuple of Check
        Convergence first (r_hat, ESS, divergences), then fit quality (R², MAPE,
        Durbin-Watson, predictive coverage).
    """

    checks: tuple[Check, ...]

    @property
    def status(self) -> str:
        """``ok``, ``care`` or ``bad``: the worst status of any check."""
        return max((c.status for c in self.checks), key=_ORDER.__getitem__, default="ok")

    @property
    def trusted(self) -> bool:
        return self.status == "ok"

    @property
    def headline(self) -> str:
        """``"can be trusted"``, ``"use with care: …"`` or ``"do not use: …"``, naming the
        problems of the worst status."""
        worst = [c.problem for c in self.checks if c.status == self.status and c.problem]
        text = _HEADLINE[self.status]
        return f"{text}: {'; '.join(worst)}" if worst else text

    @property
    def reasons(self) -> list[str]:
        """The advice of every check that is not ok, worst first."""
        failing = sorted((c for c in self.checks if c.status != "ok"),
                         key=lambda c: -_ORDER[c.status])
        return [c.advice for c in failing]

    def to_frame(self) -> pd.DataFrame:
        """One row per check: ``value``, ``rule``, ``status``, ``advice``."""
        return pd.DataFrame([{"check": c.name, "value": c.value, "rule": c.rule,
                              "status": c.status, "advice": c.advice} for c in self.checks]
                            ).set_index("check")


def _grade(bad: bool, care: bool) -> str:
    return "bad" if bad else "care" if care else "ok"


def _check(name: str, value: float, rule: str, status: str, problem: str, advice: str
           ) -> Check:
    """A check; its problem and advice are kept only when it is not ok."""
    if status == "ok":
        problem = advice = ""
    return Check(name, value, rule, status, problem, advice)


def _convergence(fit: Fit, table: pd.DataFrame) -> list[Check]:
    r_hat = float(np.nanmax(table["r_hat"])) if table["r_hat"].notna().any() else math.nan
    worst = str(table["r_hat"].idxmax()) if table["r_hat"].notna().any() else "?"
    if fit.n_chains < 2:
        r_check = _check("max r_hat", r_hat, f"<= {R_HAT_MAX} over >= 2 chains", "care",
                        "one chain, convergence unchecked",
                        "With one chain, r_hat cannot show whether the sampler converged. "
                        "Fix: refit with at least 2 chains (4 recommended).")
    else:
        status = _grade(not r_hat <= R_HAT_BAD, r_hat > R_HAT_MAX)
        r_check = _check("max r_hat", r_hat, f"<= {R_HAT_MAX} (above {R_HAT_BAD}: do not use)",
                        status, f"chains disagree (r_hat {r_hat:.3f} for {worst})",
                        f"The chains have not agreed on the posterior (r_hat {r_hat:.3f} for "
                        f"{worst}); estimates may still move. Fix: refit with more warm-up "
                        "and draws (e.g. --warmup 2000 --draws 2000).")
    ess = float(table["ess_bulk"].min())
    low = str(table["ess_bulk"].idxmin())
    e_check = _check("min ess_bulk", ess, f">= {ESS_BULK_MIN} (below {ESS_BULK_BAD}: do not use)",
                    _grade(not ess >= ESS_BULK_BAD, ess < ESS_BULK_MIN),
                    f"few effective draws ({ess:.0f} for {low})",
                    f"Only {ess:.0f} effective draws for {low}: means and intervals are "
                    "noisy. Fix: run more draws or chains.")
    diverging = fit.sample_stats["diverging"]
    n_div, share = int(diverging.sum()), float(diverging.mean())
    d_check = _check("divergences", float(n_div),
                    f"0 (over {DIVERGENCE_BAD:.0%} of draws: do not use)",
                    _grade(share > DIVERGENCE_BAD, n_div > 0),
                    f"{n_div} divergent draws ({share:.1%})",
                    f"{n_div} of {diverging.size} draws diverged: the sampler could not "
                    "explore part of the posterior, so intervals may be biased. Fix: raise "
                    "target_accept (e.g. --target-accept 0.95) or simplify the model.")
    checks = [r_check, e_check, d_check]
    advice = few_geos_advice(fit) if any(c.status != "ok" for c in checks) else ""
    if advice:
        n = fit.structure.n_geos
        checks.append(Check("geo pooling", float(n), f"shapes and controls pooled over > "
                            f"{FEW_GEOS} geos", "care", f"pooled over only {n} geos", advice))
    return checks


def _quality(fit: Fit | AveragedFit) -> list[Check]:
    m = fit_metrics(fit)
    r2, mape, dw, cover = m["r2"], m["mape"], m["durbin_watson"], m["coverage_94"]
    return [
        _check("R²", r2, f">= {R2_CARE} (at or below 0: do not use)",
              _grade(not r2 > 0, r2 < R2_CARE), f"weak fit (R² {r2:.2f})",
              f"The model explains {max(r2, 0):.0%} of the target's variation: contributions "
              "rest on a poor fit. Fix: add missing controls (prices, promotions, events), a "
              "trend or more seasonality modes."),
        _check("MAPE %", mape, f"<= {MAPE_CARE:g}", _grade(False, not mape <= MAPE_CARE),
              f"large errors (MAPE {mape:.1f}%)",
              f"Fitted values are {mape:.1f}% off on average. Fix: look at the actual vs "
              "fitted plot for periods the model misses and add what drives them."),
        _check("Durbin-Watson", dw, f"{DW_LOW} to {DW_HIGH}",
              _grade(False, not DW_LOW <= dw <= DW_HIGH),
              f"autocorrelated residuals (Durbin-Watson {dw:.2f})",
              f"The residuals are autocorrelated (Durbin-Watson {dw:.2f}; 2 means none): "
              "something that changes slowly is missing, and intervals are too narrow. Fix: "
              "add a trend, seasonality or the missing control."),
        _check("94% coverage", cover, f">= {COVERAGE_CARE:.0%}",
              _grade(False, not cover >= COVERAGE_CARE),
              f"intervals too narrow ({cover:.0%} of periods inside the 94% interval)",
              f"Only {cover:.0%} of observations fall inside the 94% predictive interval: the "
              "model is over-confident. Fix: check for outliers and structural breaks."),
    ]


def _identification(fit: Fit) -> list[Check]:
    """The identification checks (:func:`bayesmmm.analysis.identification_checks`) that
    the fit-quality checks above do not already make, one Check each."""
    from bayesmmm.analysis._checks import identification_checks

    return [_from_finding(f) for f in identification_checks(fit) if f.check != "fit quality"]


def _from_finding(f: Finding) -> Check:
    return _check(f"{f.check} [{f.channel}]" if f.channel else f.check, f.value, f.rule,
                  f.status, f.problem, f.advice)


def _named(label: str, checks: list[Check]) -> list[Check]:
    """``checks`` of one member of an averaged fit, each named after the member."""
    return [replace(c, name=f"{label}: {c.name}",
                    problem=f"{label}: {c.problem}" if c.problem else "",
                    advice=f"{label}: {c.advice}" if c.advice else "") for c in checks]


def _averaged(fit: AveragedFit) -> Verdict:
    """Each member that carries weight is held to the single-fit rules (its sampling and
    its identification, named after it); the mixture's predictions to the fit-quality
    rules; and structures that predict equally well must not disagree on an ROI
    (:func:`bayesmmm.analysis.structure_checks`)."""
    from bayesmmm.analysis._checks import structure_checks

    checks: list[Check] = []
    for label, member in fit.fits.items():
        if fit.weights[label] > 0:
            checks += _named(label, _sampling(member) + _identification(member))
    checks += _quality(fit)
    checks += [_from_finding(f) for f in structure_checks(fit)]
    return Verdict(tuple(checks))


def _sampling(fit: Fit) -> list[Check]:
    return _approximation(fit) if "approximation" in fit.meta \
        else _convergence(fit, summary(fit))


def verdict(fit: Fit | AveragedFit) -> Verdict:
    """Judge whether ``fit`` can be trusted.

    Convergence: the largest r_hat (> 1.01: care, > 1.1: bad; one chain: care), the
    smallest bulk ESS (< 400: care, < 100: bad) and divergences (any: care, over 1% of
    draws: bad); where one of these is not ok on a panel of at most 3 geos that pools
    the curves' shapes or the controls, a "geo pooling" check (care) says to share them.
    Fit quality (all on the fitted data, see
    :func:`bayesmmm.analysis.fit_metrics`): R² (< 0.5: care, <= 0: bad), MAPE
    (> 20%: care), the residuals' Durbin-Watson statistic (outside 1.5 to 2.5: care) and
    the share of observations inside the 94% predictive interval (< 80%: care).
    Identification, per channel (:func:`bayesmmm.analysis.identification_checks`): a
    pattern the forms miss, an ROI that rests on the prior or moves with it, spend that
    follows the season or trend, an ROI prior that fights the data.

    An averaged fit (``forms='auto'``): every member that carries weight is held to these
    rules, each check named after its member; the fit-quality checks judge the mixture;
    and where structures that predict equally well give a channel ROI intervals that do
    not overlap, the verdict says so and gives the range.

    Returns
    -------
    Verdict
    """
    if isinstance(fit, AveragedFit):
        return _averaged(fit)
    return Verdict(tuple(_sampling(fit) + _quality(fit) + _identification(fit)))


def _approximation(fit: Fit) -> list[Check]:
    """An approximate fit is at best usable with care; above PARETO_K_MAX do not use."""
    k = float(fit.meta["approximation"]["pareto_k"])
    return [_check("approximation k-hat", k, f"<= {PARETO_K_MAX} (approximate: at best care)",
                   "bad" if not k <= PARETO_K_MAX else "care",
                   f"approximate fit (k-hat {k:.2f})", approximation_note(fit))]
