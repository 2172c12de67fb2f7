"""Structure-search pilots with and without a tree-depth cap: seconds for the nine
candidates and their PSIS-LOO ranking (session 23; the cap became ``Pilot.max_tree_depth``).

    .venv/bin/python benchmarks/experiments/pilot_depth.py example
    .venv/bin/python benchmarks/experiments/pilot_depth.py delayed:hill:0
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import bayesmmm as bm
from bayesmmm.analysis._auto import AUTO_ADSTOCKS, AUTO_SATURATIONS, _compare, _score
from bayesmmm.model import StructureSearch

VARIANTS = {"as before": {"chains": 2, "warmup": 300, "draws": 200, "max_tree_depth": 10},
            "depth <= 6": {"chains": 2, "warmup": 300, "draws": 200, "max_tree_depth": 6},
            "depth <= 6, shorter": {"chains": 2, "warmup": 150, "draws": 150,
                                    "max_tree_depth": 6}}


def main(which: str) -> None:
    if which == "example":
        data, spec = bm.example_data(), bm.example_spec()
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import form_matrix

        adstock, saturation, seed = which.split(":")
        sim = form_matrix.simulate_cell(adstock, saturation, int(seed))
        kw = {k: v for k, v in sim.spec_kwargs.items() if k not in ("adstock", "saturation")}
        data, spec = sim.data, bm.ModelSpec(**kw)
    search = StructureSearch(data, spec, AUTO_ADSTOCKS, AUTO_SATURATIONS)
    for options in VARIANTS.values():  # compile each program once, untimed
        search.fit(AUTO_ADSTOCKS[0], AUTO_SATURATIONS[0], seed=99, **options)
    for name, options in VARIANTS.items():
        started, idatas = time.perf_counter(), {}
        for a in AUTO_ADSTOCKS:
            for s in AUTO_SATURATIONS:
                idatas[f"{a}+{s}"] = _score(search.fit(a, s, seed=0, **options))[2]
        seconds = time.perf_counter() - started
        print(f"{name}: {seconds:.1f} s")
        print(_compare(idatas)[["elpd_loo", "elpd_diff", "dse", "weight"]].round(2)
              .to_string())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "example")
