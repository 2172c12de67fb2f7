"""init='advi': NUTS starts from an approximation of the posterior (its points and its
scales as the first mass matrix) and still samples the same posterior."""

from __future__ import annotations

import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

import bayesmmm as bm
from bayesmmm.analysis import verdict
from bayesmmm.model._sampler import Start, run_nuts

LOC, SCALE, DIM = 100.0, 0.01, 20


def _narrow(loc: object) -> None:
    numpyro.sample("x", dist.Normal(loc, SCALE).expand([DIM]).to_event(1))


def _run(start: Start | None, chains: int) -> tuple[np.ndarray, np.ndarray]:
    out = run_nuts(_narrow, (LOC,), chains=chains, warmup=0, draws=10, target_accept=0.8,
                   seed=0, start=start)
    return out.samples["x"], out.stats["num_steps"]


@pytest.mark.parametrize("chains", [1, 4])
def test_chains_start_at_the_given_points_with_the_given_scales(chains: int) -> None:
    """Without any warm-up, chains started at the posterior's centre with its scales as
    the mass matrix draw from it at once with short trees; NumPyro's uniform start, with
    an identity matrix, is still far away after the same ten draws."""
    offsets = np.linspace(-1.0, 1.0, chains)[:, None] * SCALE
    start = Start({"x": LOC + offsets + np.zeros((chains, DIM))},
                  {"x": np.full(DIM, SCALE ** 2)})
    x, steps = _run(start, chains)
    assert x.shape == (chains, 10, DIM)
    assert np.abs(x - LOC).max() < 6 * SCALE
    assert steps.mean() < 16  # a unit-scale posterior needs a few leapfrog steps
    plain, _ = _run(None, chains)
    assert np.abs(plain[:, 0] - LOC).min() > 50


def test_a_fit_started_from_advi_records_its_start_and_agrees(example_fit: bm.Fit) -> None:
    started = bm.fit(bm.example_data(), bm.example_spec(), init="advi", approx_steps=500,
                     chains=2, warmup=300, draws=300, seed=1, progress=False)
    assert started.meta["options"]["init"] == "advi"
    info = started.meta["start"]
    assert info["method"] == "advi" and info["steps"] == 500 and info["seconds"] > 0
    assert started.meta["seconds_warmup"] >= info["seconds"]
    # NUTS's draws, not an approximation: nothing on any surface says otherwise
    assert "approximation" not in started.meta
    assert all(c.name != "approximation k-hat" for c in verdict(started).checks)
    assert not started.sample_stats["diverging"].any()
    a, b = started.roi(), example_fit.roi()
    assert ((a["roi"] - b["roi"]).abs() < b["sd"]).all()


def test_init_is_checked() -> None:
    with pytest.raises(bm.SpecError, match="init must be one of"):
        bm.SamplerOptions(init="map")
