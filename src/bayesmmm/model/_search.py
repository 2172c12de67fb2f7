"""Fitting many candidate structures with one compiled program.

A structure search (``forms="auto"``) fits the same data with every adstock x
saturation candidate. Compiled one by one, each candidate costs its own XLA
compilation (seconds each, most of a small model's fit). :class:`StructureSearch`
compiles one *switch* model instead (:meth:`MediaStructure.build_switch`): every
candidate form is in the program, and which one each channel uses is data. The
parameters of the forms not chosen get their prior only, so each fit is exactly its
candidate's model; its :class:`Fit` holds the candidate's spec and only the candidate's
parameters, and every answer works on it as on a fit of that spec.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd

from bayesmmm._runtime import configure as configure_runtime
from bayesmmm._runtime import release_compiled
from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.model._design import make_design, make_scalers
from bayesmmm.model._fit import model_data, warmup_tree_depth
from bayesmmm.model._identify import check_identified
from bayesmmm.model._model import model
from bayesmmm.model._result import Fit
from bayesmmm.model._sampler import NutsProgram
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import ModelStructure, Site
from bayesmmm.options import SamplerOptions
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["StructureSearch"]


class StructureSearch:
    """Fits of ``spec`` on ``data`` under every pair of ``adstocks`` x ``saturations``
    (the same forms on every channel), sharing compiled programs.

    Programs are compiled once per set of sampler settings that shape them (chains,
    warm-up, target acceptance, mass matrix, tree depth): the pilots of a search share
    one, its full fits another.
    """

    def __init__(self, data: MMMData | pd.DataFrame | str, spec: ModelSpec,
                 adstocks: Sequence[str], saturations: Sequence[str]) -> None:
        for name in adstocks:
            ADSTOCKS.get(name)
        for name in saturations:
            SATURATIONS.get(name)
        if not adstocks or not saturations:
            raise SpecError("a structure search needs at least one adstock and one "
                            "saturation candidate")
        configure_runtime()
        self.spec = spec
        self.adstocks, self.saturations = tuple(adstocks), tuple(saturations)
        self.data = model_data(data, spec)
        self.scalers = make_scalers(self.data)
        self.structure = ModelStructure.build(spec, self.data,
                                              candidates=(self.adstocks, self.saturations))
        check_identified(self.structure, self.data)
        self.design = make_design(spec, self.data, self.scalers, structure=self.structure)
        self._programs: dict[tuple[Any, ...], NutsProgram] = {}

    def _select(self, adstock: str, saturation: str) -> dict[str, Any]:
        return {"adstock": jnp.asarray(self.adstocks.index(adstock), jnp.int32),
                "saturation": jnp.asarray(self.saturations.index(saturation), jnp.int32)}

    def _program(self, o: SamplerOptions) -> NutsProgram:
        key = (o.chains, o.warmup, o.target_accept, o.dense_mass, o.max_tree_depth)
        if key not in self._programs:
            self._programs[key] = NutsProgram(
                partial(model, self.structure), chains=o.chains, warmup=o.warmup,
                target_accept=o.target_accept, dense_mass=o.dense_mass,
                max_tree_depth=o.max_tree_depth,
                warmup_tree_depth=warmup_tree_depth(self.structure, o))
        return self._programs[key]

    def fit(self, adstock: str, saturation: str, **options: Any) -> Fit:
        """The candidate's fit with NUTS (``options`` as ``bm.fit``'s). Geo values are
        sampled non-centred whatever ``centring`` says, and chains start uniformly
        whatever ``init`` says (the program is shared by every candidate; the fit's
        options record ``"none"`` and ``"uniform"``)."""
        if adstock not in self.adstocks or saturation not in self.saturations:
            raise SpecError(f"{adstock}+{saturation} is not a candidate of this search "
                            f"({list(self.adstocks)} x {list(self.saturations)})")
        o = replace(SamplerOptions.from_mapping(options), centring="none", init="uniform")
        if o.method != "nuts":
            raise SpecError("a structure search samples with NUTS: method='nuts'")
        started = time.perf_counter()
        deadline = None if o.time_limit is None else started + o.time_limit
        design = self.design._replace(select=self._select(adstock, saturation))
        raw = self._program(o).run((design,), seed=o.seed, draws=o.draws, deadline=deadline)
        spec = self.spec.with_forms(adstock, saturation)
        own = ModelStructure.build(spec, self.data)
        others = {n for n in self.structure.media.param_names
                  if n not in own.media.param_names}
        others |= {Site.geo(n) for n in others} | {Site.spread(n) for n in others}
        posterior = {k: np.asarray(v, np.float32) for k, v in raw.samples.items()
                     if k not in others}
        stats = {"diverging": raw.stats["diverging"].astype(bool),
                 "num_steps": raw.stats["num_steps"].astype(np.int32),
                 "energy": raw.stats["energy"].astype(np.float32),
                 "accept_prob": raw.stats["accept_prob"].astype(np.float32)}
        meta = {"sampler": "nuts", "options": o.to_dict(),
                "seconds_total": time.perf_counter() - started,
                "seconds_warmup": raw.seconds_warmup,
                "seconds_sampling": raw.seconds_sampling,
                "stopped_early": raw.stats["diverging"].shape[1] < o.draws,
                "structure_search": [list(self.adstocks), list(self.saturations)]}
        result = Fit(spec=spec, data=self.data, scalers=self.scalers, posterior=posterior,
                     sample_stats=stats, meta=meta)
        result.__dict__["structure"] = own
        release_compiled()
        return result

    def close(self) -> None:
        """Drop the compiled programs (they are also released with the search)."""
        self._programs.clear()
