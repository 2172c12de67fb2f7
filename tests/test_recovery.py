"""Parameter recovery: data simulated with known parameters, fitted, truth inside the HDIs.

Each seed checks, per channel, adstock_alpha, saturation_lam, saturation_beta and the
channel's total contribution against the 94% HDI. With calibrated intervals about 6% of
checks miss by chance; we allow at most 15% over all seeds (observed: 4 of 48 with these
seeds; the social channel, smallest and always-on, accounts for three).
"""

from __future__ import annotations

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.analysis import channel_draws, hdi

from .conftest import three_channel_sim

MAX_MISS_RATE = 0.15


def recovery_checks(seed: int, draws: int) -> list[tuple[str, bool]]:
    sim = three_channel_sim(seed=seed)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    f = bm.fit(sim.data, spec, chains=2, warmup=draws, draws=draws, seed=seed, progress=False)
    assert int(f.sample_stats["diverging"].sum()) <= 2
    s = f.summary()
    checks = []
    for name, true in sim.truth["parameters"].items():
        if name.split("[")[0] in {"adstock_alpha", "saturation_lam", "saturation_beta"}:
            inside = s.loc[name, "hdi_3%"] <= true <= s.loc[name, "hdi_97%"]
            checks.append((f"seed {seed} {name}={true:.3f} "
                           f"[{s.loc[name, 'hdi_3%']:.3f}, {s.loc[name, 'hdi_97%']:.3f}]", inside))
    totals = channel_draws(f).sum(axis=1)
    low, high = hdi(totals, 0.94)
    for c, name in enumerate(spec.channel_columns):
        true = sim.truth["total_contribution"][name]
        checks.append((f"seed {seed} total[{name}]={true:.0f} [{low[c]:.0f}, {high[c]:.0f}]",
                       bool(low[c] <= true <= high[c])))
    return checks


def assert_recovered(seeds: range, draws: int) -> None:
    checks = [c for seed in seeds for c in recovery_checks(seed, draws)]
    misses = [label for label, ok in checks if not ok]
    rate = len(misses) / len(checks)
    assert rate <= MAX_MISS_RATE, f"{len(misses)}/{len(checks)} outside the 94% HDI: {misses}"


def test_recovery_across_seeds() -> None:
    assert_recovered(range(4), draws=400)


@pytest.mark.slow
def test_recovery_many_seeds() -> None:
    """The longer statistical check (run by .ci/run's second stage)."""
    assert_recovered(range(10, 22), draws=1000)


def test_example_recovers_published_truth(example_fit: bm.Fit) -> None:
    """PyMC-Marketing's example: alpha 0.4 / 0.2 and lam 4 / 3 are inside the HDIs."""
    s = example_fit.summary()
    for name, true in {"adstock_alpha[x1]": 0.4, "adstock_alpha[x2]": 0.2,
                       "saturation_lam[x1]": 4.0, "saturation_lam[x2]": 3.0}.items():
        assert s.loc[name, "hdi_3%"] <= true <= s.loc[name, "hdi_97%"], name
    assert np.isfinite(s.values).all()
