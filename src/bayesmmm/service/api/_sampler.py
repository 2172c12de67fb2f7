"""The sampler options of a request, derived from the library's one definition
(:class:`bayesmmm.SamplerOptions`): a field per option, with its default, its help as
the description, its choices as a ``Literal`` and its bounds as schema bounds.

``sampler_options`` turns a request into the keywords of ``bm.fit``, checked by the
library's own rules.
"""

from __future__ import annotations

from dataclasses import Field as OptionField
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from bayesmmm.errors import SpecError
from bayesmmm.model import OptionInfo, SamplerOptions, default_of, option_fields
from bayesmmm.service._errors import RequestError

__all__ = ["SamplerChoice", "sampler_options"]

#: Where the service is stricter than ``OptionInfo.limit``: a request's chains share the
#: service's worker cores with other jobs (the dashboard offers at most 16 too).
_SERVICE_LIMITS: dict[str, float] = {"chains": 16}
#: The options every job record has held since the first release. An option added later
#: is recorded only when a request gives it, so that records of old and new jobs that
#: leave it out read the same (getTaskStatus's ``sampler``).
_ALWAYS_RECORDED = ("chains", "warmup", "draws", "target_accept", "seed", "dense_mass",
                    "centring", "time_limit")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _field(option: OptionField[Any], kind: Any) -> tuple[Any, Any]:
    info: OptionInfo = option.metadata["option"]
    if info.choices:
        kind = Literal[info.choices]
    bounds: dict[str, Any] = info.bounds()
    if option.name in _SERVICE_LIMITS:
        bounds["le"] = _SERVICE_LIMITS[option.name]
    return kind, Field(default_of(option), description=info.help, **bounds)


def _sampler_choice() -> type[BaseModel]:
    kinds = get_type_hints(SamplerOptions)
    fields = {f.name: _field(f, kinds[f.name]) for f in option_fields()}
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "SamplerChoice", __base__=_Strict, __doc__="NUTS settings.", **fields)
    return model


SamplerChoice = _sampler_choice()


def sampler_options(choice: BaseModel) -> dict[str, Any]:
    """The sampler settings of a request, checked by the library's own rules: every
    option the request gave, and the defaults of :data:`_ALWAYS_RECORDED`."""
    given = choice.model_fields_set
    options = {f.name: getattr(choice, f.name) for f in option_fields()
               if f.name in given or f.name in _ALWAYS_RECORDED}
    try:
        SamplerOptions.from_mapping(options)
    except SpecError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    return options
