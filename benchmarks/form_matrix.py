"""Does the answer hold when nobody knows the true adstock and saturation?

National data are simulated by ``bayesmmm.synth`` with each adstock form (geometric,
delayed, weibull_pdf, carryover, binomial) x each saturation (logistic, hill,
michaelis_menten, tanh) on every channel (4 channels of different spend patterns, 2
controls, 156 weeks), several seeds each, and fitted

* (a) with the default classic model (geometric + logistic),
* (b) with the true forms,
* (c) with ``forms="auto"`` (structure search and stacking),
* (d) with PyMC-Marketing's default model, where the ``bench`` extra is installed
  (``--peer``; run from ``.venv-bench``).

Per cell and variant: ROI 94% coverage (share of channels whose true ROI lies inside the
94% HDI; for auto also the coverage of what the user is told, the range over structures
that predict equally well where check (d) finds their intervals disagree), mean absolute
relative ROI error, contribution SRMSE (root mean squared error
of the channels' weekly contributions divided by the mean true contribution), max r_hat,
divergences (of the members that carry weight, for auto; the zero-weight members' apart)
and wall seconds. The summary compares (c) with (b) and (a), the issue's
targets: auto's coverage >= 90%, its error <= 1.2x the true-forms fit's, and at most
half the classic default's error on the misspecified cells. Nothing is asserted; rows go
to ``benchmarks/results/form_matrix.json`` as they finish (a run can be resumed with
``--resume``).

    .venv/bin/python benchmarks/form_matrix.py --quick --seeds 0
    .venv/bin/python benchmarks/form_matrix.py                      # 4 x 1000 x 1000, seeds 0,1,2
    .venv/bin/python benchmarks/form_matrix.py --report             # the tables of a run
    .venv/bin/python benchmarks/form_matrix.py --weighting          # other weightings, offline
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
ADSTOCKS = "geometric,delayed,weibull_pdf,carryover,binomial"
SATURATIONS = "logistic,hill,michaelis_menten,tanh"
PATTERNS = (("tv", "flighted", 0.12, 2.0), ("search", "always_on", 0.08, 3.0),
            ("social", "bursts", 0.06, 1.2), ("radio", "seasonal", 0.05, 1.5))


def simulate_cell(adstock: str, saturation: str, seed: int, weeks: int = 156) -> Any:
    from bayesmmm.synth import (
        ChannelConfig,
        ControlConfig,
        SimulationConfig,
        simulate,
    )

    channels = tuple(ChannelConfig(name, pattern=pattern, adstock=adstock,
                                   saturation=saturation, share=share, roi=roi)
                     for name, pattern, share, roi in PATTERNS)
    controls = (ControlConfig("promo", "promo", 1.0, rate=0.12),
                ControlConfig("price", "covariate", -0.5))
    cfg = SimulationConfig(channels=channels, controls=controls, n_weeks=weeks, name="cell")
    return simulate(cfg, seed=seed)


def score(fitted: Any, sim: Any) -> dict[str, float]:
    """ROI coverage and error, contribution SRMSE against the simulation's truth."""
    from bayesmmm.analysis import channel_draws

    roi = fitted.roi()
    truth = sim.truth["roi"]
    names = list(roi.index)
    true = np.array([truth[c] for c in names])
    inside = (roi["hdi_3%"].to_numpy() <= true) & (true <= roi["hdi_97%"].to_numpy())
    error = np.abs(roi["roi"].to_numpy() - true) / true
    mean = channel_draws(fitted).mean(axis=0)  # (T, C)
    contributions = sim.truth["contributions"]
    true_c = np.stack([np.asarray(contributions[c], dtype=float).reshape(-1)
                       for c in names], axis=-1)
    srmse = float(np.sqrt(np.mean((mean.reshape(true_c.shape) - true_c) ** 2))
                  / np.mean(np.abs(true_c)))
    out = {"coverage": float(inside.mean()), "roi_error": float(error.mean()),
           "srmse": srmse,
           "roi": {c: [round(float(roi.loc[c, k]), 4) for k in ("roi", "hdi_3%", "hdi_97%")]
                   + [round(float(t), 4)] for c, t in zip(names, true, strict=True)}}
    from bayesmmm.model import AveragedFit

    if isinstance(fitted, AveragedFit):
        # what the user is told: the range over structures that predict equally well
        # where their intervals disagree (check (d)), the mixture's interval elsewhere
        from bayesmmm.analysis import roi_ranges

        ranges = roi_ranges(fitted)
        told = [(ranges.loc[c, "low"], ranges.loc[c, "high"])
                if c in ranges.index and ranges.loc[c, "disagree"] else
                (roi.loc[c, "hdi_3%"], roi.loc[c, "hdi_97%"]) for c in names]
        out["reported_coverage"] = float(np.mean([lo <= t <= hi for (lo, hi), t
                                                  in zip(told, true, strict=True)]))
        out["ranges"] = {c: [round(float(ranges.loc[c, "low"]), 4),
                             round(float(ranges.loc[c, "high"]), 4),
                             bool(ranges.loc[c, "disagree"])] for c in ranges.index}
    return out


def _convergence(fitted: Any) -> dict[str, float]:
    from bayesmmm.model import AveragedFit

    # the answers are drawn from members with weight; the others are reported apart
    members = fitted.fits if isinstance(fitted, AveragedFit) else {"": fitted}
    r_hat = {k: float(m.summary()["r_hat"].max()) for k, m in members.items()}
    div = {k: int(m.sample_stats["diverging"].sum()) for k, m in members.items()}
    carried = [k for k in members if not isinstance(fitted, AveragedFit)
               or fitted.weights[k] > 0]
    out = {"max_r_hat": max(r_hat[k] for k in carried),
           "divergences": sum(div[k] for k in carried)}
    if len(carried) < len(members):
        out["unweighted_max_r_hat"] = max(r_hat[k] for k in members if k not in carried)
        out["unweighted_divergences"] = sum(div[k] for k in members if k not in carried)
    return out


#: ROI quantiles kept per member (dense in the tails, where the 94% interval's ends lie)
QUANTILES = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, *np.round(np.arange(0.1, 0.91, 0.05), 3),
             0.925, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995)


def _members_detail(fitted: Any) -> dict[str, Any]:
    """Each member's pointwise PSIS-LOO ELPD and ROI quantiles (:data:`QUANTILES`), so
    that other weightings of the same members can be scored offline (``--weighting``)."""
    import warnings

    import arviz as az

    from bayesmmm.analysis import channel_draws, log_likelihood

    elpd, quantiles = {}, {}
    for label, member in fitted.fits.items():
        ll = log_likelihood(member)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = az.from_dict(posterior={"y_sigma": member.posterior["y_sigma"]},
                                 log_likelihood={"y": ll})
            loo = az.loo(idata, pointwise=True)
        elpd[label] = [round(float(v), 4) for v in np.asarray(loo.loo_i).reshape(-1)]
        spend = member.roi()["spend"].to_numpy()
        draws = channel_draws(member).sum(axis=1) / spend  # (S, C)
        q = np.quantile(draws, QUANTILES, axis=0)  # (Q, C)
        quantiles[label] = {c: [round(float(v), 5) for v in q[:, j]]
                            for j, c in enumerate(member.spec.channel_columns)}
    return {"members_elpd_i": elpd, "members_roi_q": quantiles}


def run_cell(adstock: str, saturation: str, seed: int, variant: str,
             args: argparse.Namespace) -> dict[str, Any]:
    import bayesmmm as bm

    sim = simulate_cell(adstock, saturation, seed, args.weeks)
    kw = dict(sim.spec_kwargs)
    kw.pop("adstock"), kw.pop("saturation")
    sampler = {"chains": args.chains, "warmup": args.warmup, "draws": args.draws,
               "seed": seed, "progress": False}
    start = time.perf_counter()
    if variant == "classic":
        fitted = bm.fit(sim.data, bm.ModelSpec(**kw), **sampler)
    elif variant == "true":
        fitted = bm.fit(sim.data, bm.ModelSpec(**kw, adstock=adstock, saturation=saturation),
                        **sampler)
    else:
        fitted = bm.fit(sim.data, bm.ModelSpec(**kw), forms="auto", **sampler)
    seconds = time.perf_counter() - start
    row = {"adstock": adstock, "saturation": saturation, "seed": seed, "variant": variant,
           "seconds": round(seconds, 1), **score(fitted, sim), **_convergence(fitted)}
    if variant == "auto":
        row["weights"] = {k: round(v, 3) for k, v in fitted.weights.items() if v > 0}
        table = fitted.comparison
        row["reruns"] = {str(k): str(v) for k, v in table["rerun"].items() if v}
        row["members_roi"] = {k: {c: [round(float(x), 4) for x in t.loc[c, ["roi", "hdi_3%",
                                                                             "hdi_97%"]]]
                                  for c in t.index}
                              for k, t in ((k, m.roi()) for k, m in fitted.fits.items())}
        row["pilot_roi"] = fitted.meta.get("pilot_roi", {})
        row.update(_members_detail(fitted))
    return row


def summarise(rows: list[dict[str, Any]]) -> str:
    lines = ["| variant | cells | ROI coverage | coverage as told | ROI error | SRMSE | "
             "max r_hat | divergent fits | median s |", "|---|---|---|---|---|---|---|---|---|"]
    for variant in ("classic", "true", "auto"):
        mine = [r for r in rows if r["variant"] == variant and "error" not in r]
        if not mine:
            continue
        lines.append(
            f"| {variant} | {len(mine)} | {np.mean([r['coverage'] for r in mine]):.0%} | "
            f"{np.mean([r.get('reported_coverage', r['coverage']) for r in mine]):.0%} | "
            f"{np.mean([r['roi_error'] for r in mine]):.0%} | "
            f"{np.mean([r['srmse'] for r in mine]):.2f} | "
            f"{max(r['max_r_hat'] for r in mine):.3f} | "
            f"{sum(r['divergences'] > 0 for r in mine)} | "
            f"{np.median([r['seconds'] for r in mine]):.0f} |")
    # misspecified cells that every variant finished, so that the means compare alike
    done: dict[tuple[str, str, int], set[str]] = {}
    for r in rows:
        if "error" not in r:
            done.setdefault((r["adstock"], r["saturation"], r["seed"]), set()).add(r["variant"])
    whole = {k for k, v in done.items() if v >= {"classic", "true", "auto"}
             and k[:2] != ("geometric", "logistic")}
    miss = [r for r in rows if (r["adstock"], r["saturation"], r["seed"]) in whole]
    by = {v: [r["roi_error"] for r in miss if r["variant"] == v and "error" not in r]
          for v in ("classic", "true", "auto")}
    if all(by.values()):
        lines.append(f"\nMisspecified cells ({len(whole)}, every variant done): auto's ROI "
                     f"error {np.mean(by['auto']):.0%} = "
                     f"{np.mean(by['auto']) / np.mean(by['true']):.2f}x the true forms' and "
                     f"{np.mean(by['auto']) / np.mean(by['classic']):.2f}x the classic "
                     "model's (targets: <= 1.2x and <= 0.5x).")
    return "\n".join(lines)


def cells_table(rows: list[dict[str, Any]]) -> str:
    """One line per cell and seed: each variant's ROI coverage (auto: also as told),
    ROI error, divergences, and auto's time over the classic fit's."""
    by = {(r["adstock"], r["saturation"], r["seed"], r["variant"]): r for r in rows
          if "error" not in r}
    lines = ["| adstock + saturation | seed | classic: coverage / error | true forms: coverage "
             "/ error / div | auto: coverage / as told / error / div | auto weights | "
             "auto s / classic s |", "|---|---|---|---|---|---|---|"]
    for a, s, seed in dict.fromkeys((r["adstock"], r["saturation"], r["seed"]) for r in rows):
        c, t, x = (by.get((a, s, seed, v)) for v in ("classic", "true", "auto"))

        def part(r: dict[str, Any] | None, *keys: str) -> str:
            if r is None:
                return "-"
            out = []
            for k in keys:
                v = r.get(k, r["coverage"] if k == "reported_coverage" else None)
                out.append(str(v) if k == "divergences" else f"{v:.0%}")
            return " / ".join(out)

        weights = ", ".join(f"{k} {v:.2f}" for k, v in (x or {}).get("weights", {}).items())
        ratio = f"{x['seconds'] / c['seconds']:.1f}" if x and c else "-"
        lines.append(f"| {a} + {s} | {seed} | {part(c, 'coverage', 'roi_error')} | "
                     f"{part(t, 'coverage', 'roi_error', 'divergences')} | "
                     f"{part(x, 'coverage', 'reported_coverage', 'roi_error', 'divergences')}"
                     f" | {weights} | {ratio} |")
    return "\n".join(lines)


def _stacking(elpd_i: np.ndarray) -> np.ndarray:
    """Stacking weights of members with pointwise ELPD ``(K, n)``: the weights that
    maximise the summed log of the mixture's leave-one-out predictive density."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    def loss(z: np.ndarray) -> float:
        w = softmax(np.append(z, 0.0))
        return -float(logsumexp(elpd_i + np.log(w + 1e-300)[:, None], axis=0).sum())

    z = minimize(loss, np.zeros(len(elpd_i) - 1), method="BFGS").x
    return np.asarray(softmax(np.append(z, 0.0)))


def _pseudo_bma_plus(elpd_i: np.ndarray, draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Pseudo-BMA+ weights (Yao et al. 2018): softmax of the members' ELPD, averaged over
    Bayesian-bootstrap reweightings of the observations (so that members within noise
    of each other share the weight)."""
    from scipy.special import softmax

    n = elpd_i.shape[1]
    alpha = np.random.default_rng(seed).dirichlet(np.ones(n), size=draws)  # (B, n)
    z = n * alpha @ elpd_i.T  # (B, K)
    return np.asarray(softmax(z, axis=1).mean(axis=0))


#: Weightings that ``--weighting`` compares on the members of each auto row
WEIGHTINGS: dict[str, Any] = {
    "stacking": _stacking,
    "pseudo-BMA+": _pseudo_bma_plus,
    "pseudo-BMA": lambda e: np.exp(e.sum(1) - e.sum(1).max()) / np.exp(
        e.sum(1) - e.sum(1).max()).sum(),
    "stacking + pseudo-BMA+ (half each)": lambda e: (_stacking(e) + _pseudo_bma_plus(e)) / 2,
    "equal": lambda e: np.full(len(e), 1.0 / len(e)),
}


def _mixture_interval(quantiles: list[list[float]], weights: np.ndarray,
                      prob: float = 0.94) -> tuple[float, float]:
    """The equal-tailed ``prob`` interval of a mixture of members given by their
    quantiles at :data:`QUANTILES`."""
    grid = np.asarray(QUANTILES)
    xs = np.unique(np.concatenate(quantiles))
    cdf = sum(w * np.interp(xs, q, grid, left=0.0, right=1.0)
              for q, w in zip(quantiles, weights, strict=True))
    lo, hi = np.interp([(1 - prob) / 2, (1 + prob) / 2], cdf, xs)
    return float(lo), float(hi)


def weighting_table(rows: list[dict[str, Any]]) -> str:
    """Each weighting of :data:`WEIGHTINGS` applied to the members of every auto row that
    kept their pointwise ELPD: the mixture's ROI coverage (equal-tailed 94%), its mean
    absolute relative ROI error, and the mean interval width relative to stacking's."""
    auto = [r for r in rows if r["variant"] == "auto" and "members_elpd_i" in r]
    if not auto:
        return "no auto row has the members' pointwise ELPD (rows from before it was kept)"
    out: dict[str, list[tuple[float, float, float]]] = {k: [] for k in WEIGHTINGS}
    for r in auto:
        labels = list(r["members_elpd_i"])
        elpd_i = np.asarray([r["members_elpd_i"][k] for k in labels])
        truth = {c: v[3] for c, v in r["roi"].items()}
        for name, rule in WEIGHTINGS.items():
            w = np.asarray(rule(elpd_i)) if len(labels) > 1 else np.ones(1)
            inside, error, width = [], [], []
            for c, true in truth.items():
                lo, hi = _mixture_interval([r["members_roi_q"][k][c] for k in labels], w)
                mean = sum(wk * r["members_roi"][k][c][0] for k, wk in zip(labels, w,
                                                                            strict=True))
                inside.append(lo <= true <= hi)
                error.append(abs(mean - true) / true)
                width.append(hi - lo)
            out[name].append((float(np.mean(inside)), float(np.mean(error)),
                              float(np.mean(width))))
    base = np.asarray([w for _, _, w in out["stacking"]])
    lines = [f"Weightings of the same members ({len(auto)} auto rows):", "",
             "| weighting | ROI coverage (94%, equal-tailed) | ROI error | width / stacking's |",
             "|---|---|---|---|"]
    for name, v in out.items():
        a = np.asarray(v)
        lines.append(f"| {name} | {a[:, 0].mean():.0%} | {a[:, 1].mean():.0%} | "
                     f"{np.median(a[:, 2] / base):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--adstocks", default=ADSTOCKS)
    p.add_argument("--saturations", default=SATURATIONS)
    p.add_argument("--variants", default="classic,true,auto")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--weeks", type=int, default=156)
    p.add_argument("--quick", action="store_true", help="2 chains x 500 x 500")
    p.add_argument("--chains", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--draws", type=int)
    p.add_argument("--resume", action="store_true", help="skip rows already in --out")
    p.add_argument("--out", type=Path, default=RESULTS / "form_matrix.json")
    p.add_argument("--report", action="store_true",
                   help="print the tables of the rows in --out and fit nothing")
    p.add_argument("--weighting", action="store_true",
                   help="score other weightings of the auto rows' members and fit nothing")
    args = p.parse_args(argv)
    if args.weighting:
        print(weighting_table(json.loads(args.out.read_text())["rows"]))
        return 0
    if args.report:
        rows = json.loads(args.out.read_text())["rows"]
        print(cells_table(rows) + "\n\n" + summarise(rows))
        return 0
    base = (2, 500, 500) if args.quick else (4, 1000, 1000)
    args.chains, args.warmup, args.draws = (args.chains or base[0], args.warmup or base[1],
                                            args.draws or base[2])
    rows: list[dict[str, Any]] = []
    if args.resume and args.out.is_file():
        rows = json.loads(args.out.read_text())["rows"]
    done = {(r["adstock"], r["saturation"], r["seed"], r["variant"]) for r in rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for a in args.adstocks.split(","):
        for s in args.saturations.split(","):
            for seed in (int(x) for x in args.seeds.split(",")):
                for variant in args.variants.split(","):
                    if (a, s, seed, variant) in done:
                        continue
                    try:
                        row = run_cell(a, s, seed, variant, args)
                    except Exception as exc:  # a failing cell is a finding
                        row = {"adstock": a, "saturation": s, "seed": seed,
                               "variant": variant, "error": f"{type(exc).__name__}: {exc}"}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    args.out.write_text(json.dumps({
                        "settings": [args.chains, args.warmup, args.draws], "rows": rows},
                        indent=1))
    print(summarise(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
