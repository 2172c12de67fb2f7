"""Lift tests (experiments) as data: what was changed, and what it was measured to bring."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from bayesmmm.errors import SpecError

__all__ = ["LiftTest", "lift_tests_from"]


@dataclass(frozen=True)
class LiftTest:
    """One experiment on one channel.

    During the periods ``start`` .. ``end`` (inclusive, ``%Y-%m-%d`` dates of the data's
    periods) the channel's spend was changed by ``spend_change`` in total (spread evenly
    over those periods; negative for a hold-out / go-dark test), and the experiment
    measured an incremental target of ``lift`` (total over the test periods and the
    carry-over that follows) with standard error ``lift_se``. The model enters it as an
    extra likelihood term ``lift ~ Normal(model lift, lift_se)``, where the model lift is
    the difference of the channel's contribution with and without the change.

    ``panel`` names the panel cell (e.g. ``"geo_03"`` or ``"brand_a | north"``) in a
    geo model; it must be left empty for a national model.
    """

    channel: str
    start: str
    end: str
    spend_change: float
    lift: float
    lift_se: float
    panel: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = ("channel", "start", "end", "spend_change", "lift", "lift_se", "panel")


def _one(raw: Any, i: int, channels: Sequence[str]) -> LiftTest:
    if isinstance(raw, LiftTest):
        raw = raw.to_dict()
    if not isinstance(raw, Mapping):
        raise SpecError(f"lift test #{i + 1} must be a mapping with {list(_FIELDS[:6])}, "
                        f"got {raw!r}")
    missing = [k for k in _FIELDS[:6] if k not in raw]
    unknown = sorted(set(raw) - set(_FIELDS))
    if missing or unknown:
        raise SpecError(f"lift test #{i + 1}: missing {missing}, unknown {unknown}; expected "
                        f"fields {list(_FIELDS)} (panel optional)")
    where = f"lift test #{i + 1} ({raw['channel']!r})"
    if raw["channel"] not in channels:
        raise SpecError(f"{where}: channel is not one of the channel columns {list(channels)}")
    dates = {}
    for key in ("start", "end"):
        try:
            dates[key] = pd.Timestamp(str(raw[key]))
        except (ValueError, TypeError):
            raise SpecError(f"{where}: {key} {raw[key]!r} is not a date. Fix: use "
                            "'%Y-%m-%d', e.g. '2024-03-04'") from None
    if dates["end"] < dates["start"]:
        raise SpecError(f"{where}: end {raw['end']} is before start {raw['start']}")
    nums = {}
    for key in ("spend_change", "lift", "lift_se"):
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise SpecError(f"{where}: {key} must be a finite number, got {v!r}")
        nums[key] = float(v)
    if nums["lift_se"] <= 0:
        raise SpecError(f"{where}: lift_se must be > 0 (the experiment's standard error), "
                        f"got {nums['lift_se']!r}")
    if nums["spend_change"] == 0:
        raise SpecError(f"{where}: spend_change is 0, so the test says nothing about the "
                        "channel. Fix: give the spend added (or removed, negative)")
    panel = raw.get("panel")
    return LiftTest(str(raw["channel"]), dates["start"].strftime("%Y-%m-%d"),
                    dates["end"].strftime("%Y-%m-%d"), nums["spend_change"], nums["lift"],
                    nums["lift_se"], None if panel is None else str(panel))


def lift_tests_from(value: Any, channels: Sequence[str]) -> tuple[LiftTest, ...]:
    """Validated lift tests from LiftTest objects, dicts, or a DataFrame of rows."""
    if isinstance(value, pd.DataFrame):
        value = value.to_dict("records")
    if value is None:
        return ()
    if isinstance(value, Mapping | str) or not isinstance(value, Sequence):
        raise SpecError(f"lift_tests must be a list of tests, got {value!r}")
    return tuple(_one(raw, i, channels) for i, raw in enumerate(value))
