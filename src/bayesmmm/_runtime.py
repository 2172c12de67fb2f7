"""Process-wide JAX set-up, done on the first fit or by an explicit :func:`configure`.

Importing bayesmmm changes nothing in the process: no environment variable, no JAX
setting. The first fit (or simulation, or fit file loaded) calls :func:`configure`, which

* asks JAX for several host CPU devices (``jax_num_cpu_devices``), because NUTS chains
  run one per XLA device with ``pmap``; XLA's CPU backend shows one device unless told
  otherwise (virtual devices share the real cores, one thread each). JAX reads this when
  its backend starts, so it only takes effect if no JAX computation ran before: call
  ``bm.configure()`` first in a session that uses JAX before fitting (too late, it
  warns). A user's own ``XLA_FLAGS=--xla_force_host_platform_device_count`` or
  ``jax_num_cpu_devices`` wins.
* turns on JAX's persistent compilation cache, so a second fit of the same shapes skips
  XLA compilation. ``BAYESMMM_CACHE_DIR`` moves it; ``BAYESMMM_CACHE_DIR=off`` disables it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

__all__ = ["cache_dir", "configure", "default_host_devices", "is_configured",
           "release_compiled"]

_DEFAULT_HOST_DEVICES = 8
_state: dict[str, bool] = {"done": False}


def cache_dir() -> Path | None:
    """Where compiled XLA programs are kept (None when disabled)."""
    value = os.environ.get("BAYESMMM_CACHE_DIR")
    if value == "off":
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bayesmmm" / "jax"


def default_host_devices() -> int:
    """Host CPU devices the first fit asks for: ``BAYESMMM_HOST_DEVICES``, else
    ``max(8, cores)``."""
    return int(os.environ.get("BAYESMMM_HOST_DEVICES",
                              max(_DEFAULT_HOST_DEVICES, os.cpu_count() or 1)))


def _set_host_devices(n: int | None) -> None:
    import jax
    from jax._src import xla_bridge

    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return  # the user chose
    if int(getattr(jax.config, "jax_num_cpu_devices", -1)) > 0 and n is None:
        return  # the user chose through JAX
    if n is None:
        n = default_host_devices()
    if xla_bridge.backends_are_initialized():
        _warn_late(n)  # too late: JAX already runs with what it has
        return
    jax.config.update("jax_num_cpu_devices", n)


def _warn_late(wanted: int) -> None:
    """Say so when JAX started on the CPU before BayesMMM could ask for host devices and
    has fewer: the chains then share them. The example's default fit (4 chains, 2 cores)
    took 6.3-9.5 s on one device against 3.2-3.6 s on eight (docs/benchmarks.md,
    session 28)."""
    import jax

    have = jax.local_device_count()
    if jax.default_backend() != "cpu" or have >= wanted or (os.cpu_count() or 1) < 2:
        return
    warnings.warn(
        f"JAX was already running when BayesMMM set it up, so a fit's chains share "
        f"{have} CPU device(s) instead of spreading over {wanted}, which is slower (the "
        "example's fit took twice as long on two cores). Call bayesmmm.configure() before "
        "any other JAX work in this process, or start Python "
        f"with XLA_FLAGS=--xla_force_host_platform_device_count={wanted}.",
        RuntimeWarning, stacklevel=4)


def _enable_compilation_cache(path: Path | None) -> None:
    import jax

    if path is None:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home must not stop a fit; it only loses the cache
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def configure(host_devices: int | None = None, cache: str | Path | None = None, *,
              force: bool = False) -> None:
    """Set JAX up for BayesMMM: host CPU devices and the compilation cache.

    Called by the first fit; call it yourself, before any other JAX work, to choose.

    Parameters
    ----------
    host_devices : int, optional
        Host CPU devices for parallel chains (default ``BAYESMMM_HOST_DEVICES`` or
        ``max(8, cores)``). Only effective before JAX's backend starts.
    cache : str or Path, optional
        Folder of the compilation cache (default :func:`cache_dir`); ``"off"`` disables it.
    force : bool
        Apply again even if already configured (e.g. to move the cache).
    """
    if _state["done"] and not force:
        return
    _set_host_devices(host_devices)
    path = cache_dir() if cache is None else None if cache == "off" else Path(cache)
    _enable_compilation_cache(path)
    _state["done"] = True


def is_configured() -> bool:
    return _state["done"]


#: Share of the kernel's limit on memory maps (``vm.max_map_count``) at which compiled
#: programs are released. Every fit loads its compiled XLA programs anew (about 1,250
#: maps on the example) and JAX keeps them for the life of the process, so a process
#: that fits many models (a service worker, a benchmark loop, a structure search) would
#: reach the limit after ~50 fits and fail with "LLVM compilation error: Cannot allocate
#: memory". Releasing them costs the next fit a reload from the persistent cache.
MAPS_RELEASE_SHARE = 0.5


def _map_usage() -> tuple[int, int] | None:
    try:
        with open("/proc/self/maps", "rb") as fh:
            used = sum(1 for _ in fh)
        with open("/proc/sys/vm/max_map_count") as fh:
            limit = int(fh.read().strip())
    except (OSError, ValueError):  # not Linux: no such limit to guard
        return None
    return used, limit


def release_compiled(force: bool = False) -> bool:
    """Drop JAX's in-memory compiled programs when the process nears the memory-map
    limit (or always, with ``force``); True when released. Called after every fit."""
    usage = _map_usage()
    if not force and (usage is None or usage[0] < MAPS_RELEASE_SHARE * usage[1]):
        return False
    import jax

    jax.clear_caches()
    return True
