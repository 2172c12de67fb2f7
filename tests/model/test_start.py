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
from tests.model.test_centring import _panel

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


def test_init_advi_starts_nuts_from_the_optimisation_of_the_fits_own_basis(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``_run`` hands NUTS the start ADVI found, on the same model arguments NUTS starts
    in (a panel's non-centred basis when centring is "auto"), and counts its seconds in
    the warm-up; the default starts NumPyro's way and an approximate fit ignores init."""
    import bayesmmm.model._fit as fit_module
    from bayesmmm.model import make_design, make_scalers, model_data
    from bayesmmm.model._sampler import SamplerResult
    from bayesmmm.model._structure import ModelStructure

    spec = bm.example_spec()
    data = model_data(bm.example_data(), spec)
    structure = ModelStructure.build(spec, data)
    design = make_design(spec, data, make_scalers(data), structure=structure)
    found = Start({"x": np.zeros((4, 1))}, {"x": np.ones(1)}, {"method": "advi",
                                                              "seconds": 2.5})
    asked: list[dict[str, object]] = []

    def fake_start(fn, args, **kw):  # type: ignore[no-untyped-def]
        asked.append({"args": args, **kw})
        return found

    def fake_nuts(fn, args, **kw):  # type: ignore[no-untyped-def]
        asked.append({"args": args, **kw})
        return SamplerResult({}, {}, 1.0, 1.0)

    monkeypatch.setattr(fit_module, "advi_start", fake_start)
    monkeypatch.setattr(fit_module, "run_nuts", fake_nuts)
    monkeypatch.setattr(fit_module, "run_advi", lambda *a, **k: "approximate")
    o = bm.SamplerOptions(init="advi", approx_steps=700, chains=4, seed=3)
    raw = fit_module._run(structure, design, o, None)
    start, nuts = asked
    assert start["steps"] == 700 and start["chains"] == 4 and start["seed"] == 3
    assert start["args"][0] is nuts["args"][0] and nuts["start"] is found
    assert raw.seconds_warmup == 3.5 and raw.start == found.info
    asked.clear()
    raw = fit_module._run(structure, design, bm.SamplerOptions(), None)
    assert len(asked) == 1 and asked[0]["start"] is None and raw.start == {}
    assert fit_module._run(structure, design, bm.SamplerOptions(method="advi", init="advi"),
                           None) == "approximate" and not asked[1:]
    # a panel at the default centring: ADVI runs in the basis the warm-up starts in
    asked.clear()
    _, panel, panel_design = _panel()
    fit_module._run(panel, panel_design, bm.SamplerOptions(init="advi"), None)
    start, nuts = asked
    assert nuts["rebase"] is not None and start["args"][0] is nuts["args"][0]
    assert nuts["args"][0] is not panel_design  # moved to the non-centred start


@pytest.mark.slow
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
