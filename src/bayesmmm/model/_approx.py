"""A fast approximate posterior: ADVI, corrected and judged by importance sampling.

``method="advi"`` fits a multivariate normal to the posterior in the sampler's
unconstrained space by maximising the ELBO (NumPyro's SVI): a full covariance up to
:data:`FULL_RANK_MAX` latent dimensions, a low-rank-plus-diagonal one above. ``chains``
independent fits start from different points (each optimisation is one "path"); their
mixture proposes :data:`CANDIDATES_PER_DRAW` x ``draws`` candidates, and
Pareto-smoothed importance sampling (PSIS, Vehtari et al. 2024) reweights them by
``p(theta, y) / q(theta)`` and resamples ``draws`` of them. The Pareto shape ``k-hat``
of the weights says how far the approximation can be trusted: below 0.5 the
importance-corrected draws are close to exact, up to 0.7 usable, above it the normal
cannot reach parts of the posterior (funnels, curved ridges) and the answers may be
biased: use NUTS. The fit's ``meta`` holds ``pareto_k`` and the importance ESS; the
verdict and ``fit.warnings()`` read them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.distributions.transforms import biject_to
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoLowRankMultivariateNormal, AutoMultivariateNormal
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import constrain_fn, potential_energy
from scipy.special import logsumexp

from bayesmmm.model._sampler import SamplerResult, Start

__all__ = ["CANDIDATES_PER_DRAW", "FULL_RANK_MAX", "LOW_RANK", "advi_start", "run_advi"]

#: Latent dimensions up to which the guide's covariance is full (its Cholesky factor has
#: d(d+1)/2 entries: 45,000 at 300); above, rank LOW_RANK plus a diagonal.
FULL_RANK_MAX = 300
LOW_RANK = 40
#: Candidates proposed per draw kept: PSIS needs a few thousand weights to estimate k-hat.
CANDIDATES_PER_DRAW = 4
#: A path whose ELBO is this many nats below the best path's found a poorer optimum
#: (seen on the example: 205 and 253 against 307) and is left out of the proposal.
PATH_GAP = 5.0
#: Optimisation steps per compiled call (progress and the deadline are checked between).
STEP_CHUNK = 250
#: Adam's step size decays geometrically from LEARNING_RATE to LEARNING_RATE x LR_DECAY
#: over the steps: large steps find the mode's region, small ones settle the covariance
#: (a constant rate leaves the paths' ELBOs ~10 nats apart on the example).
LEARNING_RATE = 0.01
LR_DECAY = 0.05
#: Monte Carlo draws per ELBO gradient.
PARTICLES = 2

ProgressFn = Callable[[str, int, int], None]


def latent_size(model: Callable[..., Any], args: tuple[Any, ...]) -> int:
    """The number of unconstrained latent dimensions, from the model's shapes alone (an
    abstract trace: no operation runs, nothing compiles)."""
    sizes: list[int] = []

    def probe(*a: Any) -> int:
        start = numpyro.handlers.substitute(numpyro.handlers.seed(model, 0),
                                            substitute_fn=init_to_uniform)
        tr = numpyro.handlers.trace(start).get_trace(*a)
        for site in tr.values():
            if site["type"] == "sample" and not site["is_observed"]:
                shape = biject_to(site["fn"].support).inverse_shape(jnp.shape(site["value"]))
                sizes.append(int(np.prod(shape)))
        return 0

    jax.eval_shape(probe, *args)
    return sum(sizes)


def _guide(model: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    if latent_size(model, args) <= FULL_RANK_MAX:
        return AutoMultivariateNormal(model, init_scale=0.1)
    return AutoLowRankMultivariateNormal(model, init_scale=0.1, rank=LOW_RANK)


def _optimise(model: Callable[..., Any], model_args: tuple[Any, ...], *, paths: int,
              steps: int, seed: int, progress: ProgressFn | None, deadline: float | None,
              phase: str = "optimising") -> tuple[Any, Any, int, jax.Array]:
    """``paths`` ADVI optimisations of ``steps`` steps: ``(guide, params, steps done,
    keys)``; ``params`` has a leading path axis, ``keys[-1]`` is left for the caller."""
    guide = _guide(model, model_args)

    def rate(i: jax.Array) -> jax.Array:
        return LEARNING_RATE * LR_DECAY ** (i / steps)

    svi = SVI(model, guide, numpyro.optim.Adam(rate), Trace_ELBO(num_particles=PARTICLES))
    keys = jax.random.split(jax.random.PRNGKey(seed), paths + 1)
    # one compiled program each for the start, the steps and the importance sampling:
    # run eagerly, JAX would compile the model's hundreds of operations one by one
    # (about 10 s of the example's first approximate fit). The paths stay on one device,
    # vmapped: XLA spreads their operations over the cores, and pmapping them over two
    # host devices was 1.2-3.7x slower (docs/benchmarks.md, session 27)
    states = jax.jit(lambda ks, args: jax.vmap(lambda k: svi.init(k, *args))(ks))(
        keys[:paths], model_args)

    @jax.jit
    def advance(states: Any, n: jax.Array) -> tuple[Any, jax.Array]:
        def body(i: jax.Array, carry: tuple[Any, jax.Array]) -> tuple[Any, jax.Array]:
            s, _ = carry
            s, loss = jax.vmap(lambda st: svi.update(st, *model_args))(s)
            return s, loss

        return jax.lax.fori_loop(0, n, body, (states, jnp.zeros(paths)))

    done, loss = 0, jnp.zeros(paths)
    while done < steps:
        n = min(STEP_CHUNK, steps - done)
        states, loss = advance(states, n)
        done += n
        jax.block_until_ready(loss)
        if progress is not None:
            progress(phase, done, steps)
        if deadline is not None and time.perf_counter() > deadline:
            break
    return guide, jax.vmap(svi.get_params)(states), done, keys


def run_advi(model: Callable[..., Any], model_args: tuple[Any, ...], *, paths: int,
             steps: int, draws: int, seed: int, progress: ProgressFn | None = None,
             deadline: float | None = None) -> SamplerResult:
    """``paths`` ADVI fits of ``steps`` steps each, then PSIS resampling of ``draws``.

    Returns the draws as a one-chain :class:`SamplerResult` (constrained values and
    deterministic sites; sample stats: no divergences, zero steps) whose ``info`` holds
    the diagnostics (``pareto_k``, ``importance_ess``, ``elbo`` of each path). ``deadline`` (a
    ``time.perf_counter()`` reading) ends the optimisation early at a chunk's end.
    """
    import arviz as az

    start = time.perf_counter()
    guide, params, done, keys = _optimise(model, model_args, paths=paths, steps=steps,
                                          seed=seed, progress=progress, deadline=deadline)
    seconds_fit = time.perf_counter() - start
    out = _importance(model, model_args, guide, params, paths, draws, keys[-1])
    log_w = np.asarray(out["log_w"], np.float64)
    smoothed, k_hat = az.psislw(log_w[None], reff=1.0)
    w = np.exp(np.asarray(smoothed).reshape(-1) - logsumexp(np.asarray(smoothed)))
    chosen = _systematic(w, draws, np.random.default_rng(seed))
    samples = {k: np.asarray(v)[chosen][None] for k, v in out["values"].items()
               if not k.startswith("_")}
    zeros = np.zeros((1, draws))
    stats = {"diverging": zeros.astype(bool), "num_steps": zeros.astype(np.int32),
             "energy": np.full((1, draws), np.nan), "accept_prob": np.full((1, draws), np.nan)}
    info = {"pareto_k": float(np.asarray(k_hat).reshape(-1)[0]),
            "importance_ess": float(1.0 / np.sum(w ** 2)), "candidates": int(len(w)),
            "paths": paths, "paths_kept": int(len(out["kept_paths"])), "steps": done,
            "elbo": np.round(out["path_elbo"], 2).tolist(),
            "guide": type(guide).__name__}
    return SamplerResult(samples, stats, seconds_fit, time.perf_counter() - start - seconds_fit,
                         info)


def advi_start(model: Callable[..., Any], model_args: tuple[Any, ...], *, chains: int,
               steps: int, seed: int, progress: ProgressFn | None = None) -> Start:
    """Where NUTS starts when ``init="advi"``: one ADVI path per chain; each chain starts
    at a draw from its own path's normal, and every chain's initial inverse mass matrix
    is the paths' mean variance of each unconstrained latent (PyMC's
    ``init="advi+adapt_diag"``, in NumPyro's sampling space)."""
    start = time.perf_counter()
    guide, params, done, keys = _optimise(model, model_args, paths=chains, steps=steps,
                                          seed=seed, progress=progress, deadline=None,
                                          phase="start")
    unpack = guide._unpack_latent  # see _importance

    @jax.jit
    def propose(params: Any, key: jax.Array) -> tuple[Any, Any]:
        z = jax.vmap(lambda p, k: guide.get_posterior(p).sample(k))(
            params, jax.random.split(key, chains))
        variance = jnp.mean(jax.vmap(lambda p: guide.get_posterior(p).variance)(params),
                            axis=0)
        return jax.vmap(unpack)(z), unpack(variance)

    z, variance = propose(params, keys[-1])
    info = {"method": "advi", "steps": done, "seconds": time.perf_counter() - start,
            "guide": type(guide).__name__}
    return Start(jax.tree.map(np.asarray, z), jax.tree.map(np.asarray, variance), info)


def _importance(model: Callable[..., Any], args: tuple[Any, ...], guide: Any, params: Any,
                paths: int, draws: int, key: jax.Array) -> dict[str, Any]:
    """Candidates from the mixture of the good paths: constrained values (deterministic
    sites too) and log importance weights ``log p(z, y) - log q_mix(z)`` in the
    unconstrained space. A path whose ELBO (estimated on its own candidates) is more
    than :data:`PATH_GAP` below the best one's stopped at a poorer optimum and is left
    out of the mixture."""
    per_path = CANDIDATES_PER_DRAW * draws // paths + 1
    # the guide's own map from its flat latent vector to the sites (NumPyro has no public
    # name for it; tests/model/test_approx.py fails if it changes)
    unpack = guide._unpack_latent

    @jax.jit
    def propose(params: Any, key: jax.Array, args: tuple[Any, ...]) -> tuple[jax.Array, ...]:
        def one_path(p: Any, k: jax.Array) -> jax.Array:
            return guide.get_posterior(p).sample(k, (per_path,))

        z = jax.vmap(one_path)(params, jax.random.split(key, paths))
        z = z.reshape(paths * per_path, -1)

        def scores(zz: jax.Array) -> tuple[jax.Array, jax.Array]:
            log_q = jax.vmap(lambda p: guide.get_posterior(p).log_prob(zz))(params)
            return -potential_energy(model, args, {}, unpack(zz)), log_q

        log_p, log_q = jax.lax.map(scores, z, batch_size=256)  # (N,), (N, paths)
        return z, jnp.where(jnp.isfinite(log_p), log_p, -jnp.inf), log_q

    @jax.jit
    def values(z: jax.Array, args: tuple[Any, ...]) -> dict[str, jax.Array]:
        return jax.lax.map(lambda zz: constrain_fn(model, args, {}, unpack(zz),
                                                   return_deterministic=True),
                           z, batch_size=256)

    z, log_p, log_q = (np.asarray(a) for a in propose(params, key, args))
    with np.errstate(invalid="ignore"):  # -inf - -inf where a path's draw is invalid
        own = (log_p - log_q[np.arange(len(z)), np.arange(len(z)) // per_path]).reshape(
            paths, per_path)
        elbo = np.where(np.isfinite(own), own, np.nan).mean(axis=1)
    elbo = np.where(np.isfinite(elbo), elbo, -np.inf)
    kept = np.flatnonzero(elbo >= elbo.max() - PATH_GAP)
    rows = (kept[:, None] * per_path + np.arange(per_path)[None]).reshape(-1)
    mix = logsumexp(log_q[rows][:, kept], axis=1) - np.log(len(kept))
    return {"log_w": _log_weights(log_p[rows], mix),
            "values": values(jnp.asarray(z[rows]), args),
            "path_elbo": elbo, "kept_paths": kept}


def _log_weights(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``log p - log q`` of each candidate, ``-inf`` (no weight) where the posterior's
    density is zero or the difference is undefined: on large_business a low-rank normal's
    density underflowed at some of its own draws where the posterior's was zero too, and
    the NaN weights made the k-hat infinite (docs/benchmarks.md, session 27)."""
    with np.errstate(invalid="ignore"):
        log_w = log_p - log_q
    return np.where(np.isnan(log_w) | np.isneginf(log_p), -np.inf, log_w)


def _systematic(w: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling of ``n`` indices with probabilities ``w``."""
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(w), positions), len(w) - 1)
