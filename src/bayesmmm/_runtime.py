"""Process-wide JAX set-up, done once before JAX starts its backend.

* Host CPU devices: NUTS chains run one per XLA device with ``pmap``; XLA's CPU
  backend shows one device unless told otherwise, so we ask for several (virtual
  devices share the real cores, one thread each).
* The persistent compilation cache: a second fit of the same shapes skips XLA
  compilation. ``BAYESMMM_CACHE_DIR`` moves it; ``BAYESMMM_CACHE_DIR=off`` disables it.
"""

from __future__ import annotations

import os
from pathlib import Path

_DEFAULT_HOST_DEVICES = 8


def _set_host_devices() -> None:
    default = max(_DEFAULT_HOST_DEVICES, os.cpu_count() or 1)
    n = int(os.environ.get("BAYESMMM_HOST_DEVICES", default))
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()


def cache_dir() -> Path | None:
    """Where compiled XLA programs are kept (None when disabled)."""
    value = os.environ.get("BAYESMMM_CACHE_DIR")
    if value == "off":
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bayesmmm" / "jax"


def _enable_compilation_cache() -> None:
    import jax

    path = cache_dir()
    if path is None:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home must not stop a fit; it only loses the cache
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def configure() -> None:
    """Idempotent: host devices first (read when the backend starts), then the cache."""
    _set_host_devices()
    _enable_compilation_cache()
