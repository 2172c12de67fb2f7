"""Tools on a completed fit: get_summary, get_contributions, get_roi,
get_response_curves, get_diagnostics and get_plot."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import Field

from bayesmmm.mcp._answer import interval, tool, units_of
from bayesmmm.mcp._client import ServiceClient
from bayesmmm.mcp._fits import FitStore
from bayesmmm.mcp._shape import FREQS, contribution_sums, page, png_of_figure, thin_curves
from bayesmmm.mcp._tools_data import TaskId

__all__ = ["carried", "PLOT_NAMES", "register", "rerun_advice"]


def _plot_names() -> tuple[str, ...]:
    from bayesmmm.report import PLOTS

    return tuple(p.name for p in PLOTS.of("fit"))


#: The plots of a fit getPlot draws (the report's registry).
PLOT_NAMES = _plot_names()

HdiProb = Annotated[float, Field(gt=0, lt=1, description="Width of the interval (0.94: the "
                                 "94% HDI).")]
Level = Annotated[Literal["total", "panel"], Field(
    description="Geo models: 'panel' gives one block per panel cell.")]
Limit = Annotated[int, Field(ge=1, le=500, description="Rows per page.")]
Offset = Annotated[int, Field(ge=0, description="First row of the page (next_offset of the "
                              "previous page).")]

_SCALED = ("the model's scaled units, as PyMC-Marketing reports them: the target divided by "
           "its largest absolute value, each channel by its largest spend; controls as given")

#: What each plot's axes are in, for the caption.
_PLOT_UNITS = {
    "actual_vs_fitted": "target units per period",
    "contributions": "target units per period",
    "waterfall": "target units summed over the fitted period",
    "spend_vs_effect": "shares of total spend and of total media effect (fractions)",
    "roi": "target units per unit of spend",
    "saturation": "target units per period vs spend per period, at constant spend; dashed "
                  "lines: each channel's current spend",
    "adstock": "share of an impulse's effect by lag (periods)",
    "prior_posterior": "parameter values in " + _SCALED,
    "trace": "parameter values per draw and chain",
    "rank": "rank of each draw across chains"}


def rerun_advice(status: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    """What to run instead of a fit that should not be used: start_fit with the same
    model and a sampler sized to the failing checks."""
    spec, sampler = status.get("spec") or {}, status.get("sampler") or {}
    failing = {c["check"] for c in verdict["checks"] if c["status"] != "ok"}
    new: dict[str, float] = {"chains": max(4, int(sampler.get("chains", 4))),
           "warmup": max(1000, 2 * int(sampler.get("warmup", 1000))),
           "draws": max(1000, 2 * int(sampler.get("draws", 1000)))}
    if "divergences" in failing:
        new["target_accept"] = max(0.95, float(sampler.get("target_accept", 0.8)))
    model = {k: spec[k] for k in ("date_column", "y_column", "channel_columns",
                                  "control_columns", "panel_columns", "adstock_max_lag",
                                  "yearly_seasonality") if spec.get(k) not in (None, [])}
    quality = failing & {"R²", "MAPE %", "Durbin-Watson", "94% coverage"}
    return {"tool": "start_fit", "data": f"the same table ({status.get('input_name')})",
            "arguments": {**model, **new},
            "model_changes": ("also consider the model changes the reasons name (controls, "
                              "trend, seasonality)") if quality else None}


async def _whole(client: ServiceClient, path: str, key: str, params: dict[str, Any]
                 ) -> dict[str, Any]:
    """A paged answer of the service whole: follows ``next_offset``, joining ``key``."""
    whole: dict[str, Any] | None = None
    offset = 0
    while True:
        answer = await client.json("GET", path, params={**params, "limit": 1000,
                                                        "offset": offset})
        if whole is None:
            whole = answer
        else:
            whole[key] = [*whole[key], *answer[key]]
        following = answer.get("next_offset")
        if following is None or following <= offset:
            return whole
        offset = following


def carried(answer: dict[str, Any]) -> dict[str, Any]:
    """Which structures carry the weight (an averaged fit's answers; null for one fit)."""
    return {"structures": answer.get("structures"), "carried_by": answer.get("carried_by")}


def register(server: MCPServer[Any], client: ServiceClient, fits: FitStore) -> None:
    """Add the result tools to ``server``."""

    @tool
    async def get_summary(task_id: TaskId, contains: Annotated[str | None, Field(
            description="Only parameters whose name contains this (e.g. 'x1', "
            "'saturation').")] = None, limit: Limit = 100, offset: Offset = 0
                          ) -> dict[str, Any]:
        """The posterior summary of every parameter: mean, sd, 94% HDI, ess_bulk, ess_tail,
        r_hat (PyMC-Marketing's parameter names); each channel's adstock half-life and
        peak lag in periods (carryover)."""
        answer = await _whole(client, f"/tasks/{task_id}/summary", "summary", {})
        rows = answer["summary"]
        if contains:
            rows = [r for r in rows if contains in r["parameter"]]
        return {"task_id": task_id, **page(rows, limit, offset),
                "carryover": answer.get("carryover", []), **carried(answer),
                "units": {"parameters": _SCALED, "ess_*": "effective draws", "r_hat":
                          "unitless (<= 1.01: chains agree)",
                          "carryover": "periods of the data"},
                "interval": interval(0.94)}

    @tool
    async def get_contributions(
        task_id: TaskId,
        freq: Annotated[Literal["total", "Y", "Q", "M", "period"], Field(
            description="Sum per calendar year (Y), quarter (Q), month (M), only over the "
            "whole period (total), or every period of the data (period: long, paged).")] = "Q",
        channels_only: Annotated[bool, Field(description="Only the media channels.")] = False,
        hdi_prob: HdiProb = 0.94, limit: Limit = 120, offset: Offset = 0,
    ) -> dict[str, Any]:
        """What each component (baseline, controls, seasonality, trend, each channel)
        contributed: totals over the fitted period with shares, and sums per quarter by
        default; each sum with its posterior interval."""
        spec = await fits.spec(task_id)
        fitted = await fits.fit(task_id)
        sums = "total" if freq == "period" else freq
        totals, rows = await anyio.to_thread.run_sync(
            contribution_sums, fitted, sums, hdi_prob, channels_only)
        if freq == "period":  # the library's table, as getContributions serves it
            frame = await anyio.to_thread.run_sync(fitted.contributions, hdi_prob)
            if channels_only:
                frame = frame[frame["kind"] == "channel"]
            rows = frame.to_dict(orient="records")
        what = "each period of the data" if freq == "period" else FREQS[freq]
        return {"task_id": task_id, "totals": totals,
                "by_period": {"per": what, **page(rows, limit, offset)},
                **carried(await client.json("GET", f"/tasks/{task_id}")),
                "units": {**units_of(spec), "share": "fraction of the summed contributions "
                          "of all components (the fitted target)"},
                "interval": interval(hdi_prob, "of each sum (from the summed posterior draws)")}

    @tool
    async def get_roi(task_id: TaskId, hdi_prob: HdiProb = 0.94, level: Level = "total"
                      ) -> dict[str, Any]:
        """Return on investment per channel over the fitted period: spend, contribution and
        ROI (incremental target per unit of spend) with its interval."""
        spec = await fits.spec(task_id)
        table = await _whole(client, f"/tasks/{task_id}/roi", "rows",
                             {"hdi_prob": hdi_prob, "level": level})
        return {"task_id": task_id, "rows": table["rows"], **carried(table),
                "units": units_of(spec),
                "interval": interval(hdi_prob, "of the ROI; contribution is the mean")}

    @tool
    async def get_response_curves(
        task_id: TaskId, points: Annotated[int, Field(ge=2, le=200, description="Spend "
                                                      "levels kept per channel.")] = 9,
        hdi_prob: HdiProb = 0.94, level: Level = "total",
    ) -> dict[str, Any]:
        """Saturation curves: incremental sales, ROI and marginal ROI of each channel at
        multiples of its historical spend (current spend marked), and where each saturates."""
        spec = await fits.spec(task_id)
        answer = await _whole(client, f"/tasks/{task_id}/response-curves", "curves",
                              {"hdi_prob": hdi_prob, "level": level})
        return {"task_id": task_id, "curves": thin_curves(answer["curves"], points),
                "points": answer["points"],
                "saturation_fraction": answer.get("saturation_fraction"), **carried(answer),
                "units": {**units_of(spec), "multiplier": "multiple of the channel's "
                          "historical spend", "sales": "incremental target over the fitted "
                          "period at that spend", "marginal_roi": "target per extra unit of "
                          "spend at that level", "saturation_spend": "spend where the "
                          "marginal ROI falls to saturation_fraction of its peak"},
                "interval": interval(hdi_prob, "of sales and marginal ROI")}

    @tool
    async def get_diagnostics(task_id: TaskId) -> dict[str, Any]:
        """Can the fit be used? The verdict (can be trusted / use with care / do not use),
        its reasons and every check (r_hat, ESS, divergences, R², MAPE, Durbin-Watson,
        coverage) with its rule; what to run instead when it should not be used."""
        status = await client.json("GET", f"/tasks/{task_id}")
        judged = await fits.verdict(task_id)
        return {"task_id": task_id, **judged, "divergences": status.get("divergences"),
                "warnings": status.get("warnings", []), "sampler": status.get("sampler"),
                **carried(status),
                "run_instead": None if judged["status"] == "ok" else
                rerun_advice(status, judged),
                "units": {"r_hat": "unitless", "ess_bulk": "effective draws",
                          "divergences": "draws", "R²": "fraction", "MAPE %": "percent",
                          "94% coverage": "fraction of periods"},
                "interval": "checks are point values; coverage uses the 94% predictive "
                            "interval"}

    @tool
    async def get_plot(
        task_id: TaskId,
        name: Annotated[Literal[PLOT_NAMES], Field(  # type: ignore[valid-type]
            description="Which plot.")] = "saturation",
        hdi_prob: HdiProb = 0.94,
        panel: Annotated[str | None, Field(description="Geo models: one panel cell's plot "
                                           "(default: the total).")] = None,
        structure: Annotated[str | None, Field(description="Averaged fits (forms='auto'): "
                                               "whose trace, rank or prior_posterior plot "
                                               "(default: the heaviest structure).")] = None,
    ) -> tuple[dict[str, Any], list[bytes]]:
        """A result plot as a PNG image: saturation (response curves, current spend
        marked), contributions, actual_vs_fitted, roi, waterfall, spend_vs_effect, adstock,
        and the diagnostics prior_posterior, trace, rank."""
        params: dict[str, Any] = {"hdi_prob": hdi_prob, "format": "png"}
        if panel is not None:
            params["panel"] = panel
        if structure is not None:
            params["structure"] = structure
        response = await client.request("GET", f"/tasks/{task_id}/plots/{name}",
                                        params=params)
        png = response.content
        if not response.headers.get("content-type", "").startswith("image/png"):
            png = await anyio.to_thread.run_sync(png_of_figure, response.content)
        from bayesmmm.report import PLOTS

        return ({"task_id": task_id, "plot": name, "title": PLOTS.get(name).description,
                 "image": "image/png, attached", "units": {"axes": _PLOT_UNITS.get(name, "")},
                 "interval": interval(hdi_prob, "for the shaded bands and error bars")},
                [png])

    for fn in (get_summary, get_contributions, get_roi, get_response_curves,
               get_diagnostics, get_plot):
        server.add_tool(fn)
