"""Tables in and out: submitted bytes through the library's loader and validator, and
answer tables as JSON rows."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmmm.data import ValidationReport, load_table, validate
from bayesmmm.errors import BayesMMMError, DataLoadError, DataValidationError, SpecError
from bayesmmm.service._errors import RequestError
from bayesmmm.service._names import display_name

__all__ = ["read_table", "check_table", "frame_rows", "invalid_data", "validation_error"]


def read_table(content: bytes, name: str, sep: str | None = None) -> pd.DataFrame:
    """Read submitted bytes with :func:`bayesmmm.data.load_table` (CSV or Parquet).

    The bytes go to a private temporary folder, under the user's own (sanitised) file
    name, so that the loader's messages and fixes read as they do on the user's machine:
    ``pd.read_excel('sales.xlsx').to_csv('sales.csv')``, never a fix that writes over
    the workbook. The folder is removed from the messages.
    """
    with tempfile.TemporaryDirectory(prefix="bayesmmm-upload-") as tmp:
        path = Path(tmp) / display_name(name)
        path.write_bytes(content)
        try:
            return load_table(path, sep=sep)
        except DataLoadError as exc:
            raise RequestError(422, "unreadable_table", _unfold(str(exc), tmp)) from None
        except SpecError as exc:
            raise RequestError(422, "invalid_options", _unfold(str(exc), tmp)) from None


def _unfold(message: str, folder: str) -> str:
    """A loader message without our temporary folder (file names stay as the user's)."""
    return message.replace(folder + "/", "").replace(folder, "")


def check_table(df: pd.DataFrame, data_kwargs: dict[str, Any]) -> ValidationReport:
    """Validate as the CLI does; every error refuses the request with the full report."""
    try:
        report = validate(df, **data_kwargs)
    except BayesMMMError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    if not report.ok:
        raise invalid_data(report)
    return report


def invalid_data(report: ValidationReport) -> RequestError:
    n = len(report.errors)
    first = report.errors[0]
    where = f"column '{first.column}': " if first.column else ""
    return RequestError(
        422, "invalid_data",
        f"the data has {n} problem{'s' if n != 1 else ''} that stop the fit (first: "
        f"{where}{first.message}); 'validation' lists each with its rule and a fix",
        validation=report.to_dict())


def validation_error(exc: DataValidationError) -> RequestError:
    return invalid_data(exc.report)


def frame_rows(frame: pd.DataFrame, index: str | None = None) -> list[dict[str, Any]]:
    """DataFrame -> JSON rows (NaN and infinities as null); the index becomes column
    ``index`` when given."""
    if index is not None:
        frame = frame.rename_axis(index).reset_index()
    text = frame.to_json(orient="records", double_precision=15)
    rows: list[dict[str, Any]] = json.loads(text)
    return rows
