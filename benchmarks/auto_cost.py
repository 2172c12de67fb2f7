"""What does ``forms="auto"`` cost against one default fit?

Each fit runs in a fresh Python process with a fresh compilation cache (cold), then once
more with that cache (warm), on the bundled example and on 156 weeks simulated with
delayed adstock and Hill saturation. Rows: whole-process wall seconds of one default
fit (classic forms) and of the structure search with its default candidates (9
structures, pilots, up to 3 full fits), both at the same sampler settings; the ratio
is the issue's target (<= 3x). Pairs run back to back, so load on the machine hits both.

    .venv/bin/python benchmarks/auto_cost.py                   # 4 x 1000 x 1000
    .venv/bin/python benchmarks/auto_cost.py --chains 2 --warmup 500 --draws 500
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

CHILD = """
import sys, json, time
t0 = time.perf_counter()
import bayesmmm as bm
sys.path.insert(0, {bench!r})
which, variant, chains, warmup, draws = sys.argv[1:6]
if which == "example":
    data, spec = bm.example_data(), bm.example_spec()
else:
    import form_matrix
    sim = form_matrix.simulate_cell("delayed", "hill", 0)
    kw = dict(sim.spec_kwargs); kw.pop("adstock"); kw.pop("saturation")
    data, spec = sim.data, bm.ModelSpec(**kw)
opts = dict(chains=int(chains), warmup=int(warmup), draws=int(draws), progress=False)
f = bm.fit(data, spec, **opts) if variant == "one" else bm.fit(data, spec, forms="auto", **opts)
roi = f.roi()
print("RESULT " + json.dumps({{"seconds": time.perf_counter() - t0,
                               "weights": getattr(f, "weights", None)}}))
"""


def _run(which: str, variant: str, cache: str, args: argparse.Namespace) -> dict:
    code = CHILD.format(bench=str(Path(__file__).resolve().parent))
    env = {"BAYESMMM_CACHE_DIR": cache, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code, which, variant, str(args.chains),
                          str(args.warmup), str(args.draws)], capture_output=True, text=True,
                         env=env, timeout=args.timeout)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        return {"error": out.stderr[-2000:]}
    return json.loads(line[-1][len("RESULT "):])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="example,delayed_hill")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--out", type=Path, default=RESULTS / "auto_cost.json")
    args = p.parse_args(argv)
    rows = []
    for which in args.datasets.split(","):
        caches = {v: tempfile.mkdtemp(prefix=f"bmm-{v}-") for v in ("one", "auto")}
        for phase in ("cold", "warm"):
            row = {"dataset": which, "cache": phase}
            for variant in ("one", "auto"):
                start = time.perf_counter()
                res = _run(which, variant, caches[variant], args)
                row[variant] = round(res.get("seconds", time.perf_counter() - start), 1)
                if "error" in res:
                    row[f"{variant}_error"] = res["error"][-300:]
                if res.get("weights"):
                    row["weights"] = {k: round(v, 2) for k, v in res["weights"].items()}
            row["ratio"] = round(row["auto"] / row["one"], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"settings": [args.chains, args.warmup, args.draws],
                                    "rows": rows}, indent=1))
    print("| dataset | cache | one fit s | auto s | ratio |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['cache']} | {r['one']} | {r['auto']} | {r['ratio']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
