"""Several fits of one data set combined by weights: a model-averaged posterior.

The structure of a marketing mix (which adstock, which saturation) is uncertain in real
data. :class:`AveragedFit` holds fits of the same data under different structures and
their weights (Bayesian stacking of their predictive distributions, chosen by
:func:`bayesmmm.analysis.fit_auto`). Its posterior is the mixture: a draw comes from
member ``k`` with probability ``w_k``. :meth:`AveragedFit.parts` realises it as a fixed
set of draws (``round(w_k S)`` evenly spread draws of member ``k``, ``S`` the largest
count every member can supply, ``min_k n_k / w_k``, at most the largest ``n_k``), and
every answer of the analysis layer computes draws member by member on those parts and
concatenates them: answers of the averaged fit are exactly the weighted mixture of the
members' answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmmm.errors import SpecError
from bayesmmm.model._fitfile import save_averaged
from bayesmmm.model._result import Fit, answer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["AveragedFit", "allocate_draws"]

#: Weights below this carry no draws of the mixture (stacking gives many exact zeros,
#: and a member with a thousandth of the weight cannot move an answer).
MIN_WEIGHT = 1e-3


def allocate_draws(weights: np.ndarray, total: int) -> np.ndarray:
    """Draws per member: ``round(w_k * total)`` by largest remainders (sums to ``total``)."""
    w = np.where(weights >= MIN_WEIGHT, weights, 0.0)
    w = w / w.sum()
    raw = w * total
    counts = np.floor(raw).astype(int)
    short = total - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


@dataclass
class AveragedFit:
    """Fits of one data set under different structures, combined by ``weights``.

    Attributes
    ----------
    fits : dict of str to Fit
        Members by label (e.g. ``"delayed+hill"``); same data, same spec but the forms.
    weights : dict of str to float
        Stacking weights (non-negative, summing to 1).
    comparison : DataFrame, optional
        The candidates' comparison (ELPD, weights, convergence, why a candidate was
        dropped), as :func:`bayesmmm.analysis.fit_auto` made it.
    meta : dict
        How the search ran (candidates, pilots, timings).
    """

    fits: dict[str, Fit]
    weights: dict[str, float]
    comparison: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.fits or set(self.fits) != set(self.weights):
            raise SpecError("an averaged fit needs members and one weight per member, got "
                            f"{sorted(self.fits)} and {sorted(self.weights)}")
        w = np.array([self.weights[k] for k in self.fits], dtype=float)
        if (w < 0).any() or not np.isclose(w.sum(), 1.0, atol=1e-6):
            raise SpecError(f"weights must be >= 0 and sum to 1, got {self.weights}")
        first = next(iter(self.fits.values()))
        for label, f in self.fits.items():
            if f.data.y_gt.shape != first.data.y_gt.shape or \
                    not np.array_equal(f.data.y_gt, first.data.y_gt) or \
                    f.spec.channel_columns != first.spec.channel_columns:
                raise SpecError(f"member {label!r} was fitted to other data or channels; "
                                "averaged fits combine fits of the same data")

    # -- what every answer reads ---------------------------------------------------------
    @property
    def top(self) -> str:
        """The label of the member with the largest weight."""
        return max(self.weights, key=self.weights.__getitem__)

    @property
    def spec(self) -> Any:
        """The spec of the heaviest member (members differ only in their forms)."""
        return self.fits[self.top].spec

    @property
    def data(self) -> Any:
        return self.fits[self.top].data

    @property
    def scalers(self) -> Any:
        return self.fits[self.top].scalers

    @property
    def is_panel(self) -> bool:
        return self.data.n_geos > 1

    @cached_property
    def parts(self) -> list[Fit]:
        """The mixture's draws: for each member with weight, a fit of its share of draws
        (evenly spread over its chains and draws)."""
        labels = list(self.fits)
        sizes = [self.fits[k].n_chains * self.fits[k].n_draws for k in labels]
        w = np.array([self.weights[k] for k in labels])
        # the largest mixture each carried member can supply without repeating a draw
        # (a member of weight w and n draws supplies n / w): with members of equal size
        # that is the smallest member's size; a member fitted with fewer draws because
        # of its small weight does not shrink the mixture
        total = min(max(sizes), *(int(s / wk) for s, wk in zip(sizes, w, strict=True)
                                  if wk >= MIN_WEIGHT))
        counts = allocate_draws(w, total)
        out = []
        for label, size, n in zip(labels, sizes, counts, strict=True):
            if n:
                index = np.round(np.linspace(0, size - 1, n)).astype(int)
                out.append(self.fits[label].select_draws(index))
        return out

    @property
    def n_chains(self) -> int:
        return 1

    @property
    def n_draws(self) -> int:
        return sum(p.n_draws for p in self.parts)

    def carried_by(self) -> str:
        """Plain words: which structures carry the weight."""
        shares = sorted(self.weights.items(), key=lambda kv: -kv[1])
        words = [f"{label} {w:.0%}" for label, w in shares if w >= MIN_WEIGHT]
        return "averaged over structures: " + ", ".join(words)

    # -- answers (the analysis layer's, as for Fit) --------------------------------------
    def _answer(self, name: str) -> Callable[..., Any]:
        return answer(name)

    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        return self._answer("summary")(self, hdi_prob=hdi_prob)

    def contributions(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return self._answer("contributions")(self, hdi_prob=hdi_prob, level=level)

    def roi(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return self._answer("roi")(self, hdi_prob=hdi_prob, level=level)

    def media_share(self, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
        return self._answer("media_share")(self, hdi_prob=hdi_prob, level=level)

    def fit_metrics(self) -> dict[str, float]:
        return self._answer("fit_metrics")(self)

    def warnings(self) -> list[str]:
        return self._answer("warnings")(self)

    def save(self, path: str | Path) -> Path:
        """Write the members, weights and comparison to one file (``bm.load_fit`` reads
        it back as an averaged fit)."""
        table = "" if self.comparison is None else self.comparison.to_json(orient="split")
        return save_averaged(self.fits, self.weights, table, self.meta, path)


def members_of(fit: Fit | AveragedFit) -> Mapping[str, Fit]:
    """``{label: fit}``: the members of an averaged fit, or the fit itself."""
    if isinstance(fit, AveragedFit):
        return fit.fits
    return {"model": fit}
