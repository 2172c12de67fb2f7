"""The user's file name in messages: shown plainly, never a temporary path of ours."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["display_name", "scrub"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def display_name(name: str | None, default: str = "data.csv") -> str:
    """A file name to show in messages: the last path part, plain characters only."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")[:100]
    return base or default


def scrub(message: str, path: Path, name: str) -> str:
    """Replace a temporary file's path in a library message by the user's file name."""
    return message.replace(str(path), name).replace(path.name, name)
