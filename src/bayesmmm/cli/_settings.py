"""What a command is asked to do: the config file, the command's own options over it,
and the sampler flags and config keys, derived from :class:`bayesmmm.SamplerOptions`."""

from __future__ import annotations

import functools
import inspect
import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field
from pathlib import Path
from typing import Annotated, Any, NamedTuple, get_args, get_type_hints

import typer

from bayesmmm.options import OptionInfo, SamplerOptions, default_of, option_fields

__all__ = ["SAMPLER_KEYS", "Settings", "read_config", "read_settings", "sampler_flags"]

#: The sampler options, as config keys (top level or in a ``[sampler]`` table) and flags.
SAMPLER_KEYS = tuple(f.name for f in option_fields())


class Settings(NamedTuple):
    """A command's model spec, sampler options (those given) and CSV delimiter."""

    spec: Any
    sampler: dict[str, Any]
    sep: str | None


def read_config(path: Path | None) -> dict[str, Any]:
    from bayesmmm.errors import SpecError

    if path is None:
        return {}
    if not path.is_file():
        raise SpecError(f"config file '{path}' does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            cfg = tomllib.loads(text)
        elif path.suffix in {".yaml", ".yml"}:
            import yaml

            cfg = yaml.safe_load(text)
        else:
            cfg = json.loads(text)
    except Exception as exc:
        raise SpecError(f"config file '{path}' could not be parsed: {exc}") from None
    if not isinstance(cfg, dict):
        raise SpecError(f"config file '{path}' must hold a mapping of options")
    return cfg


def _config_sampler(cfg: dict[str, Any]) -> dict[str, Any]:
    """Take the sampler options out of a config: top-level keys, then a ``[sampler]``
    table over them."""
    from bayesmmm.errors import SpecError

    sampler = {k: cfg.pop(k) for k in SAMPLER_KEYS if k in cfg}
    table = cfg.pop("sampler", None) or {}
    if not isinstance(table, dict):
        raise SpecError(f"'sampler' in the config must be a table of options, got {table!r}")
    unknown = set(table) - set(SAMPLER_KEYS)
    if unknown:
        raise SpecError(f"unknown sampler option(s) {sorted(unknown)}; expected "
                        f"{list(SAMPLER_KEYS)}")
    return {**sampler, **table}


def read_settings(config: Path | None, preset: str | None = None,
                  sampler: Mapping[str, Any] | None = None, **fields: Any) -> Settings:
    """The config file with the command's options over it: spec ``fields`` (None or []:
    not given), ``sampler`` options and a ``preset`` as the spec's starting point
    (:func:`bayesmmm.model.spec_from_options` merges them)."""
    from bayesmmm.errors import SpecError
    from bayesmmm.model import spec_from_options

    cfg = read_config(config)
    chosen = {**_config_sampler(cfg), **(sampler or {})}
    cfg.update({k: v for k, v in fields.items() if v is not None and v != []})
    sep = cfg.pop("sep", None)
    missing = [f"--{k.replace('_', '-')}" for k in ("date_column", "y_column") if k not in cfg]
    if "channel_columns" not in cfg:
        missing.append("--channel")
    if missing:
        raise SpecError(f"missing {', '.join(missing)}: name the columns as options or in "
                        "--config (e.g. --date-column date --y-column sales --channel tv)")
    from_file = cfg.pop("preset", None)
    return Settings(spec_from_options(cfg, from_file if preset is None else preset), chosen,
                    sep)


# Sampler flags -----------------------------------------------------------------------------

def _flag(option: Field[Any], kind: Any) -> inspect.Parameter:
    """``--name VALUE`` (``--name/--no-name`` for a switch), None when not given."""
    info: OptionInfo = option.metadata["option"]
    kind = next(k for k in (*get_args(kind), kind) if k is not type(None))  # X | None -> X
    flag = "--" + option.name.replace("_", "-")
    if kind is bool:
        flag += f"/--no-{option.name.replace('_', '-')}"
    default = default_of(option)
    shown = "none" if default is None else str(default).lower() if kind is bool else default
    option_info = typer.Option(flag, help=f"{info.help} Default: {shown}.")
    return inspect.Parameter(option.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             default=None, annotation=Annotated[kind | None, option_info])


def sampler_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a Typer command one flag per sampler option in place of its ``sampler``
    parameter (``--chains``, ``--dense-mass/--no-dense-mass``, ...; not given: None). The
    command receives the options given as ``sampler``, a dict."""
    signature = inspect.signature(command, eval_str=True)
    kinds = get_type_hints(SamplerOptions)
    flags = [_flag(f, kinds[f.name]) for f in option_fields()]
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        params += flags if param.name == "sampler" else [param]

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        given = {k: kwargs.pop(k) for k in SAMPLER_KEYS}
        return command(**kwargs, sampler={k: v for k, v in given.items() if v is not None})

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return run
