"""``bayesmmm.fit``: one model (the model layer's fit) or, with ``forms="auto"``, several
structures averaged (the analysis layer's :func:`~bayesmmm.analysis.fit_auto`)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, overload

import pandas as pd

from bayesmmm.analysis import AUTO_ADSTOCKS, AUTO_SATURATIONS, fit_auto
from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit, ModelSpec
from bayesmmm.model import fit as fit_one
from bayesmmm.model._fit import fit_one_parameters
from bayesmmm.model._progress import Progress, progress_display

__all__ = ["fit"]

Forms = str | Mapping[str, Sequence[str]] | None


def _candidates(forms: Forms) -> tuple[Sequence[str], Sequence[str]] | None:
    """None for the spec's own forms; the candidate adstocks and saturations otherwise."""
    if forms is None or forms == "spec":
        return None
    if forms == "auto":
        return AUTO_ADSTOCKS, AUTO_SATURATIONS
    if isinstance(forms, Mapping) and set(forms) <= {"adstock", "saturation"}:
        return (list(forms.get("adstock", AUTO_ADSTOCKS)),
                list(forms.get("saturation", AUTO_SATURATIONS)))
    raise SpecError(f"forms must be 'spec' (default), 'auto', or a mapping of candidate "
                    f"forms {{'adstock': [...], 'saturation': [...]}}, got {forms!r}")


@overload
def fit(data: MMMData | pd.DataFrame | str, spec: ModelSpec, *, forms: None = None,
        progress: Progress = "auto", **options: Any) -> Fit: ...


@overload
def fit(data: MMMData | pd.DataFrame | str, spec: ModelSpec, *,
        forms: str | Mapping[str, Sequence[str]],
        progress: Progress = "auto",
        **options: Any) -> Fit | AveragedFit: ...


def fit(data: MMMData | pd.DataFrame | str, spec: ModelSpec, *, forms: Forms = None,
        progress: Progress = "auto",
        **options: Any) -> Fit | AveragedFit:
    """Fit the MMM described by ``spec`` with NUTS, or average it over structures.

    Parameters
    ----------
    data : MMMData, DataFrame or path
        A table is validated first (``DataValidationError`` lists every problem).
    spec : ModelSpec
    forms : None, "auto" or mapping
        ``None`` (or ``"spec"``) fits the spec's own adstock and saturation. ``"auto"``
        searches the structure: every pair of the candidate adstocks (``geometric``,
        ``delayed``, ``weibull_pdf``) and saturations (``logistic``, ``hill``,
        ``michaelis_menten``) is fitted briefly, the clearly worse are pruned, the rest
        get full fits with the options below and are averaged by stacking
        (:func:`bayesmmm.analysis.fit_auto`); ``{"adstock": [...], "saturation":
        [...]}`` chooses the candidates. The result is then an
        :class:`~bayesmmm.AveragedFit`: its answers (``summary``, ``roi``,
        ``contributions``, ...) are those of the weighted mixture, and ``carried_by()``
        and ``comparison`` say which structures carry the weight.
{progress_and_options}

    Returns
    -------
    Fit, or AveragedFit with ``forms="auto"``
    """
    candidates = _candidates(forms)
    if candidates is None:
        return fit_one(data, spec, progress=progress, **options)
    adstocks, saturations = candidates
    with progress_display(progress, int(options.get("chains", 4))) as callback:
        return fit_auto(data, spec, adstocks=adstocks, saturations=saturations,
                        progress=callback, **options)


def _signature() -> inspect.Signature:
    one = inspect.signature(fit_one)
    params = list(one.parameters.values())
    forms = inspect.Parameter("forms", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation="str | Mapping[str, Sequence[str]] | None")
    return one.replace(parameters=[*params[:2], forms, *params[2:]],
                       return_annotation="Fit | AveragedFit")


fit.__signature__ = _signature()  # type: ignore[attr-defined]
fit.__doc__ = (fit.__doc__ or "").replace("{progress_and_options}", fit_one_parameters())
