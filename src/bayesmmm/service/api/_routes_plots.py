"""Result plots of a fitted model as Plotly figure JSON (the dashboard draws them with
the plotly.js served beside it; any Plotly client can), or as PNG images drawn by the
report layer's matplotlib renderer (:func:`bayesmmm.report.to_matplotlib`), as
``bayesmmm report`` draws them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError
from bayesmmm.report import PLOTS
from bayesmmm.service._errors import RequestError
from bayesmmm.service.api._deps import get_fits, get_store
from bayesmmm.service.api._routes_tasks import ERRORS, HdiProb, Owner, TaskId, fitted_model
from bayesmmm.service.api._service import FitCache
from bayesmmm.service.store import JobStore

__all__ = ["router", "PLOT_NAMES"]

router = APIRouter(prefix="/v1", tags=["results"])

#: Names getPlot draws, in reading order: the report's plots of a fit (results, then
#: diagnostics), as ``bayesmmm.report.fit_figures`` draws them.
PLOT_NAMES: tuple[str, ...] = tuple(p.name for p in PLOTS.of("fit"))
PlotName = Literal[PLOT_NAMES]  # type: ignore[valid-type]


#: Resolution of a PNG plot (dots per inch of the figure's size).
PNG_DPI = 100


def _member(fitted: Any, name: str, structure: str | None) -> Any:
    """The fit a plot is drawn from: an averaged fit's diagnostics (trace, rank, prior vs
    posterior) are one member's draws, as the report shows them: ``structure``'s, by
    default the heaviest; its results plots are the mixture's."""
    from bayesmmm.service._structures import is_averaged

    if not is_averaged(fitted):
        if structure is not None:
            raise RequestError(422, "invalid_options", "structure: this task fitted one "
                               "structure, not a structure search. Fix: leave 'structure' out")
        return fitted
    if structure is not None and structure not in fitted.fits:
        carried = sorted(fitted.fits, key=lambda k: -fitted.weights[k])
        raise RequestError(422, "invalid_options", f"structure: {structure[:100]!r} is not a "
                           f"structure of this averaged fit. Fix: use one of {carried}",
                           errors=[{"field": "structure", "message": "unknown structure",
                                    "fix": f"one of {carried}"}])
    if PLOTS.get(name).group != "diagnostics":
        if structure is not None:
            raise RequestError(422, "invalid_options", f"structure: plot '{name}' shows the "
                               "average over structures. Fix: leave 'structure' out (it "
                               "picks the member of the diagnostics plots)")
        return fitted
    return fitted.fits[structure or fitted.top]


def _draw(fitted: Any, name: str, hdi_prob: float, panel: str | None,
          fmt: str = "json", structure: str | None = None) -> str | bytes:
    plot = PLOTS.get(name)
    fitted = _member(fitted, name, structure)
    options: dict[str, Any] = plot.accepted(hdi_prob=hdi_prob)
    if panel is not None:
        if "panel" not in plot.options:
            raise RequestError(422, "invalid_options", f"plot '{name}' has no panel option; "
                               "it shows the whole model. Fix: leave 'panel' out")
        options["panel"] = panel
    try:
        figure = plot.draw(fitted, **options)
    except BayesMMMError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    if fmt == "png":
        import io

        from bayesmmm.report import to_matplotlib

        buffer = io.BytesIO()
        to_matplotlib(figure, dpi=PNG_DPI).savefig(buffer, format="png", dpi=PNG_DPI)
        return buffer.getvalue()
    text: str = figure.to_json()
    return text


@router.get("/tasks/{task_id}/plots/{name}", operation_id="getPlot", responses={
    **ERRORS, 200: {"content": {
        "application/json": {"schema": {"type": "object", "description": "A Plotly figure: "
                                        "{data, layout}."}},
        "image/png": {"schema": {"type": "string", "format": "binary"}}},
        "description": "format=json: a Plotly figure; format=png: a PNG image."}},
            response_class=Response, summary="A result plot as a PNG image or Plotly JSON")
async def get_plot(task_id: TaskId, name: Annotated[PlotName, Path(
                       description="Which plot: " + ", ".join(PLOT_NAMES) + ".")],
                   owner: Owner, store: Annotated[JobStore, Depends(get_store)],
                   fits: Annotated[FitCache, Depends(get_fits)], hdi_prob: HdiProb = 0.94,
                   panel: Annotated[str | None, Query(
                       max_length=200, description="Geo models: one panel cell's plot "
                       "(default: the total).")] = None,
                   fmt: Annotated[Literal["json", "png"], Query(
                       alias="format", description="json: the Plotly figure (fig.to_json(), "
                       "for Plotly clients; it can be large); png: the same figure as a PNG "
                       f"image to show ({PNG_DPI} dpi).")] = "json",
                   structure: Annotated[str | None, Query(
                       max_length=200, description="Averaged fits (forms): whose trace, rank "
                       "or prior_posterior plot (a structure of getTaskStatus's structures; "
                       "default the heaviest).")] = None) -> Response:
    """The figure bayesmmm.report.plot_<name> draws for this fit: format=png for an image
    to show, format=json (default) for Plotly (Plotly.newPlot(el, fig.data, fig.layout));
    its numbers are those of plot_data_<name>."""
    fitted = await fitted_model(store, fits, task_id, owner)
    body = await run_in_threadpool(_draw, fitted, name, hdi_prob, panel, fmt, structure)
    return Response(body, media_type="image/png" if fmt == "png" else "application/json")
