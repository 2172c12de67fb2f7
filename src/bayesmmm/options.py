"""Sampler options: the one definition that ``bm.fit``, the CLI, config files and the
service read.

Each option is a field of :class:`SamplerOptions` carrying an :class:`OptionInfo` in its
metadata: a help text, and ``limit``, the largest value a request or a command line may
ask for (the library itself accepts more, e.g. many chains on a GPU). Surfaces build
their flags, config keys and request schemas by walking :func:`option_fields`, so an
option added here reaches every one of them (``tests/test_options_surfaces.py`` checks).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from bayesmmm.errors import SpecError

__all__ = ["CENTRING", "INITS", "METHODS", "OptionInfo", "SamplerOptions", "default_of",
           "option_fields", "options_doc"]

#: How the posterior is computed: ``nuts`` (exact, default) or ``advi`` (a fast
#: approximation judged by importance sampling: :mod:`bayesmmm.model._approx`).
METHODS = ("nuts", "advi")

#: How geo models sample their geo values: ``auto`` (default) chooses a centring weight
#: per geo value from warm-up draws and changes to that basis in the middle of the
#: warm-up (:mod:`bayesmmm.model._centring`); ``none`` samples every geo value
#: non-centred. National models have no geo values: both are the same there.
CENTRING = ("none", "auto")

#: Where NUTS starts: ``uniform`` (default: NumPyro's start, uniform in [-2, 2] in the
#: unconstrained space, identity mass matrix) or ``advi`` (a short ADVI fit per chain
#: gives its starting point and the initial diagonal mass matrix).
INITS = ("uniform", "advi")


@dataclass(frozen=True)
class OptionInfo:
    """What a surface needs to offer one option.

    ``help`` is one line for flags and schemas; ``doc`` the numpydoc text of ``bm.fit``
    (defaults to ``help``); ``ge``/``gt`` and ``lt`` the library's own bounds of a number
    (``__post_init__`` enforces them); ``limit`` the largest value a request or flag may
    carry (None: no bound beyond the library's rule); ``choices`` the allowed strings.
    """

    help: str
    doc: str = ""
    limit: float | None = None
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    lt: float | None = None

    def bounds(self) -> dict[str, float]:
        """The library's bounds and the request limit as schema keywords (``ge``, ``gt``,
        ``lt``, ``le``)."""
        out = {k: v for k, v in (("ge", self.ge), ("gt", self.gt), ("lt", self.lt),
                                 ("le", self.limit)) if v is not None}
        return {k: int(v) if float(v).is_integer() else v for k, v in out.items()}


def _option(default: Any, help: str, *, doc: str = "", limit: float | None = None,
            choices: tuple[str, ...] = (), ge: float | None = None, gt: float | None = None,
            lt: float | None = None) -> Any:
    info = OptionInfo(help, doc or help, limit, choices, ge, gt, lt)
    return field(default=default, metadata={"option": info})


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(f"{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class SamplerOptions:
    """NUTS settings; validated on creation (``SpecError`` naming the option and a fix)."""

    method: str = _option(
        "nuts", "'nuts' (exact, default) or 'advi' (a fast approximation for a preview; "
        "its warnings say how far to trust it).", choices=METHODS,
        doc="``\"nuts\"`` (default) samples the posterior with NUTS. ``\"advi\"`` fits a "
        "multivariate normal to it (one optimisation per chain), corrects its draws by "
        "Pareto-smoothed importance sampling and reports the Pareto k-hat: a preview in "
        "seconds, good for exploring; its verdict forbids planning when k-hat > 0.7.")
    chains: int = _option(4, "Chains, run in parallel (one per core); with 'advi', "
                          "independent optimisations.", limit=64, ge=1,
                          doc="Chains run in parallel, one per XLA host device (with "
                          "``method='advi'``: independent optimisations).")
    warmup: int = _option(1000, "Warm-up (tuning) iterations per chain.", limit=20_000, ge=0)
    draws: int = _option(1000, "Draws kept per chain.", limit=20_000, ge=1)
    target_accept: float = _option(
        0.8, "NUTS target acceptance in (0, 1); raise towards 0.95 if there are divergences.",
        gt=0, lt=1)
    seed: int = _option(0, "Random seed; the same seed gives the same draws.",
                        limit=2**32 - 1, ge=0)
    dense_mass: bool = _option(
        False, "Adapt a dense mass matrix (helps strongly correlated posteriors).")
    max_tree_depth: int = _option(
        10, "Largest NUTS tree depth (2**depth leapfrog steps per draw at most).", limit=15,
        ge=1, doc="Largest NUTS tree depth: at most 2**depth - 1 leapfrog steps per draw. A "
        "national model's warm-up of 500 iterations or more stops its trees at depth 8 (or "
        "this, if smaller): its "
        "first iterations, before a mass matrix is estimated, would otherwise run to the "
        "limit; the draws use the full depth.")
    centring: str = _option(
        "auto", "Geo models: 'auto' (default) picks how centred each geo value is sampled "
        "from warm-up draws; 'none' samples every geo value non-centred.", choices=CENTRING,
        doc="Geo models only: ``\"auto\"`` (the default) samples the logistic channels' "
        "``beta`` and ``lam`` as a rotated pair and, from the draws of one warm-up window "
        "(iterations 150-249 of 1,000), sets for each geo value how far it is sampled "
        "centred, moves the chains to that basis and lets the rest of the warm-up adapt "
        "to it; ``\"none\"`` samples every geo value non-centred. The posterior is the "
        "same either way; ``\"auto\"`` gives 2-6x the ESS per second on 2 and 8 geos and "
        "is the basis in which 50 geos converged (docs/benchmarks.md). A warm-up under "
        "500, or ``dense_mass=True`` (whose matrix would not survive the change of "
        "basis), keeps the plain non-centred basis.")
    init: str = _option(
        "uniform", "Where NUTS starts: 'uniform' (default) or 'advi' (start each chain from a "
        "short ADVI fit, with its scales as the first mass matrix).", choices=INITS,
        doc="Where NUTS starts. ``\"uniform\"`` (default): NumPyro's start, uniform in "
        "[-2, 2] in the unconstrained space, with an identity mass matrix. ``\"advi\"``: "
        "one ADVI optimisation per chain (``approx_steps`` steps) gives each chain a start "
        "drawn from its approximation and the approximation's variances as the first "
        "diagonal mass matrix (PyMC's ``advi+adapt_diag``); the warm-up then adapts as "
        "usual. It spares large models the first warm-up iterations' deep trees. The "
        "posterior is the same either way; ``method='advi'`` ignores it.")
    approx_steps: int = _option(
        8000, "Optimisation steps of method='advi' and of init='advi'.", limit=200_000,
        ge=100)
    time_limit: float | None = _option(
        None, "Seconds after which sampling stops early (the warm-up always completes); "
        "the warnings then say how many draws were taken.", limit=7 * 86400, gt=0,
        doc="Seconds from the call after which sampling stops early, at the end of the "
        "chunk of 50 draws under way; the warm-up always completes. The fit then holds "
        "fewer than ``draws`` draws and its ``meta`` says ``stopped_early``.")

    def __post_init__(self) -> None:
        if self.centring not in CENTRING:
            raise SpecError(f"centring must be one of {list(CENTRING)}, got "
                            f"{self.centring!r}. Fix: use 'auto' (default) or 'none'")
        if self.init not in INITS:
            raise SpecError(f"init must be one of {list(INITS)}, got {self.init!r}. "
                            "Fix: 'uniform' (default) or 'advi' to start NUTS from ADVI")
        if self.method not in METHODS:
            raise SpecError(f"method must be one of {list(METHODS)}, got {self.method!r}. "
                            "Fix: 'nuts' (default) or 'advi' for a quick preview")
        for name in ("chains", "warmup", "draws", "max_tree_depth"):
            _check_int(name, getattr(self, name), 0 if name == "warmup" else 1)
        _check_int("approx_steps", self.approx_steps, 100)
        if not isinstance(self.dense_mass, bool):
            raise SpecError(f"dense_mass must be true or false, got {self.dense_mass!r}")
        limit = self.time_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float)
                                  or not limit > 0):
            raise SpecError(f"time_limit must be a number of seconds > 0 or None, got "
                            f"{limit!r}. Fix: e.g. time_limit=600, or None for no limit")
        accept = self.target_accept
        if isinstance(accept, bool) or not isinstance(accept, int | float) \
                or not 0 < accept < 1:
            raise SpecError(f"target_accept must be in (0, 1), got {accept!r}."
                            " Fix: use 0.8 (default) or 0.9-0.99 when there are divergences")
        if (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                or not 0 <= self.seed < 2**32):
            raise SpecError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "sampler options"
                     ) -> SamplerOptions:
        """Options from a mapping (a config table, keyword arguments); an unknown key is
        a ``SpecError`` listing the known ones."""
        known = [f.name for f in option_fields()]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SpecError(f"unknown {where} {unknown}; expected some of {known}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in option_fields()}


def option_fields() -> tuple[Field[Any], ...]:
    """The options in declaration order; ``f.metadata["option"]`` is each one's
    :class:`OptionInfo`."""
    return fields(SamplerOptions)


def default_of(f: Field[Any]) -> Any:
    """The option's default (None when it has none)."""
    return None if f.default is MISSING else f.default


def options_doc(indent: str = "    ") -> str:
    """The numpydoc ``Parameters`` entries of every option (for ``bm.fit``'s docstring)."""
    lines = []
    for f in option_fields():
        info: OptionInfo = f.metadata["option"]
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        lines.append(f"{indent}{f.name} : {kind}, default {default_of(f)!r}")
        lines.append(textwrap.fill(info.doc, 88, initial_indent=indent + "    ",
                                   subsequent_indent=indent + "    "))
    return "\n".join(lines)
