"""Recovery of a known truth: parameters, ROI, contributions, fit and convergence checks.

:func:`validate_fit` checks a BayesMMM fit against the ``truth.json`` of the simulation it
was fitted to; :func:`validate_estimates` does the same for any library's posterior once
it is reduced to :class:`Estimates` (the benchmark runner does that for its peers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesmmm.errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from bayesmmm.data import MMMData
    from bayesmmm.model import Fit

__all__ = ["Check", "Estimates", "FitValidation", "Thresholds", "is_channel_parameter",
           "point_fit_metrics", "validate_estimates", "validate_fit"]

HDI_94 = ("hdi_3%", "hdi_97%")
HDI_50 = ("hdi_25%", "hdi_75%")


@dataclass(frozen=True)
class Thresholds:
    """Pass/fail limits of :func:`validate_fit` (the defaults are issue 3's).

    Attributes
    ----------
    mape_max : float
        In-sample (and holdout) MAPE, percent, must be below this.
    r2_min : float
        In-sample (and holdout) R² must be above this.
    coverage_94_min : float
        Share of channel parameters (``adstock_*``, ``saturation_*``, geo-level ones
        included) and channel ROIs whose truth lies inside the 94% HDI: at least this.
    r_hat_max : float
        Largest r_hat over all parameters: at most this.
    divergences_max : int
        Divergent transitions after warm-up: at most this.
    ess_bulk_min : float
        Smallest bulk ESS over all parameters: at least this.
    durbin_watson_range : tuple of float
        Durbin-Watson of the in-sample residuals must lie inside (inclusive); 2 means
        no autocorrelation.
    roi_error_max : float
        Mean absolute relative ROI error over channels: at most this.
    srmse_max : float
        Mean over channels of the contribution SRMSE: at most this.
    """

    mape_max: float = 10.0
    r2_min: float = 0.8
    coverage_94_min: float = 0.9
    r_hat_max: float = 1.01
    divergences_max: int = 0
    ess_bulk_min: float = 400.0
    durbin_watson_range: tuple[float, float] = (1.5, 2.5)
    roi_error_max: float = 0.5
    srmse_max: float = 0.5

    def __post_init__(self) -> None:
        for name in ("mape_max", "r2_min", "coverage_94_min", "r_hat_max", "divergences_max",
                     "ess_bulk_min", "roi_error_max", "srmse_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not math.isfinite(value):
                raise SpecError(f"Thresholds.{name} must be a finite number, got {value!r}")
        if not 0 <= self.coverage_94_min <= 1:
            raise SpecError(f"Thresholds.coverage_94_min must be a share in [0, 1], got "
                            f"{self.coverage_94_min!r} (e.g. 0.9 for 90%)")
        low, high = self.durbin_watson_range
        if not 0 <= low <= high <= 4:
            raise SpecError(f"Thresholds.durbin_watson_range must satisfy 0 <= low <= high <= "
                            f"4, got {self.durbin_watson_range!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Thresholds:
        """Build from a mapping (e.g. JSON); unknown keys raise ``SpecError``."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise SpecError(f"Unknown threshold(s) {unknown}; expected some of {sorted(known)}")
        kwargs = dict(values)
        if "durbin_watson_range" in kwargs:
            kwargs["durbin_watson_range"] = tuple(kwargs["durbin_watson_range"])
        return cls(**kwargs)


@dataclass(frozen=True)
class Check:
    """One pass/fail line: ``value`` compared with ``threshold`` by ``rule``."""

    name: str
    value: float
    threshold: float | tuple[float, float]
    rule: str  # "<", ">", "<=", ">=" or "in"
    passed: bool
    description: str = ""

    @property
    def threshold_text(self) -> str:
        if self.rule == "in":
            low, high = self.threshold  # type: ignore[misc]
            return f"in [{low:g}, {high:g}]"
        return f"{self.rule} {self.threshold:g}"


def _compare(value: float, rule: str, threshold: Any) -> bool:
    if value is None or not math.isfinite(value):
        return False
    if rule == "in":
        return bool(threshold[0] <= value <= threshold[1])
    return bool({"<": value < threshold, ">": value > threshold, "<=": value <= threshold,
                 ">=": value >= threshold}[rule])


@dataclass(frozen=True)
class Estimates:
    """A posterior reduced to what :func:`validate_estimates` compares with the truth.

    Attributes
    ----------
    summary : DataFrame
        One row per parameter, named as BayesMMM's summary names them (others are kept
        for the convergence checks only). Columns ``mean``, ``hdi_3%``, ``hdi_97%``,
        ``hdi_25%``, ``hdi_75%``, ``ess_bulk``, ``ess_tail``, ``r_hat``.
    roi : DataFrame
        Index channel; columns ``spend``, ``roi`` (posterior mean), ``hdi_3%``, ``hdi_97%``.
    contributions : dict of str to ndarray
        Posterior-mean contribution of each channel, original units,
        ``(n_geos, n_times)`` (``n_geos`` = 1 for national data).
    geos : tuple of str
        Panel labels in the order of the contribution rows; empty for national data.
    fit_metrics : dict
        ``r2``, ``mape`` (percent), ``durbin_watson`` of the in-sample fit.
    divergences : int
    holdout : dict, optional
        ``mape``, ``r2`` (and others) on held-out periods.
    """

    summary: pd.DataFrame
    roi: pd.DataFrame
    contributions: dict[str, np.ndarray]
    fit_metrics: dict[str, float]
    divergences: int
    geos: tuple[str, ...] = ()
    holdout: dict[str, float] | None = None

    @classmethod
    def from_fit(cls, fit: Fit, test: MMMData | pd.DataFrame | str | None = None
                 ) -> Estimates:
        """Reduce a BayesMMM fit (and optionally its holdout fit on ``test``)."""
        from bayesmmm.analysis import holdout_metrics
        from bayesmmm.analysis._draws import component_draws_gt

        summary = fit.summary()
        half = fit.summary(hdi_prob=0.5)
        summary = summary.assign(**{c: half[c] for c in HDI_50})
        roi = fit.roi()[["spend", "roi", *HDI_94]]
        draws = component_draws_gt(fit)
        contributions = {c: draws[c].mean(axis=0) for c in fit.spec.channel_columns}
        holdout = None if test is None else holdout_metrics(fit, _holdout_data(fit, test))
        return cls(summary=summary, roi=roi, contributions=contributions,
                   fit_metrics=fit.fit_metrics(),
                   divergences=int(fit.sample_stats["diverging"].sum()),
                   geos=tuple(fit.data.panels) if fit.is_panel else (), holdout=holdout)


def _holdout_data(fit: Fit, test: MMMData | pd.DataFrame | str) -> MMMData:
    """Held-out periods as model data. A table is validated together with the fitted
    periods before it (a 13-week holdout alone has fewer rows than parameters)."""
    from bayesmmm.analysis import train_test_split
    from bayesmmm.data import MMMData, load_table
    from bayesmmm.model import model_data

    if isinstance(test, MMMData):
        return test
    table = load_table(test)
    date = fit.data.date_column
    if date in table and pd.api.types.is_datetime64_any_dtype(table[date]):
        table[date] = table[date].dt.strftime("%Y-%m-%d")
    history = fit.data.to_frame()
    history = history[[c for c in table.columns if c in history.columns]]
    full = model_data(pd.concat([history, table], ignore_index=True), fit.spec)
    _, held_out = train_test_split(full, full.n_times - fit.data.n_times)
    return held_out


def point_fit_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """R², MAPE (percent, over y != 0), Durbin-Watson (within each series) and RMSE of a
    point prediction; ``y`` and ``pred`` are ``(n_geos, n_times)``."""
    y, pred = np.atleast_2d(np.asarray(y, float)), np.atleast_2d(np.asarray(pred, float))
    resid = y - pred
    ss_res = float(np.sum(resid**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    nonzero = y != 0
    dw = float(np.sum(np.diff(resid, axis=1) ** 2) / ss_res) if ss_res > 0 else float("nan")
    return {"r2": 1 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
            "mape": float(np.mean(np.abs(resid[nonzero] / y[nonzero])) * 100),
            "durbin_watson": dw, "rmse": float(np.sqrt(ss_res / y.size))}


def is_channel_parameter(name: str) -> bool:
    """``adstock_*`` and ``saturation_*`` parameters (population and geo level), not the
    geo spreads (``*_sigma``)."""
    base = name.split("[", 1)[0]
    return base.startswith(("adstock_", "saturation_")) and not base.endswith("_sigma")


@dataclass(frozen=True)
class FitValidation:
    """The outcome of :func:`validate_fit`.

    Attributes
    ----------
    checks : tuple of Check
        Every thresholded metric; :attr:`passed` when all pass.
    parameters : DataFrame
        One row per truth parameter found in the summary: ``truth``, ``mean``,
        ``bias`` (mean - truth), ``rel_error`` (bias / |truth|), the 94% HDI bounds,
        ``in_hdi_50``, ``in_hdi_94`` and ``channel`` (counts towards the coverage check).
    roi : DataFrame
        One row per channel: ``truth``, ``mean``, ``bias``, ``rel_error``, HDI bounds,
        ``in_hdi_94``.
    contributions : DataFrame
        One row per channel: ``srmse`` (RMSE of the posterior-mean contribution over
        every geo × period, divided by the mean true contribution), ``total``,
        ``total_truth`` and ``total_rel_error``.
    metrics : dict
        Every number above and the ones without a threshold (50% coverage, RMSE ...).
    """

    checks: tuple[Check, ...]
    parameters: pd.DataFrame
    roi: pd.DataFrame
    contributions: pd.DataFrame
    metrics: dict[str, float]
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def table(self) -> pd.DataFrame:
        """The checks as a table: index ``check``; ``value``, ``threshold``, ``passed``."""
        frame = pd.DataFrame({"value": [c.value for c in self.checks],
                              "threshold": [c.threshold_text for c in self.checks],
                              "passed": [c.passed for c in self.checks]},
                             index=pd.Index([c.name for c in self.checks], name="check"))
        return frame

    def worst_parameters(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` parameters furthest from the truth, in posterior sds where known,
        outside the 94% HDI first."""
        p = self.parameters
        if p.empty:
            return p
        order = p.assign(_out=~p["in_hdi_94"], _err=p["rel_error"].abs().fillna(np.inf))
        order = order.sort_values(["_out", "_err"], ascending=False)
        return order.drop(columns=["_out", "_err"]).head(n)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``passed``, ``checks``, ``metrics``, ``parameters``, ``roi``,
        ``contributions`` and ``thresholds`` (NaN written as null)."""
        def records(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
            out = frame.reset_index().rename(columns={"index": key})
            return [{k: _plain(v) for k, v in row.items()} for row in out.to_dict("records")]

        return {
            "passed": self.passed,
            "checks": [{"name": c.name, "value": _plain(c.value),
                        "threshold": c.threshold_text, "passed": c.passed,
                        "description": c.description} for c in self.checks],
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "parameters": records(self.parameters, "parameter"),
            "roi": records(self.roi, "channel"),
            "contributions": records(self.contributions, "channel"),
            "thresholds": {k: _plain(v) for k, v in asdict(self.thresholds).items()},
        }


def _plain(value: Any) -> Any:
    """numpy scalars -> Python; NaN/inf -> None; tuples -> lists."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _rel(bias: Any, truth: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(truth) != 0, np.asarray(bias) / np.abs(truth), np.nan)


def parameter_recovery(summary: pd.DataFrame, truth: Mapping[str, float]) -> pd.DataFrame:
    """Truth against posterior for every truth parameter present in ``summary``."""
    names = [n for n in truth if n in summary.index]
    s = summary.loc[names]
    t = pd.Series({n: float(truth[n]) for n in names}, dtype=float)
    frame = pd.DataFrame({"truth": t, "mean": s["mean"], "bias": s["mean"] - t},
                         index=pd.Index(names, name="parameter"))
    frame["rel_error"] = _rel(frame["bias"], t)
    frame[HDI_94[0]], frame[HDI_94[1]] = s[HDI_94[0]], s[HDI_94[1]]
    frame["in_hdi_50"] = ((t >= s[HDI_50[0]]) & (t <= s[HDI_50[1]])) if HDI_50[0] in s \
        else np.nan
    frame["in_hdi_94"] = (t >= s[HDI_94[0]]) & (t <= s[HDI_94[1]])
    frame["channel"] = np.array([is_channel_parameter(n) for n in names], dtype=bool)
    return frame


def _window(values: Any, geos: Sequence[str], n_times: int) -> np.ndarray:
    """Truth values of one component as ``(n_geos, n_times)``: the first ``n_times``
    periods (a fit on a train split covers the first periods of the simulation)."""
    if isinstance(values, Mapping):
        rows = [np.asarray(values[g], float) for g in geos] if geos else \
            [np.asarray(v, float) for v in values.values()]
    else:
        rows = [np.asarray(values, float)]
    arr = np.stack(rows)
    if arr.shape[1] < n_times:
        raise SpecError(f"the truth has {arr.shape[1]} periods but the fit {n_times}; pass "
                        "the truth.json of the data the model was fitted to")
    return arr[:, :n_times]


def contribution_recovery(est: Estimates, truth: Mapping[str, Any]) -> pd.DataFrame:
    """SRMSE and total error of each channel's contribution (original units)."""
    rows = {}
    for channel, mean in est.contributions.items():
        mean = np.atleast_2d(mean)
        t = _window(truth["contributions"][channel], est.geos, mean.shape[1])
        scale = float(np.mean(t))
        rmse = float(np.sqrt(np.mean((mean - t) ** 2)))
        total, total_t = float(mean.sum()), float(t.sum())
        rows[channel] = {"srmse": rmse / scale if scale else np.nan, "rmse": rmse,
                         "total": total, "total_truth": total_t,
                         "total_rel_error": (total - total_t) / abs(total_t) if total_t
                         else np.nan}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "channel"
    return frame


def roi_recovery(est: Estimates, truth: Mapping[str, Any],
                 contributions: pd.DataFrame) -> pd.DataFrame:
    """Truth against posterior for each channel's ROI.

    When the fit covers fewer periods than the simulation, the true ROI is recomputed
    over the fitted periods (true contribution there / spend there).
    """
    r = est.roi
    channels = [c for c in r.index if c in truth["roi"]]
    true_roi = pd.Series({c: float(truth["roi"][c]) for c in channels}, dtype=float)
    full = all(np.isclose(contributions.loc[c, "total_truth"],
                          truth["total_contribution"][c], rtol=1e-6) for c in channels
               if c in contributions.index and "total_contribution" in truth)
    if not full and "spend" in r:
        true_roi = pd.Series({c: contributions.loc[c, "total_truth"] / r.loc[c, "spend"]
                              for c in channels}, dtype=float)
    frame = pd.DataFrame({"truth": true_roi, "mean": r.loc[channels, "roi"]},
                         index=pd.Index(channels, name="channel"))
    frame["bias"] = frame["mean"] - frame["truth"]
    frame["rel_error"] = _rel(frame["bias"], frame["truth"])
    frame[HDI_94[0]], frame[HDI_94[1]] = r.loc[channels, HDI_94[0]], r.loc[channels, HDI_94[1]]
    frame["in_hdi_94"] = (frame["truth"] >= frame[HDI_94[0]]) & \
        (frame["truth"] <= frame[HDI_94[1]])
    return frame


def _check_truth_matches(est: Estimates, truth: Mapping[str, Any]) -> None:
    """Refuse a truth of another data set: its channels (and geos) must cover the fit's."""
    fix = ("Fix: pass the truth.json written by `bayesmmm simulate` for the data the model "
           "was fitted to")
    for key in ("parameters", "contributions", "roi"):
        if not isinstance(truth[key], Mapping):
            raise SpecError(f"the truth's {key!r} must map names to values, got "
                            f"{type(truth[key]).__name__}. {fix}")
    fitted = list(dict.fromkeys(str(c) for c in (*est.contributions, *est.roi.index)))
    known = set(truth["contributions"]) & set(truth["roi"])
    if isinstance(truth.get("total_contribution"), Mapping):
        known &= set(truth["total_contribution"])
    missing = [c for c in fitted if c not in known]
    if missing:
        raise SpecError(
            f"the truth does not belong to this fit: the fit's channel(s) {missing} are not in "
            f"the truth, whose channels are {sorted(map(str, truth['roi']))}. {fix}")
    by_geo = {c: isinstance(truth["contributions"][c], Mapping) for c in est.contributions}
    if est.geos and not all(by_geo.values()):
        raise SpecError(f"the truth does not belong to this fit: the fit has geos "
                        f"{list(est.geos)[:5]} but the truth is national. {fix}")
    for channel, geo_level in by_geo.items():
        if not geo_level:
            continue
        labels = [str(g) for g in truth["contributions"][channel]]
        if not est.geos and len(labels) > 1:
            raise SpecError(f"the truth does not belong to this fit: the fit is national but "
                            f"the truth has geos {labels[:5]}. {fix}")
        absent = [g for g in est.geos if g not in labels]
        if absent:
            raise SpecError(f"the truth does not belong to this fit: the fit's geo(s) "
                            f"{absent[:5]} are not in the truth, whose geos are {labels[:5]}. "
                            f"{fix}")


def validate_estimates(est: Estimates, truth: Mapping[str, Any],
                       thresholds: Thresholds | None = None) -> FitValidation:
    """Compare any library's reduced posterior with the truth; see :func:`validate_fit`."""
    th = Thresholds() if thresholds is None else thresholds
    if "parameters" not in truth or "contributions" not in truth or "roi" not in truth:
        raise SpecError("the truth must hold 'parameters', 'contributions' and 'roi' (the "
                        "truth.json written by `bayesmmm simulate`)")
    _check_truth_matches(est, truth)
    params = parameter_recovery(est.summary, truth["parameters"])
    contrib = contribution_recovery(est, truth)
    roi = roi_recovery(est, truth, contrib)
    channel = params[params["channel"]]
    covered = int(channel["in_hdi_94"].sum()) + int(roi["in_hdi_94"].sum())
    n_cov = len(channel) + len(roi)
    s = est.summary
    fm = est.fit_metrics
    metrics: dict[str, float] = {
        "mape": fm["mape"], "r2": fm["r2"], "durbin_watson": fm["durbin_watson"],
        "coverage_94": covered / n_cov if n_cov else float("nan"),
        "coverage_94_parameters": float(channel["in_hdi_94"].mean()) if len(channel)
        else float("nan"),
        "coverage_94_roi": float(roi["in_hdi_94"].mean()) if len(roi) else float("nan"),
        "coverage_50": float(params["in_hdi_50"].astype(float).mean()) if len(params)
        else float("nan"),
        "coverage_94_all": float(params["in_hdi_94"].mean()) if len(params) else float("nan"),
        "n_coverage": n_cov, "n_parameters_recovered": len(params),
        "roi_mean_abs_rel_error": float(roi["rel_error"].abs().mean()),
        "contribution_srmse": float(contrib["srmse"].mean()),
        "contribution_total_mean_abs_rel_error": float(contrib["total_rel_error"].abs().mean()),
        "max_r_hat": float(s["r_hat"].max()), "min_ess_bulk": float(s["ess_bulk"].min()),
        "min_ess_tail": float(s["ess_tail"].min()), "divergences": int(est.divergences),
    }
    checks: list[tuple[str, float, str, Any, str]] = [
        ("mape", metrics["mape"], "<", th.mape_max, "in-sample MAPE, %"),
        ("r2", metrics["r2"], ">", th.r2_min, "in-sample R²"),
        ("durbin_watson", metrics["durbin_watson"], "in", th.durbin_watson_range,
         "Durbin-Watson of in-sample residuals"),
    ]
    if est.holdout is not None:
        metrics["holdout_mape"] = est.holdout["mape"]
        metrics["holdout_r2"] = est.holdout["r2"]
        checks += [("holdout_mape", metrics["holdout_mape"], "<", th.mape_max,
                    "holdout MAPE, %"),
                   ("holdout_r2", metrics["holdout_r2"], ">", th.r2_min, "holdout R²")]
    checks += [
        ("coverage_94", metrics["coverage_94"], ">=", th.coverage_94_min,
         f"truth inside the 94% HDI: {covered} of {n_cov} channel parameters and ROIs"),
        ("roi_mean_abs_rel_error", metrics["roi_mean_abs_rel_error"], "<=", th.roi_error_max,
         "mean |posterior-mean ROI / true ROI - 1| over channels"),
        ("contribution_srmse", metrics["contribution_srmse"], "<=", th.srmse_max,
         "mean over channels of RMSE(contribution) / mean true contribution"),
        ("max_r_hat", metrics["max_r_hat"], "<=", th.r_hat_max, "largest r_hat"),
        ("divergences", metrics["divergences"], "<=", th.divergences_max,
         "divergent transitions"),
        ("min_ess_bulk", metrics["min_ess_bulk"], ">=", th.ess_bulk_min, "smallest bulk ESS"),
    ]
    return FitValidation(
        checks=tuple(Check(name, float(value), limit, rule, _compare(value, rule, limit), text)
                     for name, value, rule, limit, text in checks),
        parameters=params, roi=roi, contributions=contrib, metrics=metrics, thresholds=th)


def validate_fit(fit: Fit, truth: Mapping[str, Any], *,
                 test: MMMData | pd.DataFrame | str | None = None,
                 thresholds: Thresholds | None = None) -> FitValidation:
    """Check a fit against the known truth of simulated data.

    Parameters
    ----------
    fit : Fit
        Fitted to data from :mod:`bayesmmm.synth` (or its first periods, e.g. the train
        part of :func:`bayesmmm.analysis.train_test_split`).
    truth : dict
        The simulation's truth (``truth.json``).
    test : MMMData, DataFrame or path, optional
        Held-out periods right after the fitted ones: adds holdout MAPE and R² checks.
    thresholds : Thresholds, optional
        Pass/fail limits; the defaults are MAPE < 10%, R² > 0.8, 94% HDI coverage >= 90%,
        max r_hat <= 1.01, 0 divergences, min ess_bulk >= 400 (and Durbin-Watson in
        [1.5, 2.5], mean ROI error <= 50%, mean contribution SRMSE <= 0.5).

    Returns
    -------
    FitValidation
        Parameter recovery (bias, relative error, truth inside the 50% and 94% HDIs),
        ROI recovery, contribution error

        .. math:: \\mathrm{SRMSE}_c = \\sqrt{\\tfrac1{GT}\\sum_{g,t}(\\hat c_{gt} -
                  c_{gt})^2} \\Big/ \\tfrac1{GT}\\sum_{g,t} c_{gt},

        fit metrics, convergence, and a pass/fail check per thresholded metric.

    Raises
    ------
    SpecError
        The truth is not the fit's: a fitted channel or geo is missing from it (a truth of
        another data set), or it covers fewer periods than the fit.
    """
    return validate_estimates(Estimates.from_fit(fit, test), truth, thresholds)
