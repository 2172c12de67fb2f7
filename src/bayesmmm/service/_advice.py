"""Advice phrased for the API caller.

The library's messages speak to its command line: "run more warm-up and draws (e.g.
--warmup 2000 --draws 2000)", "pass a smaller adstock_max_lag (CLI: --adstock-max-lag 4)".
A caller of the API sets request fields, not flags, so every text the service sends goes
through :func:`for_api`: a CLI note in brackets is dropped where the sentence already
names the field, and each flag becomes the request field it stands for
(``warmup=2000 and draws=2000``). The dashboard words those fields as its own labels
(``service/web/static/js/advice.js``).

>>> for_api("Run more warm-up and draws (e.g. --warmup 2000 --draws 2000).")
'Run more warm-up and draws (e.g. warmup=2000 and draws=2000).'
"""

from __future__ import annotations

import re
from typing import TypeVar

__all__ = ["for_api"]

T = TypeVar("T")

#: Flags whose request field has another name.
_FIELDS = {"channel": "channel_columns", "control": "control_columns",
           "panel": "panel_columns", "holidays": "holidays", "out": None, "config": None}
# "(CLI: --sep ';')", "(CLI --draws)", ", CLI --draws": a note for the command line only.
_CLI_NOTE = re.compile(r"\s*\(CLI:?\s([^()]*)\)|,\s*CLI:?\s+--[\w-]+(?:\s+[^\s,;)]+)?")
# "--target-accept 0.95", "--draws=2000", "--quick" (a value is a number or a quoted word)
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)(?:[ =]((?:-?[\d.]+(?:e-?\d+)?|'[^']*'"
                   r"|\"[^\"]*\")(?![\w-])))?")
# "warmup=2000 draws=2000" after the rewrite: name the pair with "and"
_PAIR = re.compile(r"(\b\w+=\S+) (?=\w+=)")


def _field(match: re.Match[str]) -> str:
    flag, value = match.group(1), match.group(2)
    name = _FIELDS.get(flag, flag.replace("-", "_"))
    if name is None:
        return match.group(0)
    return f"{name}={value}" if value is not None else name


def _note(match: re.Match[str], text: str) -> str:
    """A CLI note as an example of the field, when it holds one flag with a value the
    sentence does not already give; else nothing."""
    inside = (match.group(1) or "").strip()
    flag = _FLAG.fullmatch(inside)
    if flag is None or flag.group(2) is None:
        return ""
    example = _field(flag)
    return "" if example in text else f" (e.g. {example})"


def for_api(value: T) -> T:
    """``value`` (a text, or JSON-like lists and dicts of texts) with its command-line
    advice phrased as request fields; other values unchanged."""
    if isinstance(value, str):
        text = _CLI_NOTE.sub(lambda m: _note(m, value), value)
        text = _FLAG.sub(_field, text)
        return _PAIR.sub(r"\1 and ", text)  # type: ignore[return-value]
    if isinstance(value, list):
        return [for_api(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(for_api(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: for_api(v) for k, v in value.items()}  # type: ignore[return-value]
    return value

