"""Third-party notices that say nothing to a BayesMMM user, kept from reaching them.

Each is a known message of a library we call, matched by its text and category, and
silenced where it arises; where it carries something the user should know, we say it
once in our own words (:func:`note`) instead. Nothing here changes how warnings are
shown for anything else.

* ArviZ prints a ``FutureWarning`` about its coming 1.0 refactor at the first import of
  each day on each machine; BayesMMM pins ArviZ < 1, so it concerns no user of ours.
  :func:`quiet_arviz` adds a filter on that exact message (not ``catch_warnings``,
  which is not thread-safe: the fit imports ArviZ in a background thread while it
  samples) when BayesMMM starts working (the first fit or fit file read), as
  :func:`bayesmmm.configure` sets JAX up then rather than at import.
* tqdm, imported by NumPyro, warns ``IProgress not found`` in a Jupyter kernel without
  ipywidgets; BayesMMM shows no tqdm bar (its progress is :mod:`._progress`), so
  :func:`quiet_tqdm` imports ``tqdm.auto`` before NumPyro does, with that warning
  silenced. Rich's live display asks for ipywidgets in Jupyter too; there the progress
  is a widget bar, or without ipywidgets text lines and one note saying how to get the
  bar (:mod:`._progress`).
"""

from __future__ import annotations

import sys
import threading
import warnings
from typing import TextIO

__all__ = ["note", "quiet_arviz", "quiet_tqdm"]

_ARVIZ_REFACTOR = r"\s*ArviZ is undergoing a major refactor"
_lock = threading.Lock()
_said: set[str] = set()


def quiet_arviz(*, load: bool = True) -> None:
    """Keep ArviZ's refactor notice from the user (a filter on that one message, added
    once) and, with ``load``, import ArviZ now. Called by the first fit, fit file read or
    ``Fit.inference_data``, so any later import of ArviZ (by us or the user) is quiet."""
    with _lock:
        if "arviz-notice" not in _said:
            _said.add("arviz-notice")
            warnings.filterwarnings("ignore", message=_ARVIZ_REFACTOR, category=FutureWarning)
        if load and "arviz" not in sys.modules:
            import arviz  # noqa: F401


def quiet_tqdm() -> None:
    """Import ``tqdm.auto`` without its ipywidgets warning (tqdm's own name for it is
    ``TqdmWarning``), so NumPyro's later import of it says nothing."""
    if "tqdm.auto" in sys.modules:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tqdm.auto  # noqa: F401


def note(message: str, *, key: str | None = None, stream: TextIO | None = None) -> None:
    """Print ``note: <message>`` once per process (per ``key``, default the message) to
    ``stream`` (default stderr): our plain words in place of a third-party warning."""
    key = key or message
    with _lock:
        if key in _said:
            return
        _said.add(key)
    print(f"note: {message}", file=stream or sys.stderr, flush=True)


# NumPyro imports tqdm.auto when it is first imported; this module is imported before it
# (by the fit file's writer, the first of the model layer's modules to load).
quiet_tqdm()
