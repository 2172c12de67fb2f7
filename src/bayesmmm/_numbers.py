"""One way to print a number for people, by its magnitude, on every surface.

The CLI, the report, the optimizer's sentences and the service's texts use
:func:`format_number`; the dashboard's ``fmt`` (``service/web/static/js/dom.js``) follows
the same rule, and a browser test holds the two together.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["format_number"]


def format_number(value: float | int | None, digits: int = 3) -> str:
    """``value`` as a person reads it.

    Amounts of a thousand or more are whole numbers with thousands separators
    (``4,790``, ``1,234,567``); smaller ones keep ``digits`` significant digits without
    an exponent (``6.12``, ``45.3``, ``0.0123``); zero is ``0``, a missing value ``–``
    and infinities ``∞`` / ``-∞``.

    Examples
    --------
    >>> [format_number(v) for v in (4790.33, 6.123, 0.012345, 999.96, -1234.5, 0)]
    ['4,790', '6.12', '0.0123', '1,000', '-1,235', '0']
    """
    if value is None:
        return "–"
    v = float(value)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0:
        return "0"
    exact = Decimal(v)  # the float's exact value; ties round away from zero, as in JS
    if abs(v) < 1000:
        step = Decimal(1).scaleb(exact.adjusted() - digits + 1)
        exact = exact.quantize(step, rounding=ROUND_HALF_UP)
    if abs(exact) >= 1000:
        return f"{exact.quantize(Decimal(1), rounding=ROUND_HALF_UP):,f}"
    return format(exact.normalize(), "f")
