"""Named scenarios (percent changes per channel) compared side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm.analysis import hdi_columns
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize._planner import Planner
from bayesmmm.optimize._report import describe, ratio

__all__ = ["Scenario", "compare_scenarios", "load_scenarios"]


def _pct(where: str, value: Any) -> float:
    if isinstance(value, bool):
        raise SpecError(f"{where}: expected a percent change such as -10 or '+25%', got {value!r}")
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            value = float(text)
        except ValueError:
            raise SpecError(f"{where}: {value!r} is not a percent change (write -10% or +25%)"
                            ) from None
    if not isinstance(value, (int, float)) or not np.isfinite(value):
        raise SpecError(f"{where}: expected a percent change such as -10 or '+25%', got {value!r}")
    if value < -100:
        raise SpecError(f"{where}: spend cannot fall by more than 100%, got {value:g}%")
    return float(value)


@dataclass(frozen=True)
class Scenario:
    """A named change of the current plan: percent change of spend per channel.

    ``changes`` maps channel names (or ``'default'``, for every channel not named) to
    percent changes: ``{'tv': -20, 'search': '+30%'}``. Unnamed channels keep their
    spend unless ``'default'`` says otherwise.
    """

    name: str
    changes: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not str(self.name).strip():
            raise SpecError("a scenario needs a non-empty name")
        if not isinstance(self.changes, Mapping):
            raise SpecError(f"scenario {self.name!r}: changes must map channels to percent "
                            f"changes, got {self.changes!r}")
        clean = {str(k): _pct(f"scenario {self.name!r}, channel {k!r}", v)
                 for k, v in self.changes.items()}
        object.__setattr__(self, "changes", clean)

    def multipliers(self, channels: Sequence[str]) -> np.ndarray:
        unknown = sorted(set(self.changes) - set(channels) - {"default"})
        if unknown:
            raise SpecError(f"scenario {self.name!r} names unknown channel(s) {unknown}; "
                            f"expected names from {list(channels)} or 'default'")
        default = self.changes.get("default", 0.0)
        return np.array([1 + self.changes.get(c, default) / 100 for c in channels])


def load_scenarios(path: str | Path) -> tuple[list[Scenario], dict[str, Any]]:
    """Read scenarios from YAML (or JSON).

    Either a mapping of scenario names to ``{channel: percent change}``, or a mapping
    with a ``scenarios`` key and optional ``n_periods``, ``gap`` and ``pattern``::

        n_periods: 13
        scenarios:
          aggressive:    {default: +30%}
          conservative:  {default: -15%}
          digital-first: {tv: -30%, radio: -30%, search: +40%, social: +40%}

    Returns the scenarios and the options found (``n_periods``, ``gap``, ``pattern``).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SpecError(f"scenario file '{path}' does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError(f"scenario file '{path}' could not be parsed: {exc}") from None
    if not isinstance(doc, dict):
        raise SpecError(f"scenario file '{path}' must hold a mapping of scenario names to "
                        "{channel: percent change}")
    options = {k: doc[k] for k in ("n_periods", "gap", "pattern") if k in doc}
    table = doc.get("scenarios", None if options else doc)
    if not isinstance(table, dict) or not table:
        raise SpecError(f"scenario file '{path}': 'scenarios' must be a non-empty mapping of "
                        "names to {channel: percent change}")
    out = []
    for name, changes in table.items():
        if not isinstance(changes, dict):
            raise SpecError(f"scenario {name!r} in '{path}' must map channels to percent "
                            f"changes, got {changes!r}")
        out.append(Scenario(str(name), changes))
    return out, options


def compare_scenarios(fit: Fit | AveragedFit,
                      scenarios: Sequence[Scenario] | Mapping[str, Mapping[str, Any]],
                      *, n_periods: int, gap: int = 0,
                      pattern: str | Sequence[float] | np.ndarray = "flat",
                      hdi_prob: float = 0.94) -> pd.DataFrame:
    """Scenarios side by side, each against the current plan (historical rate).

    Returns one row per scenario, the first being ``current``: ``spend``,
    ``spend_change_pct``, incremental ``sales`` (mean and HDI), ``sales_change`` (mean
    and HDI of the per-draw difference to current), ``sales_change_pct``, ``roi``,
    ``incremental_roi`` (sales change per unit of spend change), ``prob_better``
    (posterior probability of more sales than current) and the spend per channel
    (``spend:<channel>``). All posterior draws are used.
    """
    if isinstance(scenarios, Mapping):
        scenarios = [Scenario(str(k), v) for k, v in scenarios.items()]
    scenarios = list(scenarios)
    names = [s.name for s in scenarios]
    if "current" in names or len(set(names)) != len(names):
        raise SpecError(f"scenario names must be unique and not 'current', got {names}")
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=None)
    ref = planner.reference
    base = planner.cells(planner.spend_per_period(ref)).sum((1, 2))
    low, high = hdi_columns(hdi_prob)
    rows = {}
    for s in [Scenario("current"), *scenarios]:
        x = ref * s.multipliers(planner.channels)[None, :]
        sales = planner.cells(planner.spend_per_period(x)).sum((1, 2))
        st, dt = describe(sales, hdi_prob), describe(sales - base, hdi_prob)
        row = {"spend": x.sum(), "spend_change_pct": 100 * (x.sum() / ref.sum() - 1),
               "sales": float(st["mean"]), f"sales_{low}": float(st[low]),
               f"sales_{high}": float(st[high]), "sales_change": float(dt["mean"]),
               f"sales_change_{low}": float(dt[low]), f"sales_change_{high}": float(dt[high]),
               "sales_change_pct": float(100 * ratio(dt["mean"], base.mean())),
               "roi": float(ratio(sales.mean(), x.sum())),
               "incremental_roi": float(ratio(dt["mean"], x.sum() - ref.sum())),
               "prob_better": float((sales > base).mean()) if s.name != "current" else np.nan}
        row.update({f"spend:{c}": v for c, v in zip(planner.channels, x.sum(0), strict=True)})
        rows[s.name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "scenario"
    return out
