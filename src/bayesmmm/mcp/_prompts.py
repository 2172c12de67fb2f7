"""What the MCP server tells an assistant: its instructions, the workflow prompts and
the resources of a task (the same answers as the tools, readable by URI)."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

__all__ = ["INSTRUCTIONS", "register"]

INSTRUCTIONS = """\
BayesMMM fits Bayesian marketing mix models on a service; you drive it with these tools.
- The data: a path, a link or CSV text as data, or a table of a source the service's
  operator named (list_sources shows them) as source={name, table}.
- Validate first (validate_data). When it finds problems, give the user its fix_code and
  let them run it on their file; never edit or re-create their data yourself.
- Never fit a model yourself (no local code, no guessing numbers): start_fit runs it on the
  service and returns a task_id at once. Say that fits take minutes.
- While it runs, poll get_status every 10-30 s and use the time: explore the data with the
  user, agree on the questions, explain what the results will show.
- When it completes, call get_diagnostics before anything else. On "do not use", say why
  and offer run_instead; planning tools refuse such fits unless the user insists
  (override_verdict=true), and then the warning goes with every number.
- Answer concisely: bullet points, the formula when it helps (ROI = incremental sales /
  spend), numbers with their units and interval as the tools give them.
- Prefer a plot (get_plot) to a paragraph: saturation for diminishing returns, contributions
  for what drove sales, roi for value for money, actual_vs_fitted for fit quality."""

_WORKFLOW = """\
You are helping a marketer answer a budget question with a Bayesian marketing mix model
(BayesMMM). Work in four steps and keep each answer short.

1. Validate. Call validate_data on {data}. If it lists the columns without checking
   them, confirm the date, target, channel and control columns with the user first. If it
   finds problems, show them as a bullet list and hand over fix_code for the user to
   run; validate the fixed file again. Do not fix the data yourself.
2. Fit. Call start_fit with the confirmed columns (defaults: adstock_max_lag 8,
   yearly_seasonality 2, 4 chains x 1000 warm-up x 1000 draws). Tell the user the fit
   runs on the service and takes minutes. Never fit or simulate a model yourself.
3. Explore while waiting. Poll get_status every 10-30 s (it estimates the time left).
   Meanwhile discuss the data: which channels moved together, seasonality, gaps, what
   question the model should answer{question}.
4. Interpret. Start with get_diagnostics: "can be trusted", "use with care" (say the
   caveat) or "do not use" (say why; offer run_instead; do not plan on it). Then:
   - get_roi: ROI = incremental sales / spend, with its interval; rank the channels.
   - get_contributions: what drove sales, per quarter; share of each channel.
   - get_response_curves and get_plot name=saturation: where each channel saturates
     (marginal ROI = d sales / d spend; spend beyond saturation_spend returns little).
   - optimize_budget / what_if / compare_scenarios for the decision, over an explicit
     horizon (n_periods).
   Report in bullet points, every number with its unit and interval; prefer a plot to a
   paragraph."""

_INTERPRET = """\
Explain the results of BayesMMM task {task_id} to a marketer, concisely.
- First get_diagnostics. If the verdict is "do not use", stop there: say why in one line
  per reason and offer run_instead.
- Then get_roi and get_plot name=roi: rank channels by ROI (incremental sales / spend);
  say when intervals overlap so the ranking is uncertain.
- get_contributions (per quarter): baseline vs media; each channel's share.
- get_plot name=saturation and get_response_curves: which channels have room to grow
  (marginal ROI above break-even at current spend) and which are saturated.
Bullet points, units and intervals with every number, no more than a dozen lines."""


def register(server: MCPServer[Any]) -> None:
    """Add the prompts and resources to ``server`` (resources answer through its tools)."""

    @server.prompt(name="mmm_workflow", title="Marketing mix analysis, step by step")
    def mmm_workflow(data: str = "", question: str = "") -> str:
        """Validate the data, start the fit, explore while it runs, then interpret it."""
        where = data or "the user's table (a path, a link or CSV text)"
        asked = f" (the user asked: {question})" if question else ""
        return _WORKFLOW.format(data=where, question=asked)

    @server.prompt(name="interpret_fit", title="Explain a completed fit")
    def interpret_fit(task_id: str) -> str:
        """Read a completed fit's diagnostics, ROI, contributions and curves, briefly."""
        return _INTERPRET.format(task_id=task_id)

    async def through(name: str, arguments: dict[str, Any]) -> str:
        result: Any = await server.call_tool(name, arguments)
        text = "".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            raise ResourceError(text)
        return text

    @server.resource("bayesmmm://guide/workflow", name="workflow", mime_type="text/markdown",
                     description="How to analyse a marketing mix with these tools.")
    def workflow() -> str:
        return INSTRUCTIONS + "\n\n" + _WORKFLOW.format(
            data="the user's table", question="")

    @server.resource("bayesmmm://tasks/{task_id}/status", name="task_status",
                     mime_type="application/json", description="get_status of a task.")
    async def status(task_id: str) -> str:
        return await through("get_status", {"task_id": task_id})

    @server.resource("bayesmmm://tasks/{task_id}/summary", name="task_summary",
                     mime_type="application/json", description="get_summary of a fit.")
    async def summary(task_id: str) -> str:
        return await through("get_summary", {"task_id": task_id})

    @server.resource("bayesmmm://tasks/{task_id}/roi", name="task_roi",
                     mime_type="application/json", description="get_roi of a fit.")
    async def roi(task_id: str) -> str:
        return await through("get_roi", {"task_id": task_id})

    @server.resource("bayesmmm://tasks/{task_id}/contributions", name="task_contributions",
                     mime_type="application/json",
                     description="get_contributions of a fit (per quarter).")
    async def contributions(task_id: str) -> str:
        return await through("get_contributions", {"task_id": task_id})

    @server.resource("bayesmmm://tasks/{task_id}/diagnostics", name="task_diagnostics",
                     mime_type="application/json", description="get_diagnostics of a fit.")
    async def diagnostics(task_id: str) -> str:
        return await through("get_diagnostics", {"task_id": task_id})
