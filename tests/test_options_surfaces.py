"""Every sampler option reaches every surface: ``bm.fit``'s keywords, the CLI's flags,
the config file (top level and ``[sampler]``) and the service's runMMMAsync schema.

The surfaces are derived from :func:`bayesmmm.options.option_fields`; these tests
walk that list, so an option added there and missing on any surface fails here. No
sampling happens: ``bayesmmm.fit`` is replaced by a stub that records its keywords.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import Field
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import typer
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.cli import app
from bayesmmm.errors import BayesMMMError
from bayesmmm.model import default_of, option_fields
from bayesmmm.service import Settings, create_app
from bayesmmm.service.api._sampler import SamplerChoice, sampler_options
from bayesmmm.service.api._schemas import RunMMMRequest

OPTIONS = option_fields()
IDS = [f.name for f in OPTIONS]
COLUMNS = {"date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
           "control_columns": ["event_1", "event_2", "t"]}
FLAGS = ["--date-column", "date_week", "--y-column", "y", "--channel", "x1", "--channel",
         "x2", "--control", "event_1", "--control", "event_2", "--control", "t"]
runner = CliRunner()


def other_value(option: Field[Any]) -> Any:
    """A valid value of ``option`` that is not its default (so a pass-through shows)."""
    default = default_of(option)
    info = option.metadata["option"]
    if info.choices:
        value: Any = next(c for c in info.choices if c != default)
    elif isinstance(default, bool):
        value = not default
    elif default is None:
        value = 60.0
    elif isinstance(default, int):
        value = default + 1
    else:
        value = default / 2
    bm.SamplerOptions(**{option.name: value})  # the library accepts it
    return value


def flag_args(option: Field[Any], value: Any) -> list[str]:
    flag = "--" + option.name.replace("_", "-")
    if isinstance(value, bool):
        return [flag if value else flag.replace("--", "--no-", 1)]
    return [flag, str(value)]


class Stop(BayesMMMError):
    """Raised by the stub fit once it has recorded its keywords."""


@pytest.fixture
def fit_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_fit(data: Any, spec: Any, **options: Any) -> Any:
        calls.append(options)
        raise Stop("stopped before sampling")

    monkeypatch.setattr(bm, "fit", fake_fit)
    return calls


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("surfaces") / "data.csv"
    bm.example_data().to_csv(path, index=False)
    return path


def _command(name: str) -> Any:
    group = typer.main.get_command(app)
    return group.commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("option", OPTIONS, ids=IDS)
def test_a_keyword_of_bm_fit(option: Field[Any]) -> None:
    param = inspect.signature(bm.fit).parameters.get(option.name)
    assert param is not None, f"bm.fit has no keyword {option.name}"
    assert param.kind is inspect.Parameter.KEYWORD_ONLY
    assert param.default == default_of(option)


@pytest.mark.parametrize("command", ["fit", "demo", "compare"])
@pytest.mark.parametrize("option", OPTIONS, ids=IDS)
def test_a_flag_of_the_fitting_commands(command: str, option: Field[Any]) -> None:
    params = {p.name: p for p in _command(command).params}
    assert option.name in params, f"`bayesmmm {command}` has no flag for {option.name}"
    assert "--" + option.name.replace("_", "-") in params[option.name].opts
    assert params[option.name].default is None  # None: not given, the library decides


@pytest.mark.parametrize("option", OPTIONS, ids=IDS)
def test_a_fit_flag_reaches_bm_fit(option: Field[Any], data_file: Path,
                                   fit_calls: list[dict[str, Any]]) -> None:
    value = other_value(option)
    result = runner.invoke(app, ["fit", str(data_file), *FLAGS, *flag_args(option, value)])
    assert "stopped before sampling" in result.output, result.output
    assert fit_calls == [{option.name: value}]


@pytest.mark.parametrize("where", ["top", "table"])
@pytest.mark.parametrize("option", OPTIONS, ids=IDS)
def test_a_config_key_reaches_bm_fit(option: Field[Any], where: str, data_file: Path,
                                     tmp_path: Path, fit_calls: list[dict[str, Any]]) -> None:
    value = other_value(option)
    config = {**COLUMNS, **({option.name: value} if where == "top"
                            else {"sampler": {option.name: value}})}
    path = tmp_path / "mmm.json"
    path.write_text(json.dumps(config))
    result = runner.invoke(app, ["fit", str(data_file), "--config", str(path)])
    assert "stopped before sampling" in result.output, result.output
    assert fit_calls == [{option.name: value}]


@pytest.fixture(scope="module")
def run_schema() -> dict[str, Any]:
    doc = create_app(Settings(), manage=False).openapi()
    schema: dict[str, Any] = doc["components"]["schemas"]["RunMMMRequest"]
    return schema


@pytest.mark.parametrize("option", OPTIONS, ids=IDS)
def test_a_field_of_the_run_request(option: Field[Any], run_schema: dict[str, Any]) -> None:
    props = run_schema["properties"]
    assert option.name in props, f"runMMMAsync has no field {option.name}"
    assert props[option.name].get("default") == default_of(option)
    assert props[option.name]["description"] == option.metadata["option"].help
    assert option.name in SamplerChoice.model_fields


@pytest.mark.parametrize("option", OPTIONS, ids=IDS)
def test_a_request_field_reaches_the_job(option: Field[Any]) -> None:
    value = other_value(option)
    body = RunMMMRequest.model_validate({**COLUMNS, option.name: value})
    assert sampler_options(body)[option.name] == value


NUMBERS = [f for f in OPTIONS if get_type_hints(bm.SamplerOptions)[f.name] in (int, float,
                                                                             float | None)]


@pytest.mark.parametrize("option", NUMBERS, ids=lambda f: f.name)
def test_request_bounds_agree_with_the_library(option: Field[Any]) -> None:
    """The bounds the OpenAPI document shows are the library's: just inside a lower bound
    (or the rule's upper one) the library accepts, just outside it refuses; the upper
    limit of a request is one the library accepts."""
    bounds = {k: getattr(m, k) for m in SamplerChoice.model_fields[option.name].metadata
              for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
    assert {"ge", "gt"} & set(bounds), (
        f"runMMMAsync's {option.name} has no lower bound: add the library's rule to "
        "its OptionInfo in bayesmmm/options.py (ge/gt)")
    step = 1 if get_type_hints(bm.SamplerOptions)[option.name] is int else 1e-9
    inside = {"ge": 0, "gt": step, "lt": -step, "le": 0}
    outside = {"ge": -step, "gt": 0, "lt": 0}
    for key, edge in bounds.items():
        bm.SamplerOptions(**{option.name: edge + inside[key]})
        if key in outside:
            with pytest.raises(BayesMMMError):
                bm.SamplerOptions(**{option.name: edge + outside[key]})
