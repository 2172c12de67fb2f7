"""Fuzzing the data layer: any bytes in, a refusal with a fix or a table the model can use.

Properties, for every case:

* ``load_table``, ``validate`` and ``prepare`` raise nothing but ``DataLoadError``,
  ``DataValidationError`` and ``SpecError`` (no ``KeyError``, ``ValueError``,
  ``UnicodeDecodeError``, ``RecursionError`` ... reaching the user as a traceback);
* a load refusal names the file and gives a fix; every validation error names a column
  (or is a table-wide rule) and gives a fix;
* what must be refused is: a role column with a missing, non-numeric or non-finite value,
  or a magnitude outside float32's reach; repeated header names; duplicate column names;
* ``prepare`` agrees with ``validate`` and, when it accepts, returns finite arrays that
  stay finite in float32;
* no numeric ``RuntimeWarning`` (overflow, mean of an empty slice) escapes.

Profiles: the default runs a fixed (derandomised) sample of 2,100 cases, about 35 s on two
cores; ``BAYESMMM_FUZZ=long`` draws fresh cases, 30,000 of them, and the ``slow``-marked
test (``pytest -m slow tests/fuzz``) draws 20,000 fresh CSV cases.
``BAYESMMM_FUZZ_EXAMPLES=n`` sets the count of every test. A failure prints the case and a
``@reproduce_failure`` blob to replay it.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("hypothesis", reason="the fuzz suite needs hypothesis>=6.100 (dev extra)")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from bayesmmm import load_table, prepare, validate  # noqa: E402
from bayesmmm.errors import DataLoadError, DataValidationError, SpecError  # noqa: E402

from ._tables import (  # noqa: E402
    CHANNELS,
    CONTROLS,
    TARGET,
    Case,
    corrupted_tables,
    junk_files,
    odd_frames,
)

# A numeric warning (overflow, empty mean) is a crash the user would see as noise: fail it.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_LONG = os.environ.get("BAYESMMM_FUZZ") == "long"
_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def _profile(default: int, long: int) -> settings:
    n = int(os.environ.get("BAYESMMM_FUZZ_EXAMPLES", long if _LONG else default))
    return settings(max_examples=n, derandomize=not _LONG, **_COMMON)  # type: ignore[arg-type]


#: Problems about the table as a whole: they have no column to name.
TABLE_WIDE = {"empty_table", "too_few_rows", "few_rows", "adstock_too_long",
              "short_for_seasonality", "no_channels"}
#: Examples run per test in this process (printed at the end of the module with -s / -rA).
COUNTS: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()
_MAGNITUDE = 1e15


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    print(f"\nfuzz examples run: {dict(COUNTS)}, total {sum(COUNTS.values())}; "
          f"outcomes: {dict(OUTCOMES)}")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_load_error(exc: Exception, path: Path) -> None:
    text = str(exc)
    assert isinstance(exc, DataLoadError | SpecError), repr(exc)
    assert str(path) in text or path.name in text, text
    assert "Fix:" in text, text


def _must_refuse(df: pd.DataFrame, roles: dict[str, object]) -> list[str]:
    """Reasons the loaded frame must not validate (an oracle independent of validate)."""
    reasons = []
    names = [str(c) for c in df.columns]
    if len(set(names)) < len(names):
        reasons.append("duplicate column names")
    frame = df.loc[:, ~pd.Index(names).duplicated()].set_axis(
        [n for n in dict.fromkeys(names)], axis=1)
    for col in (TARGET, *CHANNELS, *CONTROLS):
        if col not in frame:
            reasons.append(f"no column {col!r}")
            continue
        raw = frame[col]
        values = pd.to_numeric(raw.astype(float) if raw.dtype == bool else raw, errors="coerce")
        x = values.to_numpy(dtype=float, na_value=np.nan)
        if not np.isfinite(x).all():
            reasons.append(f"{col}: missing, non-numeric or infinite values")
            continue
        size = np.abs(x)
        if size.max(initial=0) > _MAGNITUDE:
            reasons.append(f"{col}: |value| > 1e15")
        elif 0 < size.max(initial=0) < 1e-15:
            reasons.append(f"{col}: tiny scale")
        elif ((size > 0) & (size < size.max(initial=0) / 1e30)).any():
            reasons.append(f"{col}: values 1e30 times below the column's largest")
    if roles["date_column"] not in frame:
        reasons.append("no date column")
    return reasons


def _check_report(df: pd.DataFrame, roles: dict[str, object]) -> bool:
    """Validate; check every error names a column and has a fix. Returns report.ok."""
    report = validate(df, **roles)  # type: ignore[arg-type]
    known = {str(c) for c in df.columns} | {
        str(v) for value in roles.values() if isinstance(value, list | str)
        for v in (value if isinstance(value, list) else [value])}
    for p in report.errors:
        assert p.fix.strip(), p.format()
        assert p.column in known if p.column is not None else p.code in TABLE_WIDE, p.format()
    assert report.format()  # formats without raising
    reasons = _must_refuse(df, roles)
    assert not (report.ok and reasons), f"accepted although {reasons}:\n{df.head(8)}"
    return report.ok


def _check_prepared(source: Path | pd.DataFrame, sep: str | None, roles: dict[str, object],
                    ok: bool) -> None:
    try:
        data, _ = prepare(source, sep=sep, **roles)  # type: ignore[arg-type]
    except DataValidationError:
        assert not ok, "prepare refused what validate accepted"
        return
    assert ok, "prepare accepted what validate refused"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow in the cast fails too
        for name in ("y", "media", "controls"):
            values = getattr(data, name)
            assert np.isfinite(values).all(), name
            assert np.isfinite(values.astype(np.float32)).all(), name
            assert np.isfinite(values.sum(axis=-2 if values.ndim > 1 else 0)
                               .astype(np.float32)).all(), name


def _run_file(case: Case, folder: Path, test: str) -> None:
    COUNTS[test] += 1
    path = folder / f"table{case.suffix}"
    path.write_bytes(case.data)
    try:
        df = load_table(path, sep=case.sep)
    except (DataLoadError, SpecError) as exc:
        _check_load_error(exc, path)
        OUTCOMES["load refused"] += 1
        return
    assert not case.duplicate_header, f"repeated header names loaded: {list(df.columns)}"
    ok = _check_report(df, case.roles)
    _check_prepared(path, case.sep, case.roles, ok)
    OUTCOMES["valid" if ok else "validation refused"] += 1


@_profile(default=1000, long=20_000)
@given(case=corrupted_tables())
def test_corrupted_csv_files(case: Case, folder: Path) -> None:
    _run_file(case, folder, "corrupted_csv_files")


@_profile(default=800, long=5_000)
@given(case=junk_files())
def test_junk_files(case: Case, folder: Path) -> None:
    _run_file(case, folder, "junk_files")


@_profile(default=300, long=5_000)
@given(df=odd_frames())
def test_odd_dataframes(df: pd.DataFrame) -> None:
    COUNTS["odd_dataframes"] += 1
    roles = Case(b"", ".csv", None, False).roles
    before = df.copy()
    ok = _check_report(df, roles)
    pd.testing.assert_frame_equal(df, before)  # validation never changes the data
    _check_prepared(df, None, roles, ok)
    OUTCOMES["valid" if ok else "validation refused"] += 1


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("BAYESMMM_FUZZ_EXAMPLES", 20_000)),
          derandomize=False, **_COMMON)  # type: ignore[arg-type]
@given(case=corrupted_tables())
def test_corrupted_csv_files_long(case: Case, folder: Path) -> None:
    """The long run, fresh cases each time: ``pytest -m slow tests/fuzz``."""
    _run_file(case, folder, "corrupted_csv_files_long")
