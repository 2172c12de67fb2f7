"""Fit files the service serves (``downloadFit``), read once per task, and the verdict on
each: whether its answers can be used (:func:`bayesmmm.report.verdict`).

A completed task's fit never changes, so both are kept for the life of the MCP server
(the last few fits; verdicts of every task seen).
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio

from bayesmmm.mcp._client import ServiceClient

__all__ = ["FitStore", "verdict_of"]


def verdict_of(fit: Any) -> dict[str, Any]:
    """The library's verdict on ``fit`` as JSON: ``status`` ok / care / bad, the
    ``verdict`` headline (``can be trusted``, ``use with care: ...``, ``do not use: ...``),
    the ``reasons`` (advice of every failing check, worst first) and every check."""
    from bayesmmm.report import verdict

    judged = verdict(fit)
    return {"status": judged.status, "verdict": judged.headline,
            "do_not_use": judged.status == "bad", "reasons": judged.reasons,
            "checks": [{"check": c.name, "value": c.value, "rule": c.rule,
                        "status": c.status, "advice": c.advice or None}
                       for c in judged.checks]}


class FitStore:
    """Fits of completed tasks, downloaded from the service and loaded with
    :func:`bayesmmm.load` (one fit, or an averaged fit of a ``forms`` search); the ``size``
    most recent stay in memory."""

    def __init__(self, client: ServiceClient, size: int = 4) -> None:
        self.client = client
        self.size = size
        self._fits: OrderedDict[str, Any] = OrderedDict()
        self._verdicts: dict[str, dict[str, Any]] = {}
        self._specs: dict[str, dict[str, Any]] = {}
        self._lock = anyio.Lock()
        self._folder: tempfile.TemporaryDirectory[str] | None = None  # made on first use

    def close(self) -> None:
        self._fits.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def _path(self, task_id: str) -> Path:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="bayesmmm-mcp-fits-")
        return Path(self._folder.name) / f"{task_id}.nc"

    async def fit(self, task_id: str) -> Any:
        """The task's fit (``ServiceError`` 409 while it is not completed)."""
        async with self._lock:
            if task_id in self._fits:
                self._fits.move_to_end(task_id)
                return self._fits[task_id]
            response = await self.client.request("GET", f"/tasks/{task_id}/fit")
            path = self._path(task_id)
            path.write_bytes(response.content)

            def load() -> Any:
                from bayesmmm import load

                return load(path)

            fitted = await anyio.to_thread.run_sync(load)
            self._fits[task_id] = fitted
            while len(self._fits) > self.size:
                old, _ = self._fits.popitem(last=False)
                self._path(old).unlink(missing_ok=True)
            return fitted

    async def spec(self, task_id: str) -> dict[str, Any]:
        """The task's model spec (getTaskStatus's ``spec``; it never changes)."""
        if task_id not in self._specs:
            status = await self.client.json("GET", f"/tasks/{task_id}")
            self._specs[task_id] = dict(status.get("spec") or {})
        return self._specs[task_id]

    async def verdict(self, task_id: str) -> dict[str, Any]:
        """:func:`verdict_of` the task's fit (computed once per task)."""
        if task_id not in self._verdicts:
            fitted = await self.fit(task_id)
            self._verdicts[task_id] = await anyio.to_thread.run_sync(verdict_of, fitted)
        return self._verdicts[task_id]
