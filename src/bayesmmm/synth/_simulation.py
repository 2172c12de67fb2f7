"""The result of a simulation: the data, its ground truth, and the matching model spec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmmm._files import atomic_write

__all__ = ["Simulation"]


@dataclass
class Simulation:
    """Simulated data and its ground truth.

    Attributes
    ----------
    data : DataFrame
        National: ``date``, ``y``, one column per channel, one per control. Geo panel:
        the same in long format with ``geo`` first, sorted by geo then date.
    truth : dict
        ``parameters`` named as the fitted summary names them (model scale),
        ``contributions`` per component in original units, ``noise``,
        ``total_contribution`` and ``roi`` per channel (see :func:`bayesmmm.synth.simulate`
        for the full layout).
    spec_kwargs : dict
        Arguments for the model spec matching the simulation (written as ``spec.json``).
    """

    data: pd.DataFrame
    truth: dict[str, Any]
    spec_kwargs: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write ``data.csv``, ``truth.json`` and ``spec.json`` into ``folder``.

        Each file is written whole or not at all (a temporary file renamed into place).

        Returns
        -------
        dict with keys ``data``, ``truth``, ``spec`` and the paths written.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        spec = {k: list(v) if isinstance(v, tuple) else v for k, v in self.spec_kwargs.items()}
        paths = {"data": folder / "data.csv", "truth": folder / "truth.json",
                 "spec": folder / "spec.json"}
        atomic_write(paths["data"], lambda p: self.data.to_csv(p, index=False))
        atomic_write(paths["truth"], lambda p: p.write_text(json.dumps(self.truth)))
        atomic_write(paths["spec"], lambda p: p.write_text(json.dumps(spec, indent=1)))
        return paths

    def save(self, folder: str | Path) -> tuple[Path, Path]:
        """Write all three files as :meth:`write` does; return the data and truth paths."""
        paths = self.write(folder)
        return paths["data"], paths["truth"]
