"""Synthetic data with known ground truth."""

from bayesmmm.synth._classic import ChannelTruth, Simulation, simulate_classic, spend_pattern

__all__ = ["ChannelTruth", "Simulation", "simulate_classic", "spend_pattern"]
