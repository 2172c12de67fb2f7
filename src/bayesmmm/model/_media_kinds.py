"""Media kinds: what a channel's column measures and how it turns into spend.

An entry (:class:`MediaKind`) says what the numbers of a channel's column are and what
one unit of them costs: ``spend`` (the column is money: one unit costs 1) or ``units``
(impressions, GRPs, clicks...: one unit costs the spec's ``cost_per_unit`` of the
channel). ROI, media shares, response curves and budgets are in money; the model sees
the column itself. A further kind (organic media without a price; reach and frequency
given as two columns) is one more entry here and the rule that chooses it in
:func:`kind_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bayesmmm.model._spec import ModelSpec
from bayesmmm.transforms import Registry

__all__ = ["MEDIA_KINDS", "MediaKind", "kind_of", "unit_costs"]


@dataclass(frozen=True)
class MediaKind:
    """A named media kind: ``cost(spec, channel)`` is the money one unit of the channel's
    column costs."""

    name: str
    description: str
    cost: Callable[[ModelSpec, str], float]


MEDIA_KINDS: Registry[MediaKind] = Registry("media kind")
MEDIA_KINDS.add("spend", MediaKind("spend", "the column is spend (money)",
                                   lambda spec, channel: 1.0))
MEDIA_KINDS.add("units", MediaKind(
    "units", "the column counts units (impressions, GRPs) priced by cost_per_unit",
    lambda spec, channel: float(spec.cost_per_unit[channel])))


def kind_of(spec: ModelSpec, channel: str) -> MediaKind:
    """A channel's kind: ``units`` when the spec prices it (``cost_per_unit``), else
    ``spend``."""
    return MEDIA_KINDS.get("units" if channel in spec.cost_per_unit else "spend")


def unit_costs(spec: ModelSpec) -> np.ndarray:
    """Money per unit of each channel's column ``(n_channels,)``."""
    return np.array([kind_of(spec, c).cost(spec, c) for c in spec.channel_columns])
