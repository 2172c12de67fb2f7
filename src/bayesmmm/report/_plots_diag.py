"""Posterior against prior, and convergence plots (trace and rank) of a fit.

The draws are the fit's posterior (the arrays ArviZ's ``InferenceData`` holds); element
labels follow ArviZ's summary (``adstock_alpha[x1]``, ``saturation_beta_geo[north, tv]``).
An averaged fit (``forms="auto"``) has no parameters of its own, only its members': these
plots show one member, ``structure`` (default: the heaviest), and say so in the title.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

import jax
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.report._figure import GREY, color, facet_grid, finish

__all__ = ["plot_data_prior_posterior", "plot_data_rank", "plot_data_trace",
           "plot_prior_posterior", "plot_rank", "plot_trace"]


def member(fit: Fit | AveragedFit, structure: str | None = None) -> Fit:
    """The fit whose parameters a diagnostic plot shows: ``fit`` itself, or the member
    ``structure`` of an averaged fit (default: the heaviest).

    Raises
    ------
    SpecError
        ``structure`` given for a single fit, or not a member of the averaged fit.
    """
    if not isinstance(fit, AveragedFit):
        if structure is not None:
            raise SpecError(f"structure={structure!r}: this fit has one structure, not a "
                            "structure search. Fix: leave 'structure' out")
        return fit
    if structure is None:
        return fit.fits[fit.top]
    if structure not in fit.fits:
        raise SpecError(f"structure={structure!r} is not a member of this averaged fit. "
                        f"Fix: use one of {sorted(fit.fits, key=lambda k: -fit.weights[k])}")
    return fit.fits[structure]


def _title(title: str, fit: Fit | AveragedFit, structure: str | None) -> str:
    """``title``, naming the member shown when ``fit`` is averaged."""
    if not isinstance(fit, AveragedFit):
        return title
    label = structure or fit.top
    return (f"{title}: structure {label} (weight {fit.weights[label]:.2f}; "
            f"{len(fit.fits)} structures fitted)")


def _elements(fit: Fit, name: str) -> list[tuple[str, tuple[int, ...]]]:
    """``[(label, index)]`` of every scalar element of posterior site ``name``."""
    shape = fit.posterior[name].shape[2:]
    if not shape:
        return [(name, ())]
    dims, coords = fit.dims.get(name, []), fit.coords
    labels = [coords.get(d, [str(i) for i in range(n)]) if len(coords.get(d, [])) == n
              else [str(i) for i in range(n)] for d, n in zip(dims or [""] * len(shape),
                                                              shape, strict=True)]
    return [(f"{name}[{', '.join(labels[k][i] for k, i in enumerate(idx))}]", idx)
            for idx in product(*(range(n) for n in shape))]


def _element(values: np.ndarray, idx: tuple[int, ...], lead: int = 2) -> np.ndarray:
    """One scalar element of every draw: ``values[:, :, *idx]`` for ``lead`` = 2."""
    out = np.asarray(values)
    for i in idx:
        out = np.take(out, i, axis=lead)
    return out


def _population(fit: Fit) -> list[str]:
    """Parameters other than the per-geo values of the hierarchy."""
    return [n for n in fit.parameter_names() if not n.endswith("_geo")]


def _selected(fit: Fit, var_names: Sequence[str] | None, max_elements: int | None
              ) -> list[tuple[str, str, tuple[int, ...]]]:
    """``[(site, label, index)]`` of the elements to plot."""
    names = list(var_names) if var_names is not None else _population(fit)
    unknown = [n for n in names if n not in fit.posterior]
    if unknown:
        raise SpecError(f"Unknown parameter(s) {unknown}; expected some of "
                        f"{fit.parameter_names()}")
    out = [(n, label, idx) for n in names for label, idx in _elements(fit, n)]
    return out if max_elements is None else out[:max_elements]


# -- prior vs posterior --------------------------------------------------------------------
def _prior_names(fit: Fit) -> list[str]:
    """Parameters whose prior is exactly the spec's prior for that name (derived ones,
    such as ``saturation_beta`` under an ROI or spend-share prior, are left out)."""
    known = fit.spec.default_priors()
    skip = {"saturation_beta"} if fit.spec.media_prior in ("roi", "spend_share") else set()
    return [n for n in _population(fit) if n in known and n not in skip]


def prior_draws(fit: Fit, name: str, n: int = 4000, seed: int = 0) -> np.ndarray:
    """``n`` draws of parameter ``name``'s prior, shaped like one posterior draw:
    ``(n, ...)``."""
    d = fit.spec.prior(name).to_numpyro()
    shape = tuple(fit.posterior[name].shape[2:])
    if tuple(d.batch_shape) != shape:
        d = d.expand(shape)
    return np.asarray(d.sample(jax.random.PRNGKey(seed), (n,)))


def _display_range(post: np.ndarray, prior: np.ndarray) -> tuple[float, float]:
    """The posterior's range joined with the prior's central 98%, cut at five posterior
    widths either side so that a vague prior does not flatten the posterior."""
    lo, hi = float(post.min()), float(post.max())
    width = max(hi - lo, 1e-9)
    p_lo, p_hi = np.quantile(prior, [0.01, 0.99])
    return max(min(lo, p_lo), lo - 5 * width), min(max(hi, p_hi), hi + 5 * width)


def _density(values: np.ndarray, lo: float, hi: float, bins: int) -> tuple[np.ndarray, ...]:
    """Histogram density over ``[lo, hi]`` relative to all ``values`` (mass outside the
    range is left out): bin centres and densities."""
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(values, edges)
    return (edges[:-1] + edges[1:]) / 2, counts / (len(values) * np.diff(edges))


def plot_data_prior_posterior(fit: Fit | AveragedFit,
                              var_names: Sequence[str] | None = None, bins: int = 30,
                              n_prior: int = 4000, seed: int = 0,
                              structure: str | None = None) -> pd.DataFrame:
    """Histogram densities of each parameter's posterior and prior.

    The posterior's bins span its draws; the prior's span the display range (see
    ``docs/plots.md``), each density relative to all draws of its source. Parameters
    default to those with a prior of their own (not the geo values of a hierarchy).

    Returns
    -------
    DataFrame
        ``parameter`` (element label), ``source`` (``prior`` or ``posterior``), ``x``
        (bin centre), ``density``.
    """
    fit = member(fit, structure)
    names = list(var_names) if var_names is not None else _prior_names(fit)
    frames = []
    for name in names:
        prior = prior_draws(fit, name, n_prior, seed)
        for label, idx in _elements(fit, name):
            post = _element(fit.posterior[name], idx).reshape(-1)
            pri = _element(prior, idx, lead=1)
            lo, hi = _display_range(post, pri)
            for source, values, a, b in (("posterior", post, post.min(), post.max()),
                                         ("prior", pri, lo, hi)):
                x, dens = _density(values, float(a), float(max(b, a + 1e-9)), bins)
                frames.append(pd.DataFrame({"parameter": label, "source": source, "x": x,
                                            "density": dens}))
    return pd.concat(frames, ignore_index=True)


def plot_prior_posterior(fit: Fit | AveragedFit, var_names: Sequence[str] | None = None,
                         bins: int = 30, structure: str | None = None) -> go.Figure:
    """Posterior (filled) against prior (dashed) per parameter: how far the data moved
    each belief."""
    frame = plot_data_prior_posterior(fit, var_names, bins, structure=structure)
    labels = list(dict.fromkeys(frame["parameter"]))
    fig, cells = facet_grid(labels, max_cols=4)
    for i, (label, (row, col)) in enumerate(zip(labels, cells, strict=True)):
        part = frame[frame["parameter"] == label]
        post, pri = part[part["source"] == "posterior"], part[part["source"] == "prior"]
        fig.add_trace(go.Scatter(x=pri["x"], y=pri["density"], mode="lines", name="prior",
                                 legendgroup="prior", showlegend=i == 0,
                                 line={"color": GREY, "dash": "dash", "shape": "hvh"}),
                      row=row, col=col)
        fig.add_trace(go.Scatter(x=post["x"], y=post["density"], mode="lines",
                                 name="posterior", legendgroup="posterior", showlegend=i == 0,
                                 fill="tozeroy", line={"color": color(0), "shape": "hvh"}),
                      row=row, col=col)
    return finish(fig, _title("Posterior vs prior", fit, structure), None, "density",
                  cells=cells)


# -- convergence -----------------------------------------------------------------------------
def plot_data_trace(fit: Fit | AveragedFit, var_names: Sequence[str] | None = None,
                    max_elements: int | None = 24, structure: str | None = None
                    ) -> pd.DataFrame:
    """Draws per chain in sampling order: ``parameter``, ``chain``, ``draw``, ``value``.

    Parameters default to all but the geo values of a hierarchy, the first
    ``max_elements`` scalar elements of them (None: all).
    """
    fit = member(fit, structure)
    frames = []
    for name, label, idx in _selected(fit, var_names, max_elements):
        values = _element(fit.posterior[name], idx)  # (chain, draw)
        chains, draws = np.meshgrid(np.arange(values.shape[0]), np.arange(values.shape[1]),
                                    indexing="ij")
        frames.append(pd.DataFrame({"parameter": label, "chain": chains.ravel(),
                                    "draw": draws.ravel(), "value": values.ravel()}))
    return pd.concat(frames, ignore_index=True)


def plot_trace(fit: Fit | AveragedFit, var_names: Sequence[str] | None = None,
               max_elements: int | None = 24, structure: str | None = None) -> go.Figure:
    """Trace plot: one subplot per parameter, one line per chain. Chains that wander
    apart or get stuck show here."""
    frame = plot_data_trace(fit, var_names, max_elements, structure)
    fig, cells, _ = _chain_lines(frame, "draw", "value", {"width": 1}, opacity=0.8)
    return finish(fig, _title("Trace per chain", fit, structure), "draw", "value",
                  cells=cells)


def _chain_lines(frame: pd.DataFrame, x: str, y: str, line: dict[str, Any],
                 **style: Any) -> tuple[go.Figure, list[tuple[int, int]], list[pd.DataFrame]]:
    """One subplot per ``parameter`` with a line per chain (colour per chain, one legend
    entry per chain); returns the figure, its cells and each subplot's rows."""
    labels = list(dict.fromkeys(frame["parameter"]))
    fig, cells = facet_grid(labels, max_cols=4)
    parts = []
    for i, (label, (row, col)) in enumerate(zip(labels, cells, strict=True)):
        part = frame[frame["parameter"] == label]
        parts.append(part)
        for chain, one in part.groupby("chain"):
            fig.add_trace(go.Scatter(x=one[x], y=one[y], mode="lines",
                                     name=f"chain {chain}", legendgroup=f"chain {chain}",
                                     showlegend=i == 0,
                                     line={"color": color(int(chain)), **line}, **style),
                          row=row, col=col)
    return fig, cells, parts


def plot_data_rank(fit: Fit | AveragedFit, var_names: Sequence[str] | None = None,
                   bins: int = 20, max_elements: int | None = 24,
                   structure: str | None = None) -> pd.DataFrame:
    """Rank histograms (Vehtari et al. 2021): the draws of all chains are ranked
    together and each chain's ranks counted in ``bins`` equal bins; converged chains
    give flat, equal histograms (``expected`` = draws per chain / bins).

    Returns
    -------
    DataFrame
        ``parameter``, ``chain``, ``bin``, ``rank_low``, ``rank_high``, ``count``,
        ``expected``.
    """
    from scipy.stats import rankdata  # scipy.stats takes ~0.6 s to import: only when used

    fit = member(fit, structure)
    frames = []
    for name, label, idx in _selected(fit, var_names, max_elements):
        values = _element(fit.posterior[name], idx)
        ranks = rankdata(values.ravel(), method="average").reshape(values.shape)
        edges = np.linspace(0.5, values.size + 0.5, bins + 1)
        for chain in range(values.shape[0]):
            counts, _ = np.histogram(ranks[chain], edges)
            frames.append(pd.DataFrame({"parameter": label, "chain": chain,
                                        "bin": np.arange(bins), "rank_low": edges[:-1],
                                        "rank_high": edges[1:], "count": counts,
                                        "expected": values.shape[1] / bins}))
    return pd.concat(frames, ignore_index=True)


def plot_rank(fit: Fit | AveragedFit, var_names: Sequence[str] | None = None,
              bins: int = 20, max_elements: int | None = 24,
              structure: str | None = None) -> go.Figure:
    """Rank plot: per parameter, each chain's rank histogram as a step line, with the
    uniform expectation dashed. A chain above or below the others has not mixed."""
    frame = plot_data_rank(fit, var_names, bins, max_elements, structure)
    fig, cells, parts = _chain_lines(frame, "bin", "count", {"shape": "hvh"})
    for i, (part, (row, col)) in enumerate(zip(parts, cells, strict=True)):
        expected = float(part["expected"].iloc[0])
        fig.add_trace(go.Scatter(x=[0, bins - 1], y=[expected, expected], mode="lines",
                                 name="uniform", legendgroup="uniform", showlegend=i == 0,
                                 line={"color": GREY, "dash": "dash"}), row=row, col=col)
    return finish(fig, _title("Rank plot per chain (flat and equal = well mixed)", fit,
                              structure), "rank bin", "count", cells=cells)
