"""Showing a fit's progress where the user is: a Rich bar in a terminal, a widget bar in
Jupyter (when ipywidgets is installed), a few plain text lines otherwise.

The sampler reports ``callback(phase, done, total)`` after each chunk of iterations
(phases ``warmup`` and ``sampling`` for NUTS, after ``start`` when it starts from ADVI;
``optimising`` for the approximate fit);
:func:`progress_display` turns the ``progress`` argument of ``bm.fit`` into such a
callback for the duration of the fit.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TextIO

from bayesmmm.model._quiet import note

__all__ = ["PROGRESS_MODES", "Progress", "ProgressFn", "TextProgress", "in_jupyter",
           "progress_display", "progress_mode", "rich_progress", "widget_progress"]

ProgressFn = Callable[[str, int, int], None]
#: What ``progress`` accepts besides a callable: ``"auto"`` (or ``True``) chooses by
#: where the code runs; ``"rich"``, ``"widget"`` and ``"text"`` force one display;
#: ``False`` shows nothing.
PROGRESS_MODES = ("auto", "rich", "widget", "text")
Progress = bool | Literal["auto", "rich", "widget", "text"] | ProgressFn


def in_jupyter() -> bool:
    """Whether the code runs in a Jupyter kernel (a notebook, JupyterLab, VS Code)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython install
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _has_widgets() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def progress_mode(progress: Progress) -> str | None:
    """The display for ``progress``: ``"rich"``, ``"widget"``, ``"text"``, ``"callback"``
    or None (nothing shown)."""
    if progress is False or progress is None:
        return None
    if callable(progress):
        return "callback"
    if progress is True or progress == "auto":
        if not in_jupyter():
            return "rich" if sys.stderr.isatty() else "text"
        if _has_widgets():
            return "widget"
        note("progress is shown as text lines; for a progress bar in Jupyter install "
             "ipywidgets (pip install 'bayesmmm[notebook]')", stream=sys.stdout)
        return "text"
    if progress in PROGRESS_MODES:
        return str(progress)
    raise ValueError(f"progress must be True, False, a callable(phase, done, total) or one "
                     f"of {list(PROGRESS_MODES)}, got {progress!r}")


def _label(phase: str, chains: int) -> str:
    """``NUTS warmup (4 chains)``; other phases (the approximate fit's ``optimising``,
    the structure search's ``pilots`` and ``fits``) by their name."""
    if phase == "start":
        return "ADVI start"
    if phase not in ("warmup", "sampling"):
        return phase
    return f"NUTS {phase} ({chains} chain{'' if chains == 1 else 's'})"


@contextmanager
def rich_progress(chains: int) -> Iterator[ProgressFn]:
    """Yield a ``callback(phase, done, total)`` that drives a Rich bar (one task per
    phase) on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True),
                  transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def callback(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(_label(phase, chains), total=total)
            bar.update(tasks[phase], completed=done, total=total)  # a total may grow

        yield callback


@contextmanager
def widget_progress(chains: int) -> Iterator[ProgressFn]:
    """Yield a callback that drives an ipywidgets bar per phase in a notebook cell."""
    import ipywidgets as widgets
    from IPython.display import display

    box = widgets.VBox([])
    display(box)
    bars: dict[str, tuple[Any, Any]] = {}
    started = time.perf_counter()

    def callback(phase: str, done: int, total: int) -> None:
        if phase not in bars:
            bar = widgets.IntProgress(value=0, min=0, max=max(total, 1),
                                      description=phase, bar_style="info")
            label = widgets.Label()
            bars[phase] = (bar, label)
            box.children = (*box.children, widgets.HBox([bar, label]))
        bar, label = bars[phase]
        bar.max = max(total, 1)  # a total may grow (a structure search's rerun)
        bar.value = done
        label.value = (f"{done}/{total} · {_label(phase, chains)} · "
                       f"{time.perf_counter() - started:.0f} s")
        if done >= total:
            bar.bar_style = "success"

    yield callback


class TextProgress:
    """Progress as a few plain lines (at each quarter of each phase): for notebooks
    without ipywidgets, logs and pipes. Writes to ``stream`` (default stdout in Jupyter,
    where stderr is shown as an alarm, stderr elsewhere)."""

    def __init__(self, chains: int, stream: TextIO | None = None) -> None:
        self.chains = chains
        self.stream = stream
        self.started = time.perf_counter()
        self.shown: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        quarter = 4 * done // max(total, 1)
        if phase not in self.shown or quarter > self.shown[phase]:
            self.shown[phase] = quarter
            stream = self.stream or (sys.stdout if in_jupyter() else sys.stderr)
            print(f"{_label(phase, self.chains)}: {done}/{total} "
                  f"({time.perf_counter() - self.started:.0f} s)", file=stream, flush=True)


@contextmanager
def progress_display(progress: Progress, chains: int) -> Iterator[ProgressFn | None]:
    """The callback for ``bm.fit``'s ``progress`` (None: show nothing), for the duration
    of the block. See :data:`Progress`."""
    mode = progress_mode(progress)
    if mode is None:
        yield None
    elif mode == "callback":
        yield progress  # type: ignore[misc]
    elif mode == "rich":
        with rich_progress(chains) as callback:
            yield callback
    elif mode == "widget":
        with widget_progress(chains) as callback:
            yield callback
    else:
        yield TextProgress(chains)
