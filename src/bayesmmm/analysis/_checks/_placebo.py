"""(b) A placebo channel: refit with a shuffled copy of a real channel's spend."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from bayesmmm.analysis._checks._common import (
    PLACEBO_HDI,
    PLACEBO_MIN_BLOCK,
    PLACEBO_PRIOR_LOW,
    PLACEBO_R_HAT,
    PLACEBO_TRIES,
    PLACEBO_ZERO_SHARE,
    Finding,
    _finding,
    _num,
    _roi_draws,
)
from bayesmmm.analysis._checks._conflict import _prior_quantiles
from bayesmmm.analysis._draws import (
    hdi,
)
from bayesmmm.model import Fit, ModelSpec, Site, spend_of
from bayesmmm.model import fit as fit_model
from bayesmmm.priors import Prior


# -- (b) placebo channel ---------------------------------------------------------------------
def placebo_check(fit: Fit, *, seed: int = 0, channel: str | None = None,
                  **sampler: Any) -> Finding:
    """Refit with a placebo channel and check that its ROI interval reaches 0.

    The placebo's spend is a block-permuted copy of ``channel``'s (default: the channel
    with the largest spend): blocks of ``max(l_max, 4)`` periods in a random order drawn
    from ``seed`` (the same order in every geo), so it has a realistic spend pattern but
    no effect; of :data:`PLACEBO_TRIES` orders the one least correlated with the real
    channels is used. It gets ``channel``'s forms and priors. The refit uses the fit's
    sampler options (``fit.meta['options']``, its sampler seed included: ``seed`` here only
    draws the shuffle), overridden by ``sampler`` (``progress`` too; default off).

    The interval "reaches 0" when the lower bound of the placebo's 94% ROI HDI is below
    :data:`PLACEBO_ZERO_SHARE` of the smallest real channel's ROI mean (under an ROI prior,
    or below the prior's :data:`PLACEBO_PRIOR_LOW` quantile). Otherwise the model gives an
    effect to noise (``care``), and ``bad`` when the placebo's ROI mean reaches the
    smallest real channel's. ``value`` is the lower HDI bound.
    """
    spec, data = fit.spec, fit.data
    channels = spec.channel_columns
    spend = spend_of(spec, data)
    src = channel if channel is not None else \
        channels[int(np.argmax(spend.reshape(-1, len(channels)).sum(axis=0)))]
    if src not in channels:
        raise ValueError(f"Unknown channel {src!r}; expected one of {list(channels)}")
    c = channels.index(src)
    name = _free_name("placebo", (*channels, *data.control_names))
    media = _block_permuted(data.media_gt, c, max(spec.adstock_max_lag, PLACEBO_MIN_BLOCK),
                            seed)
    new_data = dataclasses.replace(
        data, media=media if data.is_panel else media[0],
        channel_names=(*data.channel_names, name))
    new_spec = _with_placebo(spec, src, name)
    options = {**fit.meta.get("options", {}), **sampler}
    progress = options.pop("progress", False)
    refit = fit_model(new_data, new_spec, progress=progress, **options)

    roi = _roi_draws(refit)
    low = float(hdi(roi[:, -1], PLACEBO_HDI)[0])
    real = np.nanmean(roi[:, :-1], axis=0)
    smallest = float(np.nanmin(real))
    bound = PLACEBO_ZERO_SHARE * smallest
    how = f"below {PLACEBO_ZERO_SHARE:g} x the smallest real ROI mean ({_num(bound)})"
    if not refit.structure.beta_sampled:
        prior_low = float(_prior_quantiles(refit.structure.prior(Site.ROI), roi.shape[1],
                                           (PLACEBO_PRIOR_LOW,))[0, -1])
        bound = max(bound, prior_low)
        how += f" or the ROI prior's {PLACEBO_PRIOR_LOW:.0%} quantile ({_num(prior_low)})"
    rule = f"lower {PLACEBO_HDI:.0%} HDI bound of the placebo's ROI {how}"
    mean = float(np.mean(roi[:, -1]))
    r_hat = _max_r_hat(refit)
    if not r_hat <= PLACEBO_R_HAT:
        return _finding(
            "placebo", name, low, rule, "care",
            f"placebo refit did not converge (r_hat {r_hat:.3f})",
            f"The refit with a placebo channel (a shuffled copy of {src}'s spend) did not "
            f"converge (max r_hat {r_hat:.3f}), so the placebo's ROI cannot be judged. Fix: "
            "rerun the check with more warm-up and draws (e.g. warmup=1000, draws=1000).")
    if low < bound:
        return _finding("placebo", name, low, rule, "ok")
    status = "bad" if mean >= smallest else "care"
    return _finding(
        "placebo", name, low, rule, status,
        f"a placebo channel got a positive ROI ({_num(mean)})",
        f"A placebo channel (a shuffled copy of {src}'s spend, with no effect on sales) got "
        f"an ROI of {_num(mean)} (94% interval from {_num(low)}), against {_num(smallest)} "
        "for the weakest real channel: the model credits noise to media, so real ROIs are "
        "likely overstated. Fix: add the controls that drive sales (prices, promotions, "
        "distribution), use tighter media priors or lift tests, and compare forms with "
        "`bayesmmm compare`.")


def _max_r_hat(fit: Fit) -> float:
    from bayesmmm.analysis._answers import summary

    r = summary(fit)["r_hat"]
    return float(r.max()) if r.notna().any() else math.nan


def _free_name(base: str, taken: tuple[str, ...]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def _block_permuted(media_gt: np.ndarray, c: int, block: int, seed: int) -> np.ndarray:
    """``media_gt`` ``(G, T, C)`` with one more channel: channel ``c``'s series cut into
    blocks of ``block`` periods and put in a random order (the one, of PLACEBO_TRIES, least
    correlated with the real channels)."""
    n_t = media_gt.shape[1]
    starts = np.arange(0, n_t, block)
    rng = np.random.default_rng(seed)
    flat = media_gt.reshape(-1, media_gt.shape[-1])
    candidates = []
    for _ in range(PLACEBO_TRIES):
        order = rng.permutation(len(starts))
        idx = np.concatenate([np.arange(s, min(s + block, n_t)) for s in starts[order]])
        fake = media_gt[:, idx, c]
        corr = max(abs(_corr(fake.reshape(-1), flat[:, k])) for k in range(flat.shape[1]))
        candidates.append((corr, fake))
    best = min(candidates, key=lambda pair: pair[0])[1]
    return np.concatenate([media_gt, best[..., None]], axis=-1)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _with_placebo(spec: ModelSpec, src: str, name: str) -> ModelSpec:
    """``spec`` with channel ``name`` appended, taking ``src``'s forms, cost and priors
    (a list-valued prior gets ``src``'s value appended)."""
    channels = [*spec.channel_columns, name]
    adstock = {**spec.adstock_forms, name: spec.adstock_forms[src]}
    saturation = {**spec.saturation_forms, name: spec.saturation_forms[src]}
    costs = dict(spec.cost_per_unit)
    if src in costs:
        costs[name] = costs[src]
    priors: dict[str, Prior] = {}
    for key, prior in spec.priors.items():
        have = _channels_having(spec, key)
        params = {k: (v + (v[have.index(src)],) if isinstance(v, tuple) and src in have else v)
                  for k, v in prior.params.items()}
        priors[key] = Prior(prior.dist, params)
    return spec.replace(channel_columns=channels, adstock=adstock, saturation=saturation,
                        cost_per_unit=costs, priors=priors)


def _channels_having(spec: ModelSpec, key: str) -> list[str]:
    """Channels along a channel prior's list (``roi`` and beta: all; a form parameter or
    its geo spread: the channels whose form has it)."""
    base = key.removesuffix("_sigma")
    if base == Site.ROI or base in spec.channel_parameters():
        return list(spec.channel_columns) if base in (Site.ROI, Site.BETA) \
            else spec.channels_with(base)
    return []
