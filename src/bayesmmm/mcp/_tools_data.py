"""Tools before and during a fit: list_sources, validate_data, start_fit, get_status,
cancel_fit.

start_fit's sampler parameters are made from :class:`bayesmmm.SamplerOptions` (its
defaults, help texts, bounds and choices), as runMMMAsync's and ``bayesmmm fit``'s are.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, ConfigDict, Field

from bayesmmm.mcp._answer import tool
from bayesmmm.mcp._client import (
    DATA_HOW,
    SOURCE_HOW,
    DataSource,
    ServiceClient,
    data_source,
    named_source,
)

__all__ = ["NamedSourceArg", "register", "sampler_parameters"]

Data = Annotated[str | None, Field(description=(
    "The table: " + DATA_HOW + ". One row per period (and per panel cell for geo data). "
    "Leave it out to read a named source instead (source)."))]


class NamedSourceArg(BaseModel):
    """A table the service reads from a source its operator named (list_sources)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, description="A source list_sources shows.")
    table: str | None = Field(None, max_length=256, description="One of the source's "
                              "tables, read whole.")
    query: str | None = Field(None, max_length=20_000, description="One SELECT, where the "
                              "source allows queries; :name placeholders take params.")
    params: dict[Annotated[str, Field(max_length=64)],
                 Annotated[str, Field(max_length=1000)] | int | float | bool | None] = Field(
        default_factory=dict, max_length=50, description="Values of the query's :name "
        "placeholders.")


Source = Annotated[NamedSourceArg | None, Field(description=(
    "Instead of data: a table from a source the service's operator named, e.g. "
    "{\"name\": \"warehouse\", \"table\": \"weekly_sales\"}; list_sources shows "
    "them and what each allows."))]
TaskId = Annotated[str, Field(description="The task_id start_fit returned.", max_length=64,
                              pattern=r"^[A-Za-z0-9_-]+$")]
Sep = Annotated[str | None, Field(description="CSV delimiter (default ',').",
                                  max_length=1)]

_UNITS_NONE = {"counts": "rows and problems are counts; no estimates are reported"}
_NO_INTERVAL = "none: this answer reports no estimates"


def sampler_parameters() -> list[inspect.Parameter]:
    """Keyword parameters for every sampler option: its type (choices as a Literal), its
    library default, help text and bounds (the request limit as the upper bound)."""
    from bayesmmm.model import SamplerOptions, default_of, option_fields

    kinds = get_type_hints(SamplerOptions)
    out = []
    for option in option_fields():
        info = option.metadata["option"]
        kind: Any = Literal[info.choices] if info.choices else kinds[option.name]
        annotated = Annotated[kind, Field(description=info.help, **info.bounds())]
        out.append(inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY,
                                     default=default_of(option), annotation=annotated))
    return out


def _fix_code(source: DataSource, report: dict[str, Any], sep: str | None = None
              ) -> str | None:
    """The problems' fixes as one pandas script to hand back to the user (it writes a
    new file; the user runs it, nothing here changes their data)."""
    fixes = [p for p in [*report.get("errors", []), *report.get("warnings", [])] if p.get("fix")]
    if not fixes:
        return None
    where = source.link or source.path or "your_data.csv"
    reader = "read_parquet" if str(where).lower().endswith(".parquet") else "read_csv"
    options = f", sep={sep!r}" if sep and reader == "read_csv" else ""
    lines = ["import pandas as pd", "", f"df = pd.{reader}({str(where)!r}{options})"]
    lines += [f"# [{p['code']}] {p.get('column') or 'table'}: {p['message']}\n{p['fix']}"
              for p in fixes]
    stem = Path(source.name).stem or "data"
    lines.append(f"df.to_csv({stem + '_fixed.csv'!r}, index=False)")
    return "\n".join(lines)


def _eta(status: dict[str, Any]) -> tuple[float | None, str]:
    """Seconds left, and how that was estimated."""
    state, progress = status["status"], float(status.get("progress") or 0.0)
    running = status.get("seconds_running")
    if state != "running":
        return (0.0, "finished") if state in ("completed", "failed", "cancelled") else \
            (None, "not started yet: it waits for the fits ahead of it")
    if not running or progress < 0.02:
        estimated = status.get("estimated_seconds")
        if estimated and running is not None:
            return (max(float(estimated["expected"]) - running, 0.0),
                    "the worker's pilot-chain estimate (estimated_seconds) less the time "
                    "run so far")
        return None, "just started (compiling the model): ask again in a few seconds"
    return (running * (1 - progress) / progress,
            "rough: elapsed time scaled by the progress so far (warm-up and draws)")


_NEXT = {
    "pending": "Queued. Poll get_status every 10-30 s; meanwhile explore the data with the "
               "user (spend over time, correlations) or agree on the questions to answer.",
    "running": "Fitting. Poll get_status every 10-30 s; meanwhile tell the user what the "
               "results will show and what to look at first.",
    "completed": "Done. Call get_diagnostics first (can the results be used?), then "
                 "get_roi, get_contributions, get_response_curves and get_plot.",
    "failed": "Failed: tell the user error.message (it says what to change), fix the data "
              "or options and call start_fit again.",
    "cancelled": "Cancelled: start_fit again if the user still wants this model.",
}


def status_answer(status: dict[str, Any]) -> dict[str, Any]:
    """getTaskStatus, compacted for an assistant, with a time-left estimate."""
    left, basis = _eta(status)
    spec = status.get("spec") or {}
    keep = ("task_id", "status", "phase", "progress", "attempts", "seconds_queued",
            "seconds_running", "estimated_seconds", "estimate_note", "actual_seconds",
            "input_name", "sampler", "forms", "warnings", "divergences", "fit_metrics",
            "data_warnings", "error", "structures", "carried_by")
    out = {k: status.get(k) for k in keep}
    searched = status.get("forms") not in (None, "spec")  # the forms are the search's
    out["model"] = {k: spec.get(k) for k in ("date_column", "y_column", "channel_columns",
                                             "control_columns", "adstock", "saturation",
                                             "trend") if k in spec
                    and not (searched and k in ("adstock", "saturation"))}
    out.update(seconds_left_estimate=left, estimate_basis=basis,
               next_step=_NEXT.get(status["status"], ""),
               units={"progress": "fraction of warm-up plus draws done (0 to 1)",
                      "seconds_*": "seconds", "estimated_seconds": "seconds of the whole "
                      "fit (low, expected, high)", "actual_seconds": "seconds the fit took",
                      "fit_metrics": "r2 and coverage as fractions, "
                      "mape in percent, durbin_watson unitless"},
               interval="estimated_seconds is a range (low to high: half to twice the "
                        "pilot chain's steps per iteration); the time left is a point "
                        "estimate")
    return out


def register(server: MCPServer[Any], client: ServiceClient, *, allow_paths: bool,
             root: Path | None) -> None:
    """Add list_sources, validate_data, start_fit, get_status and cancel_fit to
    ``server``."""
    from bayesmmm.errors import DataLoadError

    def source_of(data: str | None, source: NamedSourceArg | None) -> DataSource:
        if source is not None:
            if data:
                raise DataLoadError("the table was given twice: data and source. Fix: pass "
                                    "one of them")
            return named_source(source.model_dump(exclude_none=True))
        if not (data or "").strip():
            raise DataLoadError(f"no data given. Fix: {DATA_HOW}, {SOURCE_HOW}")
        return data_source(data or "", allow_paths=allow_paths, root=root)

    @tool
    async def list_sources() -> dict[str, Any]:
        """The data sources the service's operator named: each one's kind, description,
        the tables that may be read whole and whether a SELECT may be sent. Pass
        source={name, table} (or {name, query, params}) to validate_data or start_fit
        instead of data; the addresses stay on the service."""
        sources = (await client.json("GET", "/sources"))["sources"]
        step = ("Ask the user which source and table hold the weekly data, then call "
                "validate_data with source={name, table}." if sources else
                "No named sources: pass the table as data (a path, a link or CSV text).")
        return {"sources": sources, "next_step": step,
                "units": {"sources": "names and settings; no numbers are reported"},
                "interval": _NO_INTERVAL}

    @tool
    async def validate_data(
        data: Data = None,
        date_column: Annotated[str | None, Field(description="Date column.")] = None,
        y_column: Annotated[str | None, Field(description="Target (sales) column.")] = None,
        channel_columns: Annotated[list[str] | None, Field(
            description="Media spend columns.")] = None,
        control_columns: Annotated[list[str] | None, Field(
            description="Control columns (price, promotions, events...).")] = None,
        panel_columns: Annotated[list[str] | None, Field(
            description="Geo/panel key columns of a long table (none: national).")] = None,
        sep: Sep = None,
        source: Source = None,
    ) -> dict[str, Any]:
        """Check a table before fitting: every problem with its rule and the pandas code
        that fixes it (hand that code to the user; nothing here edits their data).
        Without date_column, y_column and channel_columns it lists the columns and a
        guess of their roles to confirm first. The table: data, or a named source."""
        table = source_of(data, source)
        if not (date_column and y_column and channel_columns):
            seen = await client.submit("/inspect", table, {"sep": sep})
            return {"columns_needed": True, "name": seen["name"], "n_rows": seen["n_rows"],
                    "columns": seen["columns"], "guess": seen["guess"],
                    "next_step": "Confirm the guess with the user, then call validate_data "
                                 "again with date_column, y_column and channel_columns.",
                    "units": _UNITS_NONE, "interval": _NO_INTERVAL}
        fields = {"date_column": date_column, "y_column": y_column,
                  "channel_columns": channel_columns, "control_columns": control_columns,
                  "panel_columns": panel_columns, "sep": sep}
        report = await client.submit("/validate", table, fields)
        errors, warnings = report.get("errors", []), report.get("warnings", [])
        problems = [{k: p.get(k) for k in ("severity", "code", "column", "message", "rule",
                                           "fix")} for p in [*errors, *warnings]]
        return {"ok": report["ok"], "n_rows": report.get("n_rows"),
                "frequency": report.get("frequency"),
                "summary": f"{len(errors)} error(s), {len(warnings)} warning(s)",
                "problems": problems, "fix_code": _fix_code(table, report, sep),
                "next_step": ("Ready: call start_fit with the same columns." if report["ok"]
                              else "Give the user fix_code to run on their file, then "
                                   "validate the fixed file again. Do not fix it yourself."),
                "units": _UNITS_NONE, "interval": _NO_INTERVAL}

    async def start_fit(
        *, data: Data = None, source: Source = None,
        date_column: Annotated[str, Field(description="Date column.")],
        y_column: Annotated[str, Field(description="Target (sales) column.")],
        channel_columns: Annotated[list[str], Field(min_length=1,
                                                    description="Media spend columns.")],
        control_columns: Annotated[list[str], Field(description="Control columns.")] = [],  # noqa: B006
        panel_columns: Annotated[list[str], Field(
            description="Geo/panel key columns ([]: national).")] = [],  # noqa: B006
        adstock_max_lag: Annotated[int, Field(ge=1, description="Adstock length in "
                                              "periods.")] = 8,
        yearly_seasonality: Annotated[int, Field(ge=0, description="Fourier modes of yearly "
                                                 "seasonality (0: none).")] = 2,
        preset: Annotated[str | None, Field(description="classic (default), adstock, "
                                            "hill_adstock or carryover.")] = None,
        adstock: Annotated[str | dict[str, str] | None, Field(
            description="Adstock form (geometric, delayed, weibull_cdf, ...) or "
            "{channel: form}.")] = None,
        saturation: Annotated[str | dict[str, str] | None, Field(
            description="Saturation form (logistic, hill, ...) or {channel: form}.")] = None,
        trend: Annotated[str | None, Field(description="none, linear, piecewise, power or "
                                           "smooth.")] = None,
        holidays: Annotated[list[str], Field(description="Country codes whose holidays "
                                             "become controls.")] = [],  # noqa: B006
        model_options: Annotated[dict[str, Any], Field(
            description="Any other ModelSpec field: priors, events, lift_tests, "
            "cost_per_unit, media_prior, ...")] = {},  # noqa: B006
        forms: Annotated[Literal["spec", "auto"] | dict[str, list[str]], Field(
            description="spec: fit one adstock + saturation. auto: search the structure "
            "(a pilot fit per candidate, full fits of up to 3 survivors, averaged by "
            "stacking): about 3x the time of one fit, answers say which structures carry "
            "the weight. Or {adstock: [...], saturation: [...]}: the candidates (at most 9 "
            "pairs). Needs chains >= 2; leave adstock/saturation out.")] = "spec",
        sep: Sep = None, **sampler: Any,
    ) -> dict[str, Any]:
        """Start a Bayesian MMM fit on the service and return its task_id at once (fits
        take minutes: poll get_status). Validate the data first with validate_data.
        forms='auto' averages over structures when the forms are unknown (slower). The
        table: data, or a named source."""
        from bayesmmm.model import SamplerOptions

        defaults = SamplerOptions().to_dict()
        changed = {k: v for k, v in sampler.items() if v != defaults.get(k)}
        fields = {"date_column": date_column, "y_column": y_column,
                  "channel_columns": channel_columns, "control_columns": control_columns,
                  "panel_columns": panel_columns, "adstock_max_lag": adstock_max_lag,
                  "yearly_seasonality": yearly_seasonality, "preset": preset,
                  "adstock": adstock, "saturation": saturation, "trend": trend,
                  "holidays": holidays, "model_options": model_options or None, "sep": sep,
                  "forms": None if forms == "spec" else forms, **changed}
        accepted = await client.submit("/tasks", source_of(data, source), fields)
        return {"task_id": accepted["task_id"], "status": accepted["status"],
                "data_warnings": accepted.get("data_warnings", []),
                "sampler": {**defaults, **changed}, "forms": forms,
                "next_step": "Tell the user the fit runs on the service and takes minutes. "
                             "Poll get_status every 10-30 s; meanwhile explore the data or "
                             "agree on the questions to answer.",
                "units": {"sampler": "chains, warm-up and draws are counts per chain"},
                "interval": _NO_INTERVAL}

    base = inspect.signature(start_fit, eval_str=True)
    params = [p for p in base.parameters.values() if p.kind != p.VAR_KEYWORD]
    start_fit.__signature__ = base.replace(  # type: ignore[attr-defined]
        parameters=params + sampler_parameters())

    @tool
    async def get_status(task_id: TaskId) -> dict[str, Any]:
        """A fit's status (pending, running, completed, failed, cancelled), progress, the
        fit's estimated seconds (low, expected, high; actual once done) and the time
        left; on failure, the message saying what to change."""
        return status_answer(await client.json("GET", f"/tasks/{task_id}"))

    @tool
    async def cancel_fit(task_id: TaskId) -> dict[str, Any]:
        """Cancel a pending or running fit."""
        status = await client.json("POST", f"/tasks/{task_id}/cancel")
        return {**status_answer(status), "cancelled": status["status"] == "cancelled"}

    for fn in (list_sources, validate_data, tool(start_fit), get_status, cancel_fit):
        server.add_tool(fn)
