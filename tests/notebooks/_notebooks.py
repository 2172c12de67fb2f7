"""The example notebooks under test: where they are and how they are recognised."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: The six notebooks, in their reading order.
NOTEBOOKS = ("01_data", "02_exploration", "03_features_and_model", "04_fit_and_checks",
             "05_curves", "06_simulator")


def notebook_path(name: str) -> Path:
    return EXAMPLES / f"{name}.ipynb"
