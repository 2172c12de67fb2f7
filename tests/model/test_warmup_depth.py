"""A national model's warm-up (of SHALLOW_WARMUP_MIN iterations or more) stops its trees
at NATIONAL_WARMUP_DEPTH; its draws, a shorter warm-up and a panel's whole fit keep
max_tree_depth."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

import bayesmmm as bm
from bayesmmm.model._sampler import NutsProgram
from tests.model.test_centring import _panel

# a ridge no diagonal mass matrix straightens: long trees in every draw (numpy: a jnp
# array built at import would start JAX before the first fit sets it up; tests/conftest.py)
RIDGE = np.array([[1.0, 0.999], [0.999, 1.0]], np.float32)


def _ridge() -> None:
    numpyro.sample("x", dist.MultivariateNormal(jnp.zeros(2), jnp.asarray(RIDGE)))


def test_the_warmup_depth_caps_the_warmups_trees_and_not_the_draws() -> None:
    program = NutsProgram(_ridge, chains=1, warmup=60, target_accept=0.8,
                          warmup_tree_depth=3)
    steps: list[tuple[int, np.ndarray]] = []
    run = program.chunks.run

    def recording(state: Any, args: Any, n: int) -> Any:
        state, buf = run(state, args, n)
        steps.append((n, np.asarray(buf["num_steps"])[:, :n]))
        return state, buf

    program.chunks.run = recording  # type: ignore[method-assign]
    out = program.run((), seed=0, draws=60)
    warm = np.concatenate([s for _, s in steps[:2]], axis=1)  # chunks of 50 and 10
    assert sum(n for n, _ in steps[:2]) == 60 and warm.max() <= 2 ** 3 - 1
    assert out.stats["num_steps"].max() > 2 ** 3 - 1  # the draws go deeper


def test_national_fits_cap_the_warmup_and_panels_do_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import bayesmmm.model._fit as fit_module
    from bayesmmm.model import make_design, make_scalers, model_data
    from bayesmmm.model._structure import ModelStructure

    seen: list[object] = []
    monkeypatch.setattr(fit_module, "run_nuts",
                        lambda *a, **k: seen.append(k["warmup_tree_depth"]))
    spec = bm.example_spec()
    data = model_data(bm.example_data(), spec)
    national = ModelStructure.build(spec, data)
    design = make_design(spec, data, make_scalers(data), structure=national)
    _, panel, panel_design = _panel()
    fit_module._run(national, design, bm.SamplerOptions(), None)
    fit_module._run(national, design, bm.SamplerOptions(max_tree_depth=5), None)
    fit_module._run(national, design, bm.SamplerOptions(warmup=499), None)
    fit_module._run(national, design, bm.SamplerOptions(warmup=500), None)
    fit_module._run(panel, panel_design, bm.SamplerOptions(), None)
    assert seen == [fit_module.NATIONAL_WARMUP_DEPTH, 5, None, 8, None]
    assert fit_module.NATIONAL_WARMUP_DEPTH == 8
