"""The components of the contributions chart keep apart in colour, also for readers with
a colour-vision deficiency (simulated with Machado, Oliveira & Fernandes 2009, severity 1)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bayesmmm.report._figure import BASELINE_COLORS, CONTROL_COLORS, PALETTE, component_color

VISION = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: CIELAB distance two colours that mean different things must keep (about four times the
#: smallest difference a person notices).
MIN_DELTA_E = 10.0


def _linear(hex_color: str) -> np.ndarray:
    c = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _shown_together() -> dict[str, str]:
    """A contributions chart's colours: the baseline parts, three controls, four
    channels."""
    out = {name: component_color(name, "baseline", 0) for name in BASELINE_COLORS}
    out |= {f"control {i}": component_color(f"c{i}", "control", i) for i in range(3)}
    out |= {f"channel {i}": component_color(f"x{i}", "channel", i) for i in range(4)}
    return out


@pytest.mark.parametrize("vision", list(VISION))
def test_components_are_told_apart(vision: str) -> None:
    shown = _shown_together()
    labs = {name: _lab(VISION[vision] @ _linear(hue)) for name, hue in shown.items()}
    closest = min((float(np.linalg.norm(labs[a] - labs[b])), a, b)
                  for a, b in itertools.combinations(labs, 2))
    assert closest[0] >= MIN_DELTA_E, f"{vision}: {closest[1]} and {closest[2]} look alike"


def test_distinct_colours_not_greys() -> None:
    colours = [*BASELINE_COLORS.values(), *CONTROL_COLORS, *PALETTE]
    assert len(set(colours)) == len(colours)
    greys = [c for c in colours if len({c[1:3], c[3:5], c[5:7]}) == 1]
    assert len(greys) <= 1  # the intercept at most


def test_the_dashboard_uses_the_same_palette() -> None:
    import re
    from pathlib import Path

    import bayesmmm.service.web as web

    text = (Path(web.__file__).parent / "static" / "js" / "plots.js").read_text()
    block = text[text.index("export const PALETTE"):]
    block = block[:block.index(";")]
    assert tuple(re.findall(r"#[0-9A-Fa-f]{6}", block)) == PALETTE
