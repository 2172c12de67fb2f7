"""Request and response bodies of the API (pydantic; they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from bayesmmm.analysis import AUTO_ADSTOCKS, AUTO_SATURATIONS
from bayesmmm.model import ModelSpec
from bayesmmm.service.api._limits import FORMS, PLAN, SIZES, SPEC
from bayesmmm.service.api._paging import LIMIT, MAX_LIMIT, MAX_OFFSET
from bayesmmm.service.api._sampler import SamplerChoice
from bayesmmm.service.api._sources import SourceRef
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = [
    "FileRef", "DataColumns", "ModelChoice", "SamplerChoice", "RunMMMRequest",
    "ValidateRequest", "PredictRequest", "SyntheticRequest", "TaskAccepted", "TaskStatus",
    "SecondsEstimate",
    "TaskList", "TaskError", "SummaryRow", "SummaryResponse", "CarryoverRow", "TableResponse",
    "ContributionsResponse", "Paged", "Labelled", "EXPLORE_LIMIT",
    "ValidationResponse", "ErrorBody", "Health", "LIST_FIELDS", "JSON_FIELDS",
    "InspectRequest", "InspectResponse", "ModelOptions", "PlotInfo", "ScenariosRequest",
    "ExploreRequest", "ExploreFigure", "ExploreResponse", "SPEC_DEFAULTS", "PRESET_FIELDS",
    "FormCandidates", "StructureRow", "Structures",
]

#: Defaults of the model fields the schema names, read from ``ModelSpec`` (one definition):
#: real schema defaults, so an assistant importing the OpenAPI document sees them.
SPEC_DEFAULTS: dict[str, Any] = {
    name: f.default for name, f in ModelSpec.__dataclass_fields__.items()
    if name in ("adstock_max_lag", "yearly_seasonality")}
#: Fields whose schema default stands for the preset's value when a request leaves them
#: out (``build_spec`` passes them on only when sent).
PRESET_FIELDS = tuple(SPEC_DEFAULTS)

#: Exploratory figures per exploreData answer, at most (all of them fit in one page of
#: a small table; a larger one is cut by size).
EXPLORE_LIMIT = 20

Status = Literal["pending", "running", "completed", "failed", "cancelled"]
Name = Annotated[str, Field(max_length=SIZES["name"])]
Names = Annotated[list[Name], Field(max_length=SIZES["columns"])]


class FileRef(BaseModel):
    """A file by reference, as ChatGPT actions send it (``openaiFileIdRefs``)."""

    name: str = Field("", max_length=1000, description="File name (shown in messages).")
    id: str = Field("", max_length=1000, description="The assistant's file id (informational).")
    mime_type: str | None = Field(None, max_length=200,
                                  description="text/csv or a Parquet type.")
    download_link: str = Field(max_length=SIZES["link"],
                               description="http(s) URL the service downloads the file from.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _StrictJSON(BaseModel):
    """A JSON-only body: no extra fields, and no coercion (``"4"``, ``4.0`` or ``true``
    for an integer are refused, as they are in multipart forms)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class DataColumns(_Strict):
    """Which columns hold what."""

    date_column: Name = Field(description="Date column (%Y-%m-%d), one row per period.")
    y_column: Name = Field(description="Target (sales) column.")
    channel_columns: Names = Field(min_length=1, description="Media spend columns.")
    control_columns: Names = Field(default_factory=list, description="Control columns.")
    panel_columns: Names = Field(
        default_factory=list, description="Geo/panel key of a long-format table ([] = national).")
    adstock_max_lag: int = Field(
        SPEC_DEFAULTS["adstock_max_lag"], ge=1, le=SPEC["adstock_max_lag"],
        description="Adstock length in periods (a preset's own length when not sent: "
        "carryover's 13).")
    yearly_seasonality: int = Field(
        SPEC_DEFAULTS["yearly_seasonality"], ge=0, le=SPEC["yearly_seasonality"],
        description="Fourier modes of yearly seasonality (0 = none).")
    sep: str | None = Field(None, max_length=1, description="CSV delimiter (default ',').")


class ModelChoice(DataColumns):
    """The model: the columns, the named options, and any other ``ModelSpec`` field."""

    preset: Name | None = Field(
        None, description="classic (default), or LightweightMMM's adstock, hill_adstock, "
        "carryover.")
    adstock: Name | dict[Name, Name] | None = Field(
        None, description="Adstock form for all channels (geometric, delayed, weibull_cdf, "
        "...) or {channel: form}.")
    saturation: Name | dict[Name, Name] | None = Field(
        None, description="Saturation form (logistic, hill, ...) or {channel: form}.")
    trend: Name | None = Field(None, description="none, linear, piecewise, power or smooth.")
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(
        default_factory=list, max_length=SPEC["holidays"],
        description="ISO 3166-1 alpha-2 country codes (US, GB, DE ...) whose public holidays "
        "become controls; getModelOptions lists them.")
    model_options: dict[str, Any] = Field(
        default_factory=dict, max_length=SIZES["model_options"],
        description="Any other ModelSpec field: priors, events, lift_tests, cost_per_unit, "
        "media_prior, geo_shared, trend_changepoints (at most "
        f"{SPEC['trend_changepoints']}), ...")


AdstockName = Literal[tuple(ADSTOCKS.names())]  # type: ignore[valid-type]
SaturationName = Literal[tuple(SATURATIONS.names())]  # type: ignore[valid-type]


class FormCandidates(_Strict):
    """The candidates of a structure search: every adstock x saturation pair is one."""

    adstock: list[AdstockName] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(AUTO_ADSTOCKS), min_length=1,
        max_length=FORMS["per_kind"], description="Candidate adstock forms (default "
        f"{', '.join(AUTO_ADSTOCKS)}; at most {FORMS['per_kind']}).")
    saturation: list[SaturationName] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(AUTO_SATURATIONS), min_length=1,
        max_length=FORMS["per_kind"], description="Candidate saturation forms (default "
        f"{', '.join(AUTO_SATURATIONS)}; at most {FORMS['per_kind']}).")

    @model_validator(mode="after")
    def _few_distinct(self) -> FormCandidates:
        for kind in ("adstock", "saturation"):
            names = getattr(self, kind)
            if len(set(names)) < len(names):
                raise ValueError(f"{kind} names a form twice ({names}); name each once")
        pairs = len(self.adstock) * len(self.saturation)
        if pairs > FORMS["candidates"]:
            raise ValueError(
                f"{len(self.adstock)} adstock x {len(self.saturation)} saturation forms are "
                f"{pairs} candidate structures, over the limit of {FORMS['candidates']} (each "
                "costs a pilot fit); name fewer forms")
        return self


def _forms_kind(value: Any) -> str:
    return "candidates" if isinstance(value, dict | FormCandidates) else "named"


#: runMMMAsync's ``forms``: the spec's own forms, the default search, or chosen candidates.
Forms = Annotated[
    Annotated[Literal["spec", "auto"], Tag("named")]
    | Annotated[FormCandidates, Tag("candidates")],
    Discriminator(_forms_kind)]

FORMS_HELP = (
    "spec (default): fit the model's one adstock and saturation. auto: structure search "
    f"over {'/'.join(AUTO_ADSTOCKS)} x {'/'.join(AUTO_SATURATIONS)} (a short pilot fit "
    "each, full fits of up to 3 survivors, averaged by stacking; about 3x the time of one "
    "fit); or {adstock: [...], saturation: [...]} candidates (at most "
    f"{FORMS['per_kind']} each, {FORMS['candidates']} pairs). Needs chains >= 2, NUTS, no "
    "adstock/saturation field.")


#: The data from a named source, instead of a file or a link.
SOURCE_FIELD = Field(None, description="The table from a source the operator named "
                     "(listSources): {name, table} or {name, query, params}; instead of a "
                     "file or openaiFileIdRefs.")


class RunMMMRequest(ModelChoice, SamplerChoice):  # type: ignore[misc,valid-type]
    """Start a fit. As JSON, the data comes by ``openaiFileIdRefs`` or ``source``; as
    multipart form, the data is the ``file`` part (or ``source`` as JSON text) and list
    fields may repeat or be comma-separated."""

    forms: Forms = Field("spec", description=FORMS_HELP)
    openaiFileIdRefs: list[FileRef] = Field(
        default_factory=list, max_length=SIZES["file_refs"],
        description="The data file by link (exactly one).")
    source: SourceRef | None = SOURCE_FIELD


class ValidateRequest(DataColumns):
    """Check a table without fitting."""

    openaiFileIdRefs: list[FileRef] = Field(default_factory=list,
                                            max_length=SIZES["file_refs"])
    source: SourceRef | None = SOURCE_FIELD


class ExploreRequest(ValidateRequest):
    """Exploratory plots of a table, before any fit."""

    panel: str | None = Field(None, max_length=200, description="Panel data: one panel "
                              "cell's plots (default: the total over cells).")
    offset: int = Field(0, ge=0, le=100, description="First figure of the answer (0; then "
                        "next_offset of the previous answer).")
    limit: int = Field(EXPLORE_LIMIT, ge=1, le=EXPLORE_LIMIT, description="Figures per "
                       "answer; fewer when more would pass 100,000 characters.")
    all_figures: bool = Field(False, description="true: the figures from offset up to limit "
                              "in one answer however large (for drawing programs such as "
                              "the dashboard; an assistant's action takes at most 100,000 "
                              "characters).")


class InspectRequest(_Strict):
    """A table to describe (no columns needed)."""

    sep: str | None = Field(None, max_length=1, description="CSV delimiter (default ',').")
    openaiFileIdRefs: list[FileRef] = Field(default_factory=list,
                                            max_length=SIZES["file_refs"])
    source: SourceRef | None = SOURCE_FIELD


class PredictRequest(_Strict):
    """New periods to predict, with the fitted model's columns."""

    sep: str | None = Field(None, max_length=1)
    openaiFileIdRefs: list[FileRef] = Field(default_factory=list,
                                            max_length=SIZES["file_refs"])
    source: SourceRef | None = SOURCE_FIELD


class SyntheticRequest(_StrictJSON):
    preset: str = Field("small_business", description="small_business, growing_business, "
                        "medium_business or large_business.")
    seed: int = Field(0, ge=0, lt=2**32)
    format: Literal["json", "csv"] = Field(
        "json", description="json: data rows (paged), truth and spec; csv: the whole "
        "table as a file.")
    limit: int = Field(LIMIT, ge=1, le=MAX_LIMIT, description="json: rows per answer (fewer "
                       "when more would pass 100,000 characters).")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="json: first row of the answer "
                        "(next_offset of the previous one).")


#: Form fields that hold lists (repeated, comma-separated or a JSON array).
LIST_FIELDS = ("channel_columns", "control_columns", "panel_columns", "holidays")
#: Form fields that hold JSON objects (or a plain string for adstock/saturation/forms).
JSON_FIELDS = ("model_options", "adstock", "saturation", "forms", "source")


class TaskError(BaseModel):
    code: str = Field(description="Stable name: invalid_data, SpecError, worker_lost, ...")
    message: str = Field(description="What went wrong and how to fix it.")
    details: dict[str, Any] | None = None


_SECONDS: JsonDict = {"x-unit": "seconds"}


class SecondsEstimate(BaseModel):
    """How long the fit is expected to take, in seconds of the fit itself (compilation
    included; queueing, the estimate and saving excluded): the same shape as
    ``bayesmmm.model.estimate_time``'s low, expected and high."""

    model_config = ConfigDict(json_schema_extra=_SECONDS)

    low: float = Field(ge=0, description="Seconds: the short end (half the pilot's leapfrog "
                       "steps per iteration).", json_schema_extra=_SECONDS)
    expected: float = Field(ge=0, description="Seconds: the expected fit time.",
                            json_schema_extra=_SECONDS)
    high: float = Field(ge=0, description="Seconds: the long end (twice the pilot's steps "
                        "per iteration, 3x its compilation).", json_schema_extra=_SECONDS)


class StructureRow(BaseModel):
    """One candidate structure of an averaged fit (``forms``), from its comparison."""

    structure: str = Field(description="Its label: adstock+saturation.")
    adstock: str
    saturation: str
    weight: float = Field(ge=0, le=1, description="Stacking weight: its share of the "
                          "answers' posterior draws (0: left out).")
    elpd_loo: float | None = Field(description="PSIS-LOO expected log predictive density "
                                   "of its full fit (higher predicts better); null: pruned.")
    pilot_elpd: float | None = Field(description="The same, of its short pilot fit.")
    survived_pilot: bool = Field(description="Whether it got a full fit.")
    why_left_out: str = Field(description="Why it carries no weight (empty: it carries).")


class Structures(BaseModel):
    """Which structures carry the weight: null for a fit of one structure."""

    structures: list[StructureRow] | None = Field(
        None, description="Averaged fits (forms): each candidate structure with its "
        "stacking weight, ELPD and why it was left out, heaviest first; null: one structure.")
    carried_by: str | None = Field(
        None, description="In words: the structures that carry the weight and their shares.")


class TaskAccepted(BaseModel):
    task_id: str
    status: Status
    data_warnings: list[dict[str, Any]] = Field(
        default_factory=list, description="Validation warnings (the fit goes ahead).")
    estimated_seconds: SecondsEstimate | None = Field(
        None, description="Seconds the fit should take (low, expected, high). Null here: "
        "the time depends on the posterior's geometry, measured by a pilot chain on a "
        "worker; read it from getTaskStatus.", json_schema_extra=_SECONDS)
    estimate_note: str | None = Field(None, description="Why estimated_seconds is null.")
    links: dict[str, str] = Field(default_factory=dict)


class TaskStatus(Structures):
    task_id: str
    status: Status
    progress: float = Field(description="0 to 1.")
    phase: str | None = Field(None, description="queued, starting, warmup, sampling, ...; "
                              "a structure search: pilots, fits.")
    attempts: int = Field(description="Runs started (a lost worker's run counts).")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds_queued: float | None = None
    seconds_running: float | None = None
    input_name: str
    spec: dict[str, Any]
    sampler: dict[str, Any]
    forms: str | dict[str, list[str]] = Field(
        "spec", description="spec: the spec's own forms; auto or {adstock, saturation}: a "
        "structure search whose answers are averaged over structures (structures says "
        "which carry the weight once completed).")
    data_warnings: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list,
                                description="Convergence warnings of a completed fit.")
    fit_metrics: dict[str, float] | None = None
    verdict: dict[str, str] | None = Field(
        None, description="Whether the fit can be trusted: status (ok, care, bad) and the "
        "headline in plain words (bayesmmm.analysis.verdict).")
    fit_seconds: dict[str, float] | None = Field(
        None, description="Sampler timings: seconds_total, seconds_warmup, seconds_sampling "
        "(a structure search: seconds_total, seconds_pilots).")
    estimated_seconds: SecondsEstimate | None = Field(
        None, description="Seconds the fit should take (low, expected, high), from a pilot "
        "chain on the data run by the worker before the fit; null until then, or when "
        "not estimated (estimate_note says why).", json_schema_extra=_SECONDS)
    estimate_note: str | None = Field(
        None, description="How estimated_seconds was made, or why it is null.")
    actual_seconds: float | None = Field(
        None, ge=0, description="Seconds the fit took (fit_seconds.seconds_total), to "
        "compare with estimated_seconds; null until completed.", json_schema_extra=_SECONDS)
    divergences: int | None = None
    error: TaskError | None = None
    links: dict[str, str] = Field(default_factory=dict)


class TaskList(BaseModel):
    tasks: list[TaskStatus]
    total: int = Field(description="Tasks of the caller (with the status asked for).")
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="offset of the next page (null: "
                                    "this is the last).")


class SummaryRow(BaseModel):
    """One parameter. The HDI columns are named as ArviZ names them for ``hdi_prob``:
    hdi_3% and hdi_97% for the default 0.94, hdi_5% and hdi_95% for 0.9."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    parameter: str
    mean: float | None
    sd: float | None
    hdi_3: float | None = Field(alias="hdi_3%")
    hdi_97: float | None = Field(alias="hdi_97%")
    ess_bulk: float | None
    ess_tail: float | None
    r_hat: float | None


class CarryoverRow(BaseModel):
    """One channel's adstock half-life and peak lag, in periods of the data."""

    model_config = ConfigDict(populate_by_name=True)

    channel: str
    adstock: str = Field(description="The channel's adstock form.")
    half_life: float | None = Field(description="Posterior mean: periods from the spend "
                                    "until its weight falls to half its peak.")
    half_life_sd: float | None
    half_life_hdi_3: float | None = Field(alias="half_life_hdi_3%")
    half_life_hdi_97: float | None = Field(alias="half_life_hdi_97%")
    peak_lag: float | None = Field(description="Posterior mean of the lag of the largest "
                                   "weight (0: strongest in the period of spend).")
    peak_lag_hdi_3: float | None = Field(alias="peak_lag_hdi_3%")
    peak_lag_hdi_97: float | None = Field(alias="peak_lag_hdi_97%")
    beyond_window: float | None = Field(description="Share of draws whose half-life is "
                                        "beyond the adstock window (adstock_max_lag).")


class Paged(BaseModel):
    """Where a page of rows lies in the whole answer."""

    total_rows: int = Field(description="Rows of the whole answer.")
    limit: int = Field(description="The most rows this answer could hold (fewer when more "
                       "would pass 100,000 characters).")
    offset: int = Field(description="Index of this answer's first row.")
    next_offset: int | None = Field(description="offset of the next page; null: this is "
                                    "the last.")


class Labelled(BaseModel):
    """What the numbers are in."""

    units: dict[str, str] = Field(default_factory=dict,
                                  description="Column (or quantity) -> its unit in words.")
    interval: str | None = Field(None, description="Which interval the HDI columns give.")


class SummaryResponse(Paged, Labelled, Structures):
    task_id: str
    summary: list[SummaryRow] = Field(
        description="One row per parameter (PyMC-Marketing's names, scaled units), paged.")
    carryover: list[CarryoverRow] = Field(
        default_factory=list, description="Per channel: adstock half-life and peak lag in "
        "periods, with the same HDI (bayesmmm.analysis.half_life); on every page.")


class TableResponse(Paged, Labelled, Structures):
    task_id: str
    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="This page's rows.")


class ContributionsResponse(TableResponse):
    by: Literal["channel", "component"] = Field(
        description="channel: each channel and 'base' (intercept, trend, controls and "
        "seasonality together); component: every component.")
    freq: Literal["none", "W", "M", "Q", "Y"] = Field(
        description="Sums per calendar week, month, quarter or year; none: every period.")


class ValidationResponse(BaseModel):
    ok: bool
    n_rows: int
    frequency: str | None
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class ExploreFigure(BaseModel):
    name: str = Field(description="spend_over_time, spend_monthly, spend_quarterly, "
                      "sales_over_time, sales_vs_spend, total_spend, correlation, "
                      "seasonality_by_week, seasonality_by_month, outliers.")
    figure: dict[str, Any] = Field(description="Plotly figure JSON: {data, layout}.")


class ExploreResponse(BaseModel):
    name: str = Field(description="The file's name.")
    n_periods: int
    frequency: str | None
    start: str = Field(description="First date (%Y-%m-%d).")
    end: str = Field(description="Last date (%Y-%m-%d).")
    panel: str | None = Field(description="The panel cell shown (null: the total).")
    panels: list[str] = Field(description="Panel cells of the data (empty: one series).")
    outliers: list[str] = Field(description="Dates whose target is flagged as an outlier.")
    warnings: list[dict[str, Any]] = Field(description="Validation warnings (no errors: "
                                           "data with errors answers 422).")
    figures: list[ExploreFigure] = Field(description="This page of the exploratory plots, "
                                         "in reading order, as bayesmmm.report.eda_figures "
                                         "draws them.")
    total_figures: int = Field(description="Figures of the whole answer.")
    offset: int = Field(description="Index of this answer's first figure.")
    next_offset: int | None = Field(description="offset of the next figures; null: none "
                                    "follow.")


class ErrorBody(BaseModel):
    detail: str = Field(description="What is wrong and how to fix it.")
    code: str
    validation: dict[str, Any] | None = Field(
        None, description="For invalid data: every problem with its rule and fix.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="For an invalid request: each field and what is wrong with it.")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: str = Field(description="ok, or what is wrong: unreachable, read_only, "
                          "locked, full.")
    executor: dict[str, Any] = Field(description="Workers and threads (the scheduler's "
                                     "address only for a caller with an API key).")
    store: dict[str, Any] = Field(default_factory=dict, description="writable (a probe "
                                  "write just now), reason, and the last refused write.")
    dispatcher: dict[str, Any] = Field(default_factory=dict, description="ok, or failing "
                                       "with the reason and since when.")


_N_PERIODS = Field(ge=1, le=PLAN["n_periods"], description="Horizon in periods of the data "
                   f"(13 = a quarter of weekly data; at most {PLAN['n_periods']:g}).")
_GAP = Field(0, ge=0, le=PLAN["gap"], description="Periods of no spend before the plan "
             f"starts (at most {PLAN['gap']:g}).")


class OptimizeRequest(_StrictJSON):
    """A budget question: at most one of budget, target_roi and target_marginal_roi (none:
    the historical spend over ``n_periods``)."""

    n_periods: int = _N_PERIODS
    budget: float | None = Field(None, gt=0, le=PLAN["budget"], description="Spend exactly "
                                 f"this much in all (at most {PLAN['budget']:g}).")
    target_roi: float | None = Field(None, gt=0, le=PLAN["target_roi"], description="The "
                                     "largest budget whose optimal plan still returns this "
                                     "ROI.")
    target_marginal_roi: float | None = Field(
        None, gt=0, le=PLAN["target_marginal_roi"], description="Spend until one more unit "
        "returns this much in every channel.")
    bounds: dict[Name, Annotated[str, Field(max_length=100)]] = Field(
        default_factory=dict, max_length=SIZES["bounds"], description="Per channel: '0.5:2' "
        "(multiples of historical spend), '-30%:+20%', '100k:300kabs'.")
    fixed: list[Name] = Field(default_factory=list, max_length=SIZES["bounds"],
                              description="Channels kept at their historical spend.")
    objective: str = Field("mean", max_length=50,
                           description="mean, a quantile such as q10, or mean-1sd.")
    gap: int = _GAP
    pattern: Literal["flat", "historical"] = "flat"
    seed: int = Field(0, ge=0, lt=2**32)
    hdi_prob: float = Field(0.94, gt=0, lt=1)


class WhatIfRequest(_StrictJSON):
    channel: Name
    spend_increase: float = Field(ge=-PLAN["spend_increase"], le=PLAN["spend_increase"],
                                  description="Extra spend over the horizon (negative: a cut; "
                                  f"at most {PLAN['spend_increase']:g} either way).")
    n_periods: int = _N_PERIODS
    gap: int = _GAP
    pattern: Literal["flat", "historical"] = "flat"
    break_even: float = Field(1.0, gt=0, le=PLAN["break_even"],
                              description="ROI at which a change pays for itself.")
    hdi_prob: float = Field(0.94, gt=0, lt=1)


class ColumnGuess(BaseModel):
    date_column: str | None = Field(description="A column of dates (None: none found).")
    y_column: str | None = Field(description="A sales/revenue-like column (None: none found).")
    channel_columns: list[str] = Field(description="Spend, impressions or media columns.")
    control_columns: list[str] = Field(description="The other numeric columns.")
    panel_columns: list[str] = Field(description="Geo/panel key columns of a long table.")
    unused: list[str] = Field(description="Calendar helpers and other text columns.")


class InspectResponse(BaseModel):
    name: str = Field(description="The file's name.")
    n_rows: int
    columns: list[dict[str, Any]] = Field(
        description="Per column: name, kind (date, number, text), n_missing, examples.")
    guess: ColumnGuess = Field(description="A first guess of each column's role, to confirm.")


class PlotInfo(BaseModel):
    name: str
    group: str = Field(description="results or diagnostics.")
    description: str = Field(description="What the plot shows, in a few words.")


class ModelOptions(BaseModel):
    presets: list[str]
    adstocks: list[str]
    saturations: list[str]
    trends: list[str]
    plots: list[str] = Field(description="Names getPlot draws.")
    plot_info: list[PlotInfo] = Field(
        default_factory=list, description="The plots getPlot draws, in reading order, with "
        "their group and description (bayesmmm.report.PLOTS).")
    defaults: dict[str, Any] = Field(description="runMMMAsync's defaults.")
    structure_search: dict[str, Any] = Field(
        default_factory=dict, description="runMMMAsync's forms: the default candidates "
        "(adstock, saturation) and the limits (per_kind, candidates).")
    holiday_countries: list[str] = Field(
        default_factory=list, description="Country codes runMMMAsync's holidays accepts.")
    distributions: dict[str, list[str]] = Field(
        default_factory=dict, description="Prior distributions and their parameters, for "
        "model_options.priors: {parameter: {dist, params}}.")
    priors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Default prior of every parameter name a model "
        "can have (over all forms and trends), as {dist, params}.")


Percent = float | Annotated[str, Field(max_length=30)]


class ScenariosRequest(_StrictJSON):
    """Named scenarios as percent changes of spend per channel (``default``: the rest)."""

    scenarios: dict[Name, Annotated[dict[Name, Percent],
                                    Field(max_length=int(PLAN["scenario_changes"]))]] = Field(
        min_length=1, max_length=int(PLAN["scenarios"]),
        description="{name: {channel or 'default': percent change}}, e.g. {\"digital\": "
        "{\"tv\": -20, \"search\": \"+30%\"}}; at most "
        f"{PLAN['scenarios']:g} scenarios, changes from -100 to +{PLAN['percent_change']:g}%.")
    n_periods: int = _N_PERIODS
    gap: int = _GAP
    pattern: Literal["flat", "historical"] = "flat"
    hdi_prob: float = Field(0.94, gt=0, lt=1)

    @field_validator("scenarios")
    @classmethod
    def _percent_text(cls, value: dict[str, dict[str, float | str]]
                      ) -> dict[str, dict[str, float | str]]:
        """At most +``PLAN['percent_change']`` %, as a number or as text ('+30%'); the
        library refuses cuts of more than 100% and text that is no percentage."""
        for name, changes in value.items():
            for channel, change in changes.items():
                try:
                    number = float(change.strip().rstrip("%").strip()) if isinstance(
                        change, str) else float(change)
                except ValueError:
                    continue
                if number > PLAN["percent_change"]:
                    raise ValueError(f"scenario {name!r}, channel {channel!r}: {change!r} is "
                                     f"over the limit of +{PLAN['percent_change']:g}%")
        return value
