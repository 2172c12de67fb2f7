"""Answers sized for an assistant's action: pages of rows that fit in one response.

An action (a custom GPT's, for example) refuses a response over 100,000 characters, so
every list an answer carries comes in pages: at most ``limit`` rows from ``offset``, and
fewer when more would take the answer past :data:`MAX_CHARS`. ``total_rows`` and
``next_offset`` (``None`` on the last page) tell the caller how to go on. Characters are
counted as the answer is sent: compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Query

__all__ = ["MAX_CHARS", "Limit", "Offset", "Page", "page", "size_of", "LIMIT", "MAX_LIMIT",
           "MAX_OFFSET"]

#: The most characters one answer may have (OpenAI's limit on an action's response).
MAX_CHARS = 100_000
#: Kept free for the fields beside the rows (paging fields, notes): rows stop earlier.
_MARGIN = 2_000
#: Rows per page unless the caller asks otherwise, and at most.
LIMIT = 200
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000

Limit = Annotated[int, Query(
    ge=1, le=MAX_LIMIT, description=f"Rows per answer (at most {MAX_LIMIT}). An answer stops "
    f"earlier when more rows would pass {MAX_CHARS:,} characters; next_offset then says "
    "where to go on.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="First row of the answer "
                              "(0; then the next_offset of the previous answer).")]

R = TypeVar("R")


def size_of(value: Any) -> int:
    """Characters of ``value`` as compact JSON (how the answer is sent)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


@dataclass(frozen=True)
class Page:
    """One page of rows: ``rows``, and ``total_rows``, ``limit``, ``offset`` and
    ``next_offset`` (None: nothing follows) for the answer."""

    rows: list[Any]
    total_rows: int
    limit: int
    offset: int
    next_offset: int | None

    def fields(self) -> dict[str, Any]:
        """The paging fields of an answer (everything but the rows)."""
        return {"total_rows": self.total_rows, "limit": self.limit, "offset": self.offset,
                "next_offset": self.next_offset}


def page(rows: Sequence[R], limit: int, offset: int, rest: Any = None,
         sizes: Sequence[int] | None = None, max_chars: int | None = MAX_CHARS) -> Page:
    """``rows[offset:offset + limit]``, cut where the answer would pass :data:`MAX_CHARS`.

    Parameters
    ----------
    rows : sequence
        Every row of the answer (JSON-like values).
    limit, offset : int
        The caller's page.
    rest : JSON-like, optional
        The rest of the answer (without the rows): its size counts against the limit.
    sizes : sequence of int, optional
        Each row's size in characters when the caller knows it (rows already as JSON
        text); default :func:`size_of` each row.
    max_chars : int or None
        The most characters of the answer; None: no cut by size (a caller that asked for
        every row however large).

    A page holds at least one row (unless ``offset`` is past the end), so paging always
    moves on, even past a single row that is larger than the limit on its own.
    """
    chosen: list[R] = []
    if max_chars is None:
        chosen = list(rows[offset:offset + limit])
    else:
        room = max_chars - _MARGIN - (size_of(rest) if rest is not None else 0)
        used = 0
        for i in range(offset, min(offset + limit, len(rows))):
            size = (sizes[i] if sizes is not None else size_of(rows[i])) + 1  # the comma
            if chosen and used + size > room:
                break
            chosen.append(rows[i])
            used += size
    following = offset + len(chosen)
    return Page(rows=chosen, total_rows=len(rows), limit=limit, offset=offset,
                next_offset=following if following < len(rows) else None)
