"""Recovery on simulated data: every registered form, the geo hierarchy, lift tests.

Data come from :mod:`bayesmmm.synth` (its own implementation of each form through the
registries, truth in the model's scaled units); the model must put the truth inside
its 94% HDIs. Small sampler settings: a miss here is a real signal, not noise, because
seeds are fixed and the tolerance allows the chance misses a calibrated interval has.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.analysis import hdi
from bayesmmm.model import LiftTest, media_contributions
from bayesmmm.synth import ChannelConfig, ControlConfig, SimulationConfig, simulate
from bayesmmm.transforms import ADSTOCKS, SATURATIONS, lag_stack

#: Statistical checks of some minutes in all: CI's statistical stage (``pytest -m slow``).
pytestmark = pytest.mark.slow

FORMS = [("adstock", n) for n in ADSTOCKS.names()] + \
    [("saturation", n) for n in SATURATIONS.names() if n != "logistic"]


def inside(summary, name: str, true: float) -> bool:  # type: ignore[no-untyped-def]
    return bool(summary.loc[name, "hdi_3%"] <= true <= summary.loc[name, "hdi_97%"])


@pytest.mark.parametrize(("kind", "form"), FORMS, ids=[f"{k}-{f}" for k, f in FORMS])
def test_each_form_recovers_its_parameters(kind: str, form: str) -> None:
    """A flighted test channel on the form (the other stays classic): its parameters
    and its ROI fall inside the 94% HDIs (at most one parameter misses)."""
    ad, sat = (form, "logistic") if kind == "adstock" else ("geometric", form)
    cfg = SimulationConfig(
        channels=(ChannelConfig("test", pattern="flighted", adstock=ad, saturation=sat,
                                share=0.15, roi=2.0),
                  ChannelConfig("other", pattern="always_on", share=0.08, roi=1.0)),
        controls=(ControlConfig("promo", "promo", 1.0, rate=0.12),), n_weeks=156, name="t")
    sim = simulate(cfg, seed=0)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    assert spec.adstock_forms["test"] == ad and spec.saturation_forms["test"] == sat
    f = bm.fit(sim.data, spec, chains=2, warmup=300, draws=300, seed=0, progress=False)
    assert int(f.sample_stats["diverging"].sum()) == 0
    s = f.summary()
    params = {k: v for k, v in sim.truth["parameters"].items()
              if k.endswith("[test]") and k.startswith(("adstock_", "saturation_"))}
    assert len(params) == len(ADSTOCKS.get(ad).params) + len(SATURATIONS.get(sat).params) + 1
    misses = [k for k, v in params.items() if not inside(s, k, v)]
    assert len(misses) <= 1, misses
    roi = f.roi().loc["test"]
    assert roi["hdi_3%"] <= sim.truth["roi"]["test"] <= roi["hdi_97%"]


def test_geo_hierarchy_recovers_geo_level_parameters() -> None:
    """Five geos of different sizes, channel parameters spread around shared means: the
    geo-level values of every pooled channel parameter are inside the 94% HDIs."""
    cfg = SimulationConfig(
        channels=(ChannelConfig("tv", pattern="flighted", share=0.12, roi=2.0),
                  ChannelConfig("search", pattern="always_on", share=0.08, roi=3.0),
                  ChannelConfig("social", pattern="bursts", share=0.06, roi=1.2)),
        controls=(ControlConfig("promo", "promo", 1.0, rate=0.12),), n_weeks=104, n_geos=5,
        name="t")
    sim = simulate(cfg, seed=0)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    f = bm.fit(sim.data, spec, chains=2, warmup=300, draws=300, seed=0, progress=False)
    assert int(f.sample_stats["diverging"].sum()) == 0
    s = f.summary()
    checks = {k: inside(s, k, v) for k, v in sim.truth["parameters"].items()
              if "_geo[" in k and k.startswith(("adstock_", "saturation_"))}
    assert len(checks) == 3 * 3 * 5
    coverage = np.mean(list(checks.values()))
    assert coverage >= 0.9, [k for k, ok in checks.items() if not ok]
    by_panel = f.roi(level="panel")
    assert len(by_panel) == 15 and set(by_panel["panel"]) == set(f.data.panels)
    total = f.roi()
    for c in spec.channel_columns:
        assert total.loc[c, "hdi_3%"] <= sim.truth["roi"][c] <= total.loc[c, "hdi_97%"]


def _true_lift(sim, spec: bm.ModelSpec, test: LiftTest) -> float:  # type: ignore[no-untyped-def]
    """The experiment's effect under the true parameters (the model's own transforms)."""
    p = sim.truth["parameters"]
    params = {name: jnp.asarray([p[f"{name}[{c}]"] for c in spec.channels_with(name)])
              for name in spec.channel_parameters()}
    dates = np.asarray(sim.data["date"])
    media = sim.data[list(spec.channel_columns)].to_numpy(float)
    scale = media.max(axis=0)
    moved = media.copy()
    rows = (dates >= test.start) & (dates <= test.end)
    c = spec.channel_columns.index(test.channel)
    moved[rows, c] += test.spend_change / rows.sum()

    def total(x: np.ndarray) -> float:
        lagged = lag_stack(jnp.asarray(x / scale, jnp.float32)[None], spec.adstock_max_lag)
        return float(media_contributions(spec, lagged, params)[0, :, c].sum())

    return (total(moved) - total(media)) * sim.truth["y_scale"]


def test_a_correct_lift_test_narrows_roi_and_moves_it_to_the_truth() -> None:
    cfg = SimulationConfig(
        channels=(ChannelConfig("tv", pattern="flighted", share=0.12, roi=2.0),
                  ChannelConfig("search", pattern="always_on", share=0.10, roi=3.0)),
        controls=(ControlConfig("promo", "promo", 1.0, rate=0.12),), n_weeks=104, name="t")
    sim = simulate(cfg, seed=1)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    spend = float(sim.data["search"].iloc[40:48].sum())
    test = LiftTest("search", str(sim.data["date"].iloc[40]), str(sim.data["date"].iloc[47]),
                    spend_change=0.5 * spend, lift=0.0, lift_se=1.0)
    lift = _true_lift(sim, spec, test)
    assert lift > 0
    calibrated = spec.replace(lift_tests=[{**test.to_dict(), "lift": lift,
                                           "lift_se": 0.1 * lift}])
    kw = {"chains": 2, "warmup": 300, "draws": 300, "seed": 0, "progress": False}
    before = bm.fit(sim.data, spec, **kw)
    after = bm.fit(sim.data, calibrated, **kw)
    true_roi = sim.truth["roi"]["search"]

    def roi_draws(f: bm.Fit) -> np.ndarray:
        from bayesmmm.analysis import channel_draws

        return channel_draws(f)[:, :, 1].sum(axis=1) / sim.data["search"].sum()

    b, a = roi_draws(before), roi_draws(after)
    width_b = np.diff(hdi(b, 0.94)).item()
    width_a = np.diff(hdi(a, 0.94)).item()
    assert width_a < 0.8 * width_b, (width_a, width_b)
    assert abs(a.mean() - true_roi) < abs(b.mean() - true_roi) + 0.02 * true_roi
    low, high = hdi(a, 0.94)
    assert low <= true_roi <= high
