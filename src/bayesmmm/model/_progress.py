"""A Rich progress bar for sampling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def rich_progress(chains: int) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a ``callback(phase, done, total)`` that drives a two-task Rich bar."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  TimeRemainingColumn(), transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def callback(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = f"NUTS {phase} ({chains} chains)"
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done)

        yield callback
