"""The package's structure holds: layers import only the layers above them, no module
imports itself back through others, importing the package changes nothing in the
process, and no site name is spelled outside the model's structure."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "bayesmmm"

#: What each part may import from the package (besides itself and the base modules:
#: errors, priors, _files, _runtime, _numbers). DESIGN.md's layers, top to bottom.
BASE = {"errors", "priors", "options", "_files", "_runtime", "_numbers", "_providers"}
ALLOWED = {
    "data": set(),
    "transforms": set(),
    "model": {"data", "transforms"},
    "analysis": {"data", "transforms", "model"},
    "synth": {"data", "transforms", "model"},
    "datasets": {"model"},
    "optimize": {"data", "transforms", "model", "analysis"},
    "bench": {"data", "transforms", "model", "analysis", "synth", "optimize", "report"},
    "report": {"data", "transforms", "model", "analysis", "optimize", "synth"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every bayesmmm module ``path`` imports, at any depth of the file (function-level
    and TYPE_CHECKING imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("bayesmmm")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            if base.startswith("bayesmmm"):
                out.add(base)
                out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SRC.rglob("*.py") if "migrations" not in p.parts}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            # a package's __init__ re-exporting its own modules is not a loop
            if v == w.rsplit(".", 1)[0] or w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circles() -> None:
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_layers_import_only_the_layers_above(part: str) -> None:
    bad = {}
    for name, deps in _graph().items():
        if name.split(".")[1:2] != [part]:
            continue
        for dep in deps:
            top = dep.split(".")[1] if dep.count(".") else ""
            if top and top != part and top not in ALLOWED[part] | BASE:
                bad.setdefault(name, []).append(dep)
    assert bad == {}


def test_import_has_no_side_effects() -> None:
    """``import bayesmmm`` sets no environment variable and no JAX option; the first fit's
    configure() does (host devices, the compilation cache)."""
    code = (
        "import os, json, jax\n"
        "before = dict(os.environ)\n"
        "import bayesmmm as bm\n"
        "after = dict(os.environ)\n"
        "out = {'env': sorted(k for k in after if before.get(k) != after[k]),\n"
        "       'devices': jax.config.jax_num_cpu_devices,\n"
        "       'cache': jax.config.jax_compilation_cache_dir}\n"
        "bm.configure(host_devices=3, cache='off')\n"
        "out['configured'] = [jax.local_device_count(), bm._runtime.is_configured()]\n"
        "print(json.dumps(out))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"env": [], "devices": -1, "cache": None, "configured": [3, True]}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing to spread over")
def test_jax_started_before_the_set_up_is_said() -> None:
    """JAX work before the first fit leaves the chains on one CPU device (about twice as
    slow on two cores): configure() says so and how to avoid it, and only then."""
    code = (
        "import json, sys, warnings\n"
        "import bayesmmm as bm\n"
        "if sys.argv[1] == 'late':\n"
        "    import jax.numpy as jnp; jnp.zeros(1).block_until_ready()\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    bm.configure(cache='off')\n"
        "import jax\n"
        "print(json.dumps([jax.local_device_count(), [str(w.message) for w in caught]]))\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES", "BAYESMMM_HOST_DEVICES")}
    said = {}
    for when in ("late", "first"):
        proc = subprocess.run([sys.executable, "-c", code, when], capture_output=True,
                              text=True, env=env, check=True)
        said[when] = json.loads(proc.stdout.strip().splitlines()[-1])
    wanted = max(8, os.cpu_count() or 1)
    assert said["first"] == [wanted, []]
    devices, messages = said["late"]
    assert devices == 1 and len(messages) == 1
    assert f"share 1 CPU device(s) instead of spreading over {wanted}" in messages[0]
    assert "bayesmmm.configure() before any other JAX work" in messages[0]


def _site_names() -> set[str]:
    from bayesmmm.transforms import ADSTOCKS, SATURATIONS

    forms = {f"adstock_{p}" for n in ADSTOCKS for p in ADSTOCKS.get(n).params}
    forms |= {f"saturation_{p}" for n in SATURATIONS for p in SATURATIONS.get(n).params}
    return forms | {"saturation_beta", "gamma_control", "gamma_fourier", "y_sigma", "_level",
                    "_gamma_control_std", "logistic_pair", "intercept"}


#: Modules that must take site names from bayesmmm.model._structure (or trend entries).
SPELLERS = ["model/_model.py", "model/_centring.py", "model/_mean.py", "model/_fit.py",
            "analysis/_checks", "analysis/_auto.py", "analysis/_verdict.py",
            "model/_result.py", "model/_sampler", "analysis/_draws.py",
            "analysis/_diagnostics.py", "analysis/_compare.py", "analysis/_predict.py",
            "optimize/_planner.py", "optimize/_curves.py"]


@pytest.mark.parametrize("where", SPELLERS)
def test_site_names_are_spelled_only_by_the_structure(where: str) -> None:
    target = SRC / where
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    sites = _site_names()
    found = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exported = {id(c) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    and any(getattr(t, "id", "") == "__all__" for t in node.targets)
                    for c in ast.walk(node.value)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in exported and (
                        node.value in sites or node.value.endswith(("_geo", "_z"))
                        or node.value.removesuffix("_sigma") in sites):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == []


def test_a_long_lived_process_releases_compiled_programs() -> None:
    """Fits in one process load compiled programs that JAX keeps: past half the kernel's
    memory-map limit they are released, so a service worker or a benchmark loop never
    fails with 'Cannot allocate memory' after many fits."""
    from bayesmmm import _runtime

    usage = _runtime._map_usage()
    if usage is None:
        pytest.skip("no /proc memory-map accounting on this system")
    assert not _runtime.release_compiled()  # far below the limit in a test process
    old = _runtime.MAPS_RELEASE_SHARE
    try:
        _runtime.MAPS_RELEASE_SHARE = 0.0
        assert _runtime.release_compiled()
    finally:
        _runtime.MAPS_RELEASE_SHARE = old
