"""Advice for the API caller names request fields, never command-line flags."""

from __future__ import annotations

import re

import pytest

from bayesmmm.service._advice import for_api

CASES = [
    ("Run more warm-up and draws (e.g. --warmup 2000 --draws 2000).",
     "Run more warm-up and draws (e.g. warmup=2000 and draws=2000)."),
    ("raise target_accept (e.g. --target-accept 0.95) or simplify the model.",
     "raise target_accept (e.g. target_accept=0.95) or simplify the model."),
    ("pass a smaller adstock_max_lag (CLI: --adstock-max-lag 4)",
     "pass a smaller adstock_max_lag (e.g. adstock_max_lag=4)"),
    ("pass yearly_seasonality=0 (CLI: --yearly-seasonality 0) or add history",
     "pass yearly_seasonality=0 or add history"),
    ("pass channel_columns=['tv', 'search', ...] (CLI: --channel tv --channel search)",
     "pass channel_columns=['tv', 'search', ...]"),
    ("1000 posterior draws (raise n_draws, CLI --draws)", "1000 posterior draws (raise n_draws)"),
    ("give one of --budget, --target-roi and --target-marginal-roi",
     "give one of budget, target_roi and target_marginal_roi"),
    ("pass sep=';' (CLI: --sep ';'), or convert", "pass sep=';', or convert"),
    # no flag: unchanged
    ("from 2021-03-01 -- a note -- and x--y stay", "from 2021-03-01 -- a note -- and x--y stay"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=range(len(CASES)))
def test_cli_flags_become_request_fields(text: str, expected: str) -> None:
    assert for_api(text) == expected


def test_library_messages_reach_the_api_without_flags() -> None:
    """The texts of the library that speak of flags, as the service sends them."""
    from bayesmmm.analysis import _diagnostics, _verdict
    from bayesmmm.data import _load, _validate
    from bayesmmm.optimize import _allocate, _goal_choice

    flags = re.compile(r"(?<![\w-])--[a-z]")
    for module in (_diagnostics, _verdict, _load, _validate, _allocate, _goal_choice):
        source = open(module.__file__, encoding="utf-8").read()  # noqa: SIM115
        texts = re.findall(r"\"([^\"\n]*--[a-z][^\"\n]*)\"", source)
        for text in texts:
            assert not flags.search(for_api(text)), (module.__name__, text, for_api(text))


def test_nested_values() -> None:
    body = {"detail": "use --draws 10", "errors": [{"fix": "(CLI: --sep ';')"}], "n": 3}
    assert for_api(body) == {"detail": "use draws=10", "errors": [{"fix": " (e.g. sep=';')"}],
                             "n": 3}
