"""Automatic structure: fit a set of adstock x saturation candidates, prune the clearly
worse ones early, and average the rest by stacking their predictive distributions.

1. **Pilots.** Every candidate is fitted briefly (:data:`PILOT`: 2 chains x 300 warm-up
   x 200 draws, trees of at most 2^6 leapfrog steps) and scored by its PSIS-LOO expected
   log predictive density. The depth cap keeps the warm-up's first, badly scaled
   iterations from building trees of a thousand steps: on the example the nine pilots
   took 12.7 s instead of 52.3 s with the same ranking (the chain stays a valid MCMC
   chain, only less efficient per step).
2. **Pruning.** A candidate survives when its ELPD is within :data:`PRUNE_SE` standard
   errors of the difference (and at least :data:`PRUNE_MIN` log units) of the best
   pilot's and the pilots' stacking gives it weight (:data:`PILOT_WEIGHT`); at most
   ``survivors`` of them, best first. A pilot that did not converge at
   all (r_hat above :data:`PILOT_R_HAT`) is scored as it is: its LOO is still an
   estimate of how well it predicts, and the full fit decides.
   When one survivor carries at least :data:`DOMINANT` of the pilots' stacking weight,
   it alone gets a full fit: the others would carry almost no draws of the mixture.
3. **Full fits** of the survivors at the caller's sampler settings (each its own
   model, as ``bm.fit`` would fit it; centring included), the draws in proportion to
   the pilot weight: a member of weight ``w`` supplies about ``w`` of the mixture's
   draws, so the best one gets the caller's ``draws`` and the others
   ``draws x w / w_best``, but at least :data:`MIN_DRAW_SHARE` of them, enough for their
   own r_hat and LOO. A survivor that does not converge well enough to be compared
   (r_hat > 1.05 or more than 1% of draws divergent:
   :func:`bayesmmm.analysis.convergence`) is fitted once more with twice the warm-up;
   if it still does not, it is dropped from the average, with the reason in the
   comparison table.
The pilots share one compiled program: a switch model holds every candidate form and
the candidate is data (:class:`bayesmmm.model.StructureSearch`), so nine pilots compile
once. Full fits use each candidate's own model, which samples faster than the switch
(the switch carries the prior-only parameters of the forms not chosen: 32 against 24
leapfrog steps a draw on the example).

4. **Stacking.** ArviZ's ``compare(method="stacking")`` weights of the converged
   survivors (Yao, Vehtari, Simpson & Gelman 2018): the weights that make the mixture of
   their leave-one-out predictive distributions predict best, which is what an answer
   averaged over structures needs (not the probability that a structure is "true").
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm.analysis._compare import _idata
from bayesmmm.analysis._diagnostics import convergence
from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit, ModelSpec, SamplerOptions, StructureSearch
from bayesmmm.model import fit as fit_model

__all__ = ["AUTO_ADSTOCKS", "AUTO_SATURATIONS", "DOMINANT", "MIN_DRAW_SHARE", "PILOT", "Pilot",
           "fit_auto", "form_candidate", "full_draws"]

#: The default candidate set: the carry-over shapes analysts meet (decaying at once,
#: peaking later, a flexible Weibull) x the response shapes (S-curve with a fixed shape,
#: Hill's free shape, the concave Michaelis-Menten).
AUTO_ADSTOCKS = ("geometric", "delayed", "weibull_pdf")
AUTO_SATURATIONS = ("logistic", "hill", "michaelis_menten")


@dataclass(frozen=True)
class Pilot:
    """Sampler settings of the pilot fits that rank the candidates."""

    chains: int = 2
    warmup: int = 300
    draws: int = 200
    max_tree_depth: int = 6


PILOT = Pilot()
#: A candidate survives within this many standard errors of the ELPD difference ...
PRUNE_SE = 2.0
#: ... or this many log units, whichever is larger (LOO differences under ~4 are noise).
PRUNE_MIN = 4.0
#: ... and the pilots' own stacking must give it at least this weight: stacking already
#: says that a candidate with (almost) no weight adds nothing to the mixture's
#: predictions, and each full fit costs as much as a default fit.
PILOT_WEIGHT = 0.05
#: A pilot above this r_hat says its ranking is rough; reported, not used to prune.
PILOT_R_HAT = 1.1
#: A survivor with at least this share of the pilots' stacking weight is fitted alone.
DOMINANT = 0.9
#: The least share of the caller's draws a survivor's full fit gets.
MIN_DRAW_SHARE = 0.25


def _label(adstock: str, saturation: str) -> str:
    return f"{adstock}+{saturation}"


def form_candidate(spec: ModelSpec, adstock: str, saturation: str) -> ModelSpec:
    """``spec`` with the candidate's forms on every channel (:meth:`ModelSpec.with_forms`)."""
    return spec.with_forms(adstock, saturation)


def _score(f: Fit) -> tuple[float, int, Any]:
    """PSIS-LOO ELPD, the number of observations whose Pareto k is above 0.7 (where LOO
    is unreliable; counted here rather than warned about once per model), the data."""
    import arviz as az

    idata = _idata(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loo = az.loo(idata, pointwise=True)
    return float(loo.elpd_loo), int((np.asarray(loo.pareto_k) > 0.7).sum()), idata


_STATUS_RANK = {"converged": 0, "usable": 1}


def _judge(f: Fit) -> tuple[int, float, int, str]:
    """``(rank, max r_hat, divergences, why)`` of a full fit (:func:`convergence`): rank
    0 converged (r_hat <= 1.01, no divergence), 1 usable for the average (r_hat <= 1.05,
    at most 1% divergent draws), 2 not usable; a single chain cannot say, so it is not
    usable (forms='auto' needs 2 chains or more)."""
    status, r_hat, div, why = convergence(f)
    return _STATUS_RANK.get(status, 2), r_hat, div, why


def _survivors(pilots: pd.DataFrame, idatas: dict[str, Any], keep: int) -> list[str]:
    """The pilots within PRUNE_SE standard errors (or PRUNE_MIN) of the best that the
    pilots' own stacking also gives weight (at least PILOT_WEIGHT), best first; at least
    the best one."""
    if len(idatas) == 1:
        return list(idatas)
    table = _compare(idatas)
    margin = np.maximum(PRUNE_SE * table["dse"].to_numpy(), PRUNE_MIN)
    close = (table["elpd_diff"].to_numpy() <= margin) \
        & (table["weight"].to_numpy() >= PILOT_WEIGHT)
    pilots.loc[table.index, "pilot_elpd_diff"] = table["elpd_diff"]
    pilots.loc[table.index, "pilot_dse"] = table["dse"]
    pilots.loc[table.index, "pilot_weight"] = table["weight"]
    chosen = list(table.index[close][:keep])
    if chosen and float(table.loc[chosen[0], "weight"]) >= DOMINANT:
        chosen = chosen[:1]
    return chosen or [str(table.index[0])]


def _pilot_roi(pilots: pd.DataFrame, fits: dict[str, Fit]) -> dict[str, dict[str, list[float]]]:
    """ROI mean and 94% HDI per channel of each pilot within :data:`ELPD_NOISE` of the
    best pilot: the structures that predict about as well, kept so that
    :func:`bayesmmm.analysis.structure_checks` can compare them with the members even
    when they got no full fit or no weight (a rough interval: a short pilot)."""
    from bayesmmm.analysis._answers import roi
    from bayesmmm.analysis._checks._structures import ELPD_NOISE

    best = float(pilots["pilot_elpd"].max())
    out = {}
    for label, f in fits.items():
        if float(pilots.loc[label, "pilot_elpd"]) >= best - ELPD_NOISE:
            t = roi(f, hdi_prob=0.94)
            out[label] = {str(c): [float(t.loc[c, "roi"]), float(t.loc[c, "hdi_3%"]),
                                   float(t.loc[c, "hdi_97%"])] for c in t.index}
    return out


def full_draws(pilot_weights: Sequence[float], draws: int) -> list[int]:
    """Draws per chain of each survivor's full fit: ``draws`` for the heaviest, in
    proportion to the pilot weight for the others, never below ``MIN_DRAW_SHARE``."""
    w = np.nan_to_num(np.asarray(pilot_weights, dtype=float), nan=0.0).clip(min=0.0)
    top = w.max()
    share = w / top if top > 0 else np.ones_like(w)
    floor = max(1, int(np.ceil(MIN_DRAW_SHARE * draws)))
    return [max(floor, min(draws, int(np.ceil(draws * x)))) for x in share]


class _IterationProgress:
    """The full fits' progress as one count of NUTS iterations (warm-up and draws of
    every fit, one after the other): ``total`` the planned ones, grown by each rerun."""

    def __init__(self, say: Callable[[str, int, int], None] | None, total: int) -> None:
        self.say, self.total, self.done = say, total, 0
        if say is not None:
            say("fits", 0, total)

    def member(self, warmup: int, draws: int, *, rerun: bool = False
               ) -> Callable[[str, int, int], None] | bool:
        """The progress argument of the next fit (False when nobody listens: the sampler
        then never waits for a chunk to report); a ``rerun`` adds its iterations to the
        total."""
        if rerun:
            self.total += warmup + draws
        say, start = self.say, self.done
        if say is None:
            return False

        def callback(phase: str, done: int, total: int) -> None:
            within = done + (warmup if phase == "sampling" else 0)
            self.done = max(self.done, start + min(within, warmup + draws))
            say("fits", self.done, self.total)

        return callback

    def finish(self) -> None:
        if self.say is not None:
            self.say("fits", self.total, self.total)


def fit_auto(data: MMMData | pd.DataFrame | str, spec: ModelSpec, *,
             adstocks: Sequence[str] = AUTO_ADSTOCKS,
             saturations: Sequence[str] = AUTO_SATURATIONS, survivors: int = 3,
             pilot: Pilot = PILOT, progress: Callable[[str, int, int], None] | None = None,
             **sampler: Any) -> AveragedFit:
    """Fit the candidate structures, prune, and average the survivors by stacking.

    Parameters
    ----------
    data : MMMData, DataFrame or path
    spec : ModelSpec
        Everything but the forms (its ``adstock``/``saturation`` are replaced by each
        candidate's, for every channel).
    adstocks, saturations : sequence of str
        The candidate forms (registered names); every pair is a candidate.
    survivors : int
        At most this many candidates get a full fit.
    pilot : Pilot
        Settings of the ranking fits.
    progress : callable(phase, done, total), optional
        Phase ``"pilots"``: called before each pilot (done and total in pilots) and at
        the end. Phase ``"fits"``: done and total count the full fits' NUTS iterations
        (warm-up and draws of every survivor, reported as each chunk ends), so the bar
        moves during each fit; a rerun adds its iterations to the total.
    **sampler
        Sampler options of the full fits (as :func:`bayesmmm.fit`); ``seed`` also seeds
        the pilots.

    Returns
    -------
    AveragedFit
        Its ``comparison`` has one row per candidate: pilot ELPD, whether it survived,
        the full fit's ELPD, r_hat, divergences, stacking weight and why a candidate was
        left out.
    """
    if not isinstance(survivors, int) or isinstance(survivors, bool) or survivors < 1:
        raise SpecError(f"survivors must be an integer >= 1, got {survivors!r}")
    started = time.perf_counter()
    search = StructureSearch(data, spec, adstocks, saturations)
    candidates = [(a, s) for a in search.adstocks for s in search.saturations]
    seed = int(sampler.get("seed", 0))

    def say(phase: str, done: int, total: int) -> None:
        if progress is not None:
            progress(phase, done, total)

    rows: dict[str, dict[str, Any]] = {}
    idatas: dict[str, Any] = {}
    pilot_fits: dict[str, Fit] = {}
    pilot_options = {"chains": pilot.chains, "warmup": pilot.warmup, "draws": pilot.draws,
                     "max_tree_depth": pilot.max_tree_depth, "seed": seed}
    for i, (a, s) in enumerate(candidates):
        label = _label(a, s)
        say("pilots", i, len(candidates))
        f = search.fit(a, s, **pilot_options)
        pilot_fits[label] = f
        rows[label] = {"adstock": a, "saturation": s,
                       "pilot_r_hat": float(f.summary()["r_hat"].max())}
        rows[label]["pilot_elpd"], rows[label]["pilot_pareto_k_bad"], idatas[label] = _score(f)
    say("pilots", len(candidates), len(candidates))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    kept = _survivors(table, idatas, survivors)
    pilot_roi = _pilot_roi(table, pilot_fits)
    del pilot_fits
    table["survived_pilot"] = table.index.isin(kept)
    seconds_pilots = time.perf_counter() - started
    fits: dict[str, Fit] = {}
    full: dict[str, Any] = {}
    table["why_left_out"] = np.where(table["survived_pilot"], "",
                                     "pruned: adds nothing to the pilots' predictions")
    table["rerun"] = ""
    search.close()  # the pilots' program; the full fits compile their own models
    options = {k: v for k, v in sampler.items() if k != "method"}
    full_n = int(sampler.get("draws", SamplerOptions().draws))
    draws = full_draws([table.loc[k].get("pilot_weight", 1.0) for k in kept], full_n)
    table["full_draws"] = pd.Series(dict(zip(kept, draws, strict=True)), dtype="Int64")
    warmup = int(sampler.get("warmup", SamplerOptions().warmup))
    fits_progress = _IterationProgress(progress, sum(warmup + d for d in draws))
    judged: dict[str, tuple[int, float, int, str]] = {}

    def candidate(label: str) -> ModelSpec:
        return form_candidate(spec, rows[label]["adstock"], rows[label]["saturation"])

    def refit(label: str, f: Fit) -> Fit:
        """Once more, as a careful analyst would: twice the warm-up and the caller's
        draws (a light member's r_hat over fewer draws is noisier); the better fit."""
        rank, r_hat, div, why = judged[label]
        before = str(table.loc[label, "rerun"] or "")
        table.loc[label, "rerun"] = "; ".join(filter(None, [
            before, f"{why}; rerun with warmup={2 * warmup}, draws={full_n}"]))
        again = fit_model(search.data, candidate(label),
                          progress=fits_progress.member(2 * warmup, full_n, rerun=True),
                          **{**options, "warmup": 2 * warmup, "draws": full_n})
        verdict = _judge(again)  # better: converged, then fewer divergences, lower r_hat
        if (verdict[0], verdict[2], verdict[1]) > (rank, div, r_hat):
            return f
        judged[label] = verdict
        table.loc[label, "full_draws"] = full_n
        return again

    def record(label: str, f: Fit) -> None:
        rank, r_hat, div, why = judged[label]
        elpd, bad_k, idata = _score(f)
        table.loc[label, ["elpd_loo", "pareto_k_bad", "max_r_hat", "divergences"]] = [
            elpd, bad_k, r_hat, div]
        fits.pop(label, None)
        full.pop(label, None)
        if rank < 2:
            fits[label], full[label] = f, idata
            table.loc[label, "why_left_out"] = ""
        else:
            table.loc[label, "why_left_out"] = why

    def first_fit(label: str, n: int, *, extra: bool = False) -> None:
        f = fit_model(search.data, candidate(label),
                      progress=fits_progress.member(warmup, n, rerun=extra),
                      **{**options, "draws": n})
        judged[label] = _judge(f)
        if judged[label][0] == 2:  # not usable: it cannot even be weighed
            f = refit(label, f)
        record(label, f)

    for i, label in enumerate(kept):
        first_fit(label, draws[i])
    # no survivor usable: the next candidates by pilot ELPD, ``survivors`` more at most,
    # until one is (a structure the sampler cannot explore must not end the search)
    reserve = [k for k in table.sort_values("pilot_elpd", ascending=False).index
               if k not in kept][:survivors]
    for label in reserve:
        if fits:
            break
        table.loc[label, "why_left_out"] = ""
        table.loc[label, "rerun"] = "fitted because no survivor converged"
        table.loc[label, "full_draws"] = full_n
        first_fit(str(label), full_n, extra=True)
        kept.append(str(label))
    if not fits:
        fits_progress.finish()
        raise SpecError("forms='auto': no candidate converged at these sampler settings ("
                        + "; ".join(f"{k}: {v}" for k, v in table["why_left_out"].items()
                                    if v) + "). Fix: raise warmup/draws, or fix the forms")
    weights = _stacking(full)
    # a member that carries weight must have fully converged: usable is not enough for
    # the answers; members stacking leaves out are not worth a refit
    shaky = [k for k in fits if weights[k] > 0 and judged[k][0] > 0]
    for label in shaky:
        record(label, refit(label, fits[label]))
    if shaky:
        weights = _stacking(full)
    fits_progress.finish()
    table["weight"] = [weights.get(k, 0.0) for k in table.index]
    meta = {"candidates": [_label(a, s) for a, s in candidates], "survivors": kept,
            "pilot": pilot.__dict__, "pilot_roi": pilot_roi,
            "seconds_pilots": seconds_pilots,
            "seconds_total": time.perf_counter() - started}
    table = table.sort_values(["weight", "pilot_elpd"], ascending=False)
    return AveragedFit(fits, {k: weights[k] for k in fits}, table, meta)


def _compare(idatas: dict[str, Any]) -> pd.DataFrame:
    """ArviZ's comparison with stacking weights (its Pareto k warnings are counted in
    the table instead)."""
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.compare(idatas, ic="loo", method="stacking")


def _stacking(idatas: dict[str, Any]) -> dict[str, float]:
    if len(idatas) == 1:
        return dict.fromkeys(idatas, 1.0)
    table = _compare(idatas)
    w = table["weight"].clip(lower=0.0)
    w = w / w.sum()
    return {str(k): float(v) for k, v in w.items()}
