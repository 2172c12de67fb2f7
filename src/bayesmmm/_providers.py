"""Where the model layer finds what a layer above it provides, without importing it.

:class:`bayesmmm.model.Fit`'s shortcut methods (``summary``, ``roi`` ...) are functions of
the analysis layer, registered in ``bayesmmm.model.ANSWERS`` when that layer is imported.
A program that imports only ``bayesmmm.model`` has not imported it yet; the first
shortcut then imports the modules named here (at call time, so no import circle forms
and ``import bayesmmm`` stays quick).
"""

from __future__ import annotations

__all__ = ["ANSWER_PROVIDERS"]

#: Modules whose import fills ``bayesmmm.model.ANSWERS``.
ANSWER_PROVIDERS = ("bayesmmm.analysis",)
