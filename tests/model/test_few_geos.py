"""Panels of few geos share the curves' shapes and the controls by default
(``geo_shared="auto"``): a spread across two or three geos is its prior's, and pooling it
gave the sampler a funnel (``growing_business``: 560 divergent draws, r_hat 1.12)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from numpyro import handlers

import bayesmmm as bm
from bayesmmm.model import FEW_GEOS, ModelStructure, Site, make_design, make_scalers, model_data
from bayesmmm.model._model import model
from tests.report._tables import PANEL_KW, panel_table


def _structure(geos: tuple[str, ...], **spec_changes):  # type: ignore[no-untyped-def]
    spec = bm.ModelSpec(**PANEL_KW, **spec_changes)
    data = model_data(panel_table(geos=geos), spec)
    structure = ModelStructure.build(spec, data)
    return structure, make_design(spec, data, make_scalers(data), structure=structure)


def _trace(structure: ModelStructure, design, seed: int = 0):  # type: ignore[no-untyped-def]
    """A prior draw of every site (the sampler's flat sites held at 0)."""
    flat = {"_level": jnp.zeros(structure.geo_shape),
            "_gamma_control_std": jnp.zeros(len(structure.controls))}
    proper = handlers.substitute(handlers.seed(model, rng_seed=seed), data=flat)
    return handlers.trace(proper).get_trace(structure, design._replace(y=None))


def _sites(structure: ModelStructure, design) -> set[str]:  # type: ignore[no-untyped-def]
    return set(_trace(structure, design))


def test_few_geos_share_shapes_and_controls_and_pool_each_geos_beta() -> None:
    few = tuple(f"g{i}" for i in range(FEW_GEOS))
    structure, design = _structure(few)
    assert structure.geo_shared == ("adstock_alpha", "saturation_lam", Site.GAMMA_CONTROL)
    assert structure.pooled == ((Site.BETA, 2),)
    sites = _sites(structure, design)
    assert Site.geo(Site.BETA) in sites and Site.spread(Site.BETA) in sites
    for name in ("adstock_alpha", "saturation_lam", Site.GAMMA_CONTROL):
        assert Site.geo(name) not in sites and Site.spread(name) not in sites
    # one control effect for every geo: the component is the same function of the control
    assert _trace(structure, design)[Site.GAMMA_CONTROL]["value"].shape == (1,)


def test_more_geos_or_an_explicit_list_pool_as_asked() -> None:
    many = tuple(f"g{i}" for i in range(FEW_GEOS + 1))
    structure, _ = _structure(many)
    assert structure.geo_shared == ()
    assert {n for n, _ in structure.pooled} == {"adstock_alpha", "saturation_lam", Site.BETA,
                                                Site.GAMMA_CONTROL}
    pooled, _ = _structure(("north", "south"), geo_shared=[])
    assert {n for n, _ in pooled.pooled} == {n for n, _ in structure.pooled}
    controls, design = _structure(many, geo_shared=[Site.GAMMA_CONTROL])
    assert Site.GAMMA_CONTROL not in {n for n, _ in controls.pooled}
    assert Site.geo(Site.GAMMA_CONTROL) not in _sites(controls, design)
    # "auto" survives the spec's round trip and a change of forms
    spec = bm.ModelSpec(**PANEL_KW)
    assert bm.ModelSpec.from_dict(spec.to_dict()).geo_shared == "auto"
    assert spec.with_forms("delayed", "hill").geo_shared == "auto"
    kept = spec.replace(geo_shared=["adstock_alpha", Site.GAMMA_CONTROL])
    assert kept.with_forms("delayed", "hill").geo_shared == ("adstock_alpha", Site.GAMMA_CONTROL)


def test_national_data_are_unchanged_by_the_rule() -> None:
    """One geo: nothing is pooled either way, so draws do not depend on geo_shared."""
    spec = bm.example_spec()
    data = model_data(bm.example_data(), spec)
    structure = ModelStructure.build(spec, data)
    assert structure.pooled == ()
    design = make_design(spec, data, make_scalers(data), structure=structure)
    a = _trace(structure, design)
    b = _trace(ModelStructure.build(spec.replace(geo_shared=[]), data), design)
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]["value"]), np.asarray(b[k]["value"]))


@pytest.mark.slow  # 4 x 1000 x 1000 on 131 weeks x 2 geos x 6 channels: 1-3 minutes
def test_growing_business_converges_at_the_benchmarks_settings() -> None:
    """The two-geo preset with its mixed true forms, every default but the benchmark's
    target acceptance (0.9, as ``bayesmmm bench``): no divergence, r_hat <= 1.01, every
    true ROI inside its 94% interval. Pooled shapes and controls: 560 divergent draws,
    r_hat 1.12; at target acceptance 0.8, 1 divergent draw of 4,000 (docs/benchmarks.md)."""
    from bayesmmm.synth import preset, simulate

    sim = simulate(preset("growing_business"), seed=0)
    fitted = bm.fit(sim.data, bm.ModelSpec(**sim.spec_kwargs), target_accept=0.9,
                    progress=False)
    assert int(fitted.sample_stats["diverging"].sum()) == 0
    assert float(fitted.summary()["r_hat"].max()) <= 1.01
    roi = fitted.roi()
    true = np.array([sim.truth["roi"][c] for c in roi.index])
    assert np.all((roi["hdi_3%"].to_numpy() <= true) & (true <= roi["hdi_97%"].to_numpy()))
