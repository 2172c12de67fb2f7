"""A thin NUTS driver, split by concern.

NumPyro's kernels do the sampling. :mod:`._layout` arranges chains over XLA devices,
:mod:`._chunks` compiles chunks of iterations and collects their draws, :mod:`._start`
sets where chains start, :mod:`._rebase` changes the sampling basis once in the warm-up,
and :mod:`._nuts` drives warm-up and sampling with progress and a deadline.
"""

from bayesmmm.model._sampler._chunks import CHUNK_LENGTH
from bayesmmm.model._sampler._layout import ChainLayout
from bayesmmm.model._sampler._nuts import NutsProgram, SamplerResult, run_nuts
from bayesmmm.model._sampler._rebase import Rebase, move_state, rebase_window
from bayesmmm.model._sampler._start import Start

__all__ = ["CHUNK_LENGTH", "ChainLayout", "NutsProgram", "Rebase", "SamplerResult", "Start",
           "move_state", "rebase_window", "run_nuts"]
