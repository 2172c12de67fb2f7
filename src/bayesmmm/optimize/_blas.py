"""One BLAS thread for SciPy's solvers, in the calling thread only.

SLSQP solves a small dense least-squares problem per iteration through SciPy's
OpenBLAS. With several threads, OpenBLAS spends far longer waking and synchronising them
than computing (measured: 64 variables, 145 iterations, 5.5 s with the default threads
vs 0.4 s with one, on 2 busy cores). ``openblas_set_num_threads_local`` (OpenBLAS >=
0.3.27) changes the count for the calling thread alone and returns the old one, so the
rest of the process is untouched. Where SciPy ships another BLAS, this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["single_blas_thread"]


@functools.cache
def _set_local() -> Any:
    try:
        import scipy

        folder = Path(scipy.__file__).resolve().parent.parent / "scipy.libs"
        for path in sorted(folder.glob("libscipy_openblas*")):
            fn = ctypes.CDLL(str(path)).openblas_set_num_threads_local
            fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
            return fn
    except (OSError, AttributeError):
        pass
    return None


@contextmanager
def single_blas_thread() -> Iterator[None]:
    fn = _set_local()
    if fn is None:
        yield
        return
    previous = fn(1)
    try:
        yield
    finally:
        fn(previous)
