"""Planning tools with a guardrail: optimize_budget, what_if and compare_scenarios.

A plan is only as good as the fit under it. Each planning tool first reads the fit's
verdict (:func:`bayesmmm.report.verdict`, on the fit file the service serves); on
"do not use" (chains that disagree, too few effective draws, divergences above 1% of the
draws, or no fit at all) it refuses, says why and what to run instead, unless the caller
passes ``override_verdict=true``; the answer then carries the override and the verdict,
so that nobody reads the numbers without the warning.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from bayesmmm.mcp._answer import ToolFailure, interval, tool, units_of
from bayesmmm.mcp._client import ServiceClient
from bayesmmm.mcp._fits import FitStore
from bayesmmm.mcp._tools_data import TaskId
from bayesmmm.mcp._tools_results import HdiProb, carried, rerun_advice

__all__ = ["guard", "register"]

Override = Annotated[bool, Field(description=(
    "Answer even when the fit's verdict is 'do not use'. Only when the user explicitly asks "
    "after being told why the fit should not be used; the answer says it was overridden."))]
Periods = Annotated[int, Field(ge=1, description="Horizon in periods of the data (13 = a "
                                                 "quarter of weekly data).")]
Gap = Annotated[int, Field(ge=0, description="Periods of no change before the plan starts.")]
Pattern = Annotated[Literal["flat", "historical"], Field(
    description="Spread spend evenly over the horizon (flat) or like the history.")]


async def guard(client: ServiceClient, fits: FitStore, task_id: str, override: bool,
                action: str) -> dict[str, Any]:
    """The verdict block of a planning answer; a :class:`ToolFailure` refusal when the
    verdict is "do not use" and ``override`` is False."""
    judged = await fits.verdict(task_id)
    block: dict[str, Any] = {"verdict": judged["verdict"], "status": judged["status"]}
    if judged["do_not_use"]:
        if not override:
            status = await client.json("GET", f"/tasks/{task_id}")
            raise ToolFailure(
                "refused_do_not_use",
                f"{action} refused: the fit of task '{task_id}' should not be used "
                f"({judged['verdict']}), so any plan from it could mislead. Run the fit in "
                "run_instead and plan on that; only if the user insists, call again with "
                "override_verdict=true (the answer will carry the warning).",
                verdict=judged["verdict"], reasons=judged["reasons"],
                run_instead=rerun_advice(status, judged))
        block["override"] = {
            "applied": True, "override_verdict": True,
            "warning": f"The caller overrode the guardrail: this fit's verdict is "
                       f"'{judged['verdict']}'. Treat every number below as unreliable and "
                       "say so to the user."}
    elif override:
        block["override"] = {"applied": False, "override_verdict": True,
                             "note": "not needed: the verdict allows planning"}
    return block


def register(server: MCPServer[Any], client: ServiceClient, fits: FitStore) -> None:
    """Add the planning tools to ``server``."""

    @tool
    async def optimize_budget(
        task_id: TaskId, n_periods: Periods,
        budget: Annotated[float | None, Field(gt=0, description="Spend exactly this much "
                                              "in all over the horizon.")] = None,
        target_roi: Annotated[float | None, Field(gt=0, description="The largest budget "
                                                  "whose optimal plan returns this ROI.")] = None,
        target_marginal_roi: Annotated[float | None, Field(
            gt=0, description="Spend until one more unit returns this much.")] = None,
        bounds: Annotated[dict[str, str], Field(description=(
            "Per channel: '0.5:2' (multiples of historical spend), '-30%:+20%', "
            "'100k:300kabs'."))] = {},  # noqa: B006
        fixed: Annotated[list[str], Field(description="Channels kept at their historical "
                                          "spend.")] = [],  # noqa: B006
        objective: Annotated[str, Field(description="mean, a quantile such as q10, or "
                                        "mean-1sd.")] = "mean",
        gap: Gap = 0, pattern: Pattern = "flat", hdi_prob: HdiProb = 0.94,
        override_verdict: Override = False,
    ) -> dict[str, Any]:
        """The best split of a budget over channels for the next n_periods (no budget,
        target_roi or target_marginal_roi: the historical spend over the horizon).
        Refuses on a fit whose verdict is 'do not use'."""
        checked = await guard(client, fits, task_id, override_verdict, "optimize_budget")
        body = {"n_periods": n_periods, "budget": budget, "target_roi": target_roi,
                "target_marginal_roi": target_marginal_roi, "bounds": bounds, "fixed": fixed,
                "objective": objective, "gap": gap, "pattern": pattern, "hdi_prob": hdi_prob}
        plan = await client.json("POST", f"/tasks/{task_id}/optimize",
                                 json={k: v for k, v in body.items() if v is not None})
        spec = await fits.spec(task_id)
        return {**checked, "task_id": task_id, "summary": plan["summary"],
                "channels": plan["channels"], "totals": plan["totals"],
                "notes": plan.get("notes", []), "success": plan.get("success"),
                "horizon_periods": n_periods, **carried(plan),
                "units": {**units_of(spec), "spend columns": f"spend over the {n_periods}-"
                          "period horizon", "sales": "incremental target over the horizon",
                          "change_pct": "percent vs historical"},
                "interval": interval(hdi_prob, "of sales and uplift")}

    @tool
    async def what_if(
        task_id: TaskId, channel: Annotated[str, Field(description="A channel column.")],
        spend_increase: Annotated[float, Field(description="Extra spend over the horizon "
                                               "(negative: a cut).")],
        n_periods: Periods, gap: Gap = 0, pattern: Pattern = "flat",
        break_even: Annotated[float, Field(gt=0, description="ROI at which a change pays "
                                           "for itself.")] = 1.0,
        hdi_prob: HdiProb = 0.94, override_verdict: Override = False,
    ) -> dict[str, Any]:
        """What changing one channel's spend would bring, in plain words and numbers.
        Refuses on a fit whose verdict is 'do not use'."""
        checked = await guard(client, fits, task_id, override_verdict, "what_if")
        answer = await client.json("POST", f"/tasks/{task_id}/what-if", json={
            "channel": channel, "spend_increase": spend_increase, "n_periods": n_periods,
            "gap": gap, "pattern": pattern, "break_even": break_even, "hdi_prob": hdi_prob})
        spec = await fits.spec(task_id)
        return {**checked, "task_id": task_id, "recommendation": answer["recommendation"],
                "answer": answer["answer"], "horizon_periods": n_periods,
                **carried(answer),
                "units": {**units_of(spec), "incremental_sales": "target over the horizon",
                          "prob_profitable": "probability (0 to 1) that ROI > break_even"},
                "interval": interval(hdi_prob, "of incremental sales and ROI")}

    @tool
    async def compare_scenarios(
        task_id: TaskId,
        scenarios: Annotated[dict[str, dict[str, float | str]], Field(
            min_length=1, description="{name: {channel or 'default': percent change}}, "
            "e.g. {\"digital\": {\"tv\": -20, \"search\": \"+30%\"}}.")],
        n_periods: Periods, gap: Gap = 0, pattern: Pattern = "flat",
        hdi_prob: HdiProb = 0.94, override_verdict: Override = False,
    ) -> dict[str, Any]:
        """Named spend scenarios side by side with the current plan: spend, sales and the
        change in sales with intervals, ROI and P(better than current).
        Refuses on a fit whose verdict is 'do not use'."""
        checked = await guard(client, fits, task_id, override_verdict, "compare_scenarios")
        table = await client.json("POST", f"/tasks/{task_id}/scenarios", json={
            "scenarios": scenarios, "n_periods": n_periods, "gap": gap, "pattern": pattern,
            "hdi_prob": hdi_prob})
        spec = await fits.spec(task_id)
        return {**checked, "task_id": task_id, "scenarios": table["scenarios"],
                "horizon_periods": n_periods, **carried(table),
                "units": {**units_of(spec), "spend": "spend over the horizon",
                          "sales": "target over the horizon", "*_pct": "percent",
                          "prob_better": "probability (0 to 1) the scenario beats current"},
                "interval": interval(hdi_prob, "of sales and the change in sales")}

    for fn in (optimize_budget, what_if, compare_scenarios):
        server.add_tool(fn)
