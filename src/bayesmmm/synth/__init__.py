"""Synthetic data with known ground truth.

:func:`simulate` draws weekly sales for one geo or a geo panel from a
:class:`SimulationConfig` (channels with any registered adstock and saturation form,
controls, trend, seasonality, noise); :func:`simulate_preset` runs a named preset
(:data:`PRESET_NAMES`). :func:`simulate_classic` is the small classic-model simulator.
"""

from bayesmmm.synth._calendar import HOLIDAYS, holiday_weeks
from bayesmmm.synth._classic import ChannelTruth, simulate_classic
from bayesmmm.synth._config import ChannelConfig, ControlConfig, SimulationConfig
from bayesmmm.synth._presets import PRESET_NAMES, preset, simulate_preset
from bayesmmm.synth._simulation import Simulation
from bayesmmm.synth._spend import PATTERNS, spend_pattern
from bayesmmm.synth._truth import simulate

__all__ = [
    "HOLIDAYS",
    "PATTERNS",
    "PRESET_NAMES",
    "ChannelConfig",
    "ChannelTruth",
    "ControlConfig",
    "Simulation",
    "SimulationConfig",
    "holiday_weeks",
    "preset",
    "simulate",
    "simulate_classic",
    "simulate_preset",
    "spend_pattern",
]
