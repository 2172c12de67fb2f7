"""Reading user files into a DataFrame, refusing anything that is not a table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayesmmm.errors import DataLoadError, SpecError

__all__ = ["load_table"]

_SNIFF_BYTES = 64 * 1024
_OTHER_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _sniff_kind(head: bytes, path: Path) -> str:
    if head.startswith(b"PAR1") or path.suffix.lower() in {".parquet", ".pq"}:
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still text.
        if exc.start < len(head) - 4:
            return "binary"
    return "csv"


def load_table(source: str | Path | pd.DataFrame, *, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file (or take a DataFrame) without changing any value.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv`` / ``.parquet`` path, or a DataFrame (returned as a copy).
    sep : str, optional
        CSV delimiter; default ``","``. A file that only splits with another common
        delimiter is refused with a message naming it rather than guessed.

    Returns
    -------
    DataFrame
        Columns as in the file; dates stay as written (validation parses them).

    Raises
    ------
    DataLoadError
        The file is missing, empty, binary, an Excel workbook, or not delimited by ``sep``.
    """
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.exists():
        raise DataLoadError(f"file '{path}' does not exist. Fix: check the path.")
    if path.is_dir():
        raise DataLoadError(f"'{path}' is a folder, not a file. Fix: pass the CSV file inside it.")
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        raise DataLoadError(
            f"file '{path}' is empty. Fix: export the data again with a header row "
            "(date, target, one column per channel) and at least one row per period."
        )
    kind = _sniff_kind(head, path)
    if kind in {"xlsx", "xls"}:
        raise DataLoadError(
            f"file '{path}' is an Excel workbook, not a CSV table. Fix: save the sheet as CSV, "
            f"or convert it: pd.read_excel('{path}')"
            f".to_csv('{path.with_suffix('.csv')}', index=False)"
        )
    if kind == "binary":
        raise DataLoadError(
            f"file '{path}' is binary, not a text table (found NUL or non-UTF-8 bytes in the "
            "first 64 KiB). Fix: pass a UTF-8 CSV or a Parquet file."
        )
    if kind == "parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise DataLoadError(
                f"file '{path}' could not be read as Parquet ({exc}). Fix: write it again with "
                "df.to_parquet(path) or pass a CSV."
            ) from None
    return _read_csv(path, head, sep)


def _read_csv(path: Path, head: bytes, sep: str | None) -> pd.DataFrame:
    delimiter = "," if sep is None else sep
    if len(delimiter) != 1 or delimiter in "\r\n\"":
        raise SpecError(f"delimiter {delimiter!r} is not a single separator character. "
                            "Fix: pass sep=',' or ';' or '\\t' (CLI: --sep ';')")
    try:
        df = pd.read_csv(path, sep=delimiter, encoding="utf-8")
    except UnicodeDecodeError:
        raise DataLoadError(
            f"file '{path}' is not UTF-8 text. Fix: re-save it as UTF-8, or read it with "
            f"pd.read_csv('{path}', encoding='latin-1') and pass the DataFrame."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataLoadError(f"file '{path}' has no columns. Fix: add a header row.") from None
    except pd.errors.ParserError as exc:
        raise DataLoadError(
            f"file '{path}' is not a consistent table: {str(exc).strip()}. Fix: every row must "
            f"have the same number of '{delimiter}'-separated fields as the header."
        ) from None
    if df.shape[1] == 1:
        first_line = head.decode("utf-8", errors="replace").splitlines()[0]
        for other, name in _OTHER_SEPARATORS.items():
            if other != delimiter and other in first_line:
                raise DataLoadError(
                    f"file '{path}' has a single column when split on {delimiter!r}, but its "
                    f"header is {name}-separated: {first_line[:80]!r}. Fix: pass sep={other!r} "
                    f"(CLI: --sep {other!r}), or convert: "
                    f"pd.read_csv('{path}', sep={other!r}).to_csv('{path}', index=False)"
                )
    if len(df) == 0:
        raise DataLoadError(
            f"file '{path}' has a header but no data rows. Fix: export the data rows too."
        )
    return df


