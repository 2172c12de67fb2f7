"""Reading user files into a DataFrame, refusing anything that is not a table."""

from __future__ import annotations

import gzip
import json
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from bayesmmm.data._validate import DECIMAL_COMMA
from bayesmmm.errors import DataLoadError, SpecError

__all__ = ["load_table"]

_SNIFF_BYTES = 64 * 1024
# A JSON document is parsed whole to tell it from a CSV whose header starts with '[' or '{';
# larger ones are judged by their first line (JSON Lines) only.
_JSON_PARSE_BYTES = 16 * 1024 * 1024
_OTHER_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_COMPRESSED = {b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
_NAMES = {"xlsx": "an Excel workbook", "xls": "an Excel workbook", "ods":
          "an OpenDocument spreadsheet", "zip": "a zip archive", "json": "a JSON document",
          "parquet": "a Parquet file", "html": "an HTML page", "pdf": "a PDF document",
          "binary": "binary data", "utf-16": "UTF-16 text", "cp1252": "latin-1 text",
          "gzip": "a gzip archive", "bz2": "a bzip2 archive", "xz": "an xz archive",
          "broken-zip": "a damaged zip archive", "text-parquet": "text"}


def _sniff_kind(head: bytes, path: Path, *, compressed: bool = False) -> str:
    """What the file is, judged by its first bytes (the name only says Parquet was meant).
    ``compressed``: ``head`` was decompressed, so ``path`` holds other bytes."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            return kind
    if head.startswith(b"%PDF"):
        return "pdf"
    if _utf16_order(head) is not None:
        return "utf-16"
    if b"\x00" in head:
        return "binary"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still text.
        if len(head) < _SNIFF_BYTES or exc.start < len(head) - 4:
            return "cp1252" if _is_cp1252_text(head) else "binary"
        text = head[:exc.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n")[:15].lower()
    if start.startswith(("<!doctype html", "<html")):
        return "html"
    if start[:1] in ("{", "[") and _is_json(text, len(head) < _SNIFF_BYTES,
                                             None if compressed else path):
        return "json"
    if path.suffix.lower() in {".parquet", ".pq"}:
        return "text-parquet"  # text under a Parquet name: say so rather than guess
    return "csv"


def _zip_kind(path: Path) -> str:
    """A zip archive is an xlsx workbook, an OpenDocument sheet, or some other archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError,
            NotImplementedError, EOFError, zlib.error):
        return "broken-zip"
    if "[Content_Types].xml" in names or any(n.startswith("xl/") for n in names):
        return "xlsx"
    if b"spreadsheet" in mimetype:
        return "ods"
    return "zip"


def _utf16_order(head: bytes) -> str | None:
    """'utf-16' or 'utf-32' (byte-order mark), 'utf-16-le' / 'utf-16-be' (ASCII text with
    every other byte NUL), or None."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    for order, zeros, text in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros.count(0) >= 0.9 * len(zeros) and text.count(0) <= 0.05 * len(text):
            return order
    return None


def _is_cp1252_text(head: bytes) -> bool:
    """Text in a Windows / latin-1 code page: decodes as cp1252 with few control bytes."""
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:
        return False
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    return control <= 0.01 * len(text)


def _is_json(text: str, complete: bool, path: Path | None) -> bool:
    """A JSON document (parsed whole when ``text`` is the whole file or ``path`` is small
    enough) or JSON Lines (the first line is an object)."""
    whole = text if complete else None
    if whole is None and path is not None and path.stat().st_size <= _JSON_PARSE_BYTES:
        whole = path.read_bytes().decode("utf-8", errors="replace")
    if whole is not None:
        try:
            json.loads(whole.lstrip("\ufeff"))
            return True
        except (ValueError, RecursionError):
            pass
    first = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    try:
        return isinstance(json.loads(first), dict)  # JSON Lines: one object per line
    except (ValueError, RecursionError):
        return False


def load_table(source: str | Path | pd.DataFrame, *, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV (plain or gzip-compressed) or Parquet file, or take a DataFrame, without
    changing any value.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv`` / ``.csv.gz`` / ``.parquet`` path, or a DataFrame (returned as a copy).
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
        The file is missing, empty, not a table (an Excel workbook, a zip archive, JSON,
        HTML, binary data ...), not UTF-8, not delimited by ``sep``, or repeats a
        column name. The message names what the file is and how to convert it.
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
    _refuse_empty(head, path)
    kind = _sniff_kind(head, path)
    if kind == "binary" and path.suffix.lower() in {".parquet", ".pq"}:
        kind = "parquet"  # let pyarrow say what is wrong with it
    compression = None
    if kind == "gzip":  # a compressed CSV is read as it is: pandas decompresses it
        head = _gunzip_head(path)
        _refuse_empty(head, path)
        inner = _sniff_kind(head, Path(path.stem), compressed=True)
        if inner != "csv":
            raise DataLoadError(
                f"file '{path}' is a gzip archive holding {_NAMES.get(inner, inner)}, not a "
                f"CSV table. Fix: decompress it (gunzip '{path}') and pass the file inside, "
                "or compress a CSV instead.")
        compression = "gzip"
    elif kind == "parquet":
        try:
            return pd.read_parquet(path)
        except ImportError:  # pandas found no Parquet engine: pyarrow is an extra
            raise DataLoadError(
                f"file '{path}' is Parquet, which needs pyarrow (the 'parquet' extra). Fix: "
                "pip install 'bayesmmm[parquet]', or pass a CSV.") from None
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise DataLoadError(
                f"file '{path}' could not be read as Parquet ({exc}). Fix: write it again with "
                "df.to_parquet(path) or pass a CSV."
            ) from None
    elif kind != "csv":
        raise DataLoadError(_not_a_table(path, kind, head))
    return _read_csv(path, head, sep, compression)


def _refuse_empty(head: bytes, path: Path) -> None:
    if not head.strip():
        raise DataLoadError(
            f"file '{path}' is empty. Fix: export the data again with a header row "
            "(date, target, one column per channel) and at least one row per period."
        )


def _gunzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataLoadError(
            f"file '{path}' is a damaged gzip archive ({exc}). Fix: compress the CSV again "
            f"(gzip data.csv) or pass it uncompressed.") from None


def _not_a_table(path: Path, kind: str, head: bytes) -> str:
    """The refusal for a file that is not a CSV: what it is and how to turn it into one."""
    # Converted next to the original (in place for a .csv): a path derived from the file's
    # own keeps messages free of other paths (the service swaps this one for the upload name).
    save = f".to_csv('{path.with_suffix('.csv')}', index=False)"
    what = f"file '{path}' is {_NAMES.get(kind, kind)}, not a CSV table"
    if kind in {"xlsx", "xls", "ods"}:
        engine = ", engine='odf'" if kind == "ods" else ""
        return (f"{what}. Fix: save the sheet as CSV, or convert it: "
                f"pd.read_excel('{path}'{engine}){save}")
    if kind == "zip":
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if not n.endswith("/")]
        shown = ", ".join(repr(m) for m in members[:5]) + (" ..." if len(members) > 5 else "")
        first = next((m for m in members if m.lower().endswith(".csv")),
                     members[0] if members else "data.csv")
        return (f"{what}; it holds {len(members)} file(s): {shown or 'none'}. Fix: unzip it "
                f"first and pass the CSV inside: zipfile.ZipFile('{path}').extract({first!r})")
    if kind == "broken-zip":
        return (f"file '{path}' looks like an Excel workbook or another zip archive but is "
                "damaged or truncated. Fix: export or download the file again; if it opens in "
                "Excel, save the sheet as CSV.")
    if kind == "json":
        return (f"{what}. Fix: convert it: pd.read_json('{path}'){save}  "
                "# add lines=True for JSON Lines (one object per line)")
    if kind in {"bz2", "xz"}:
        return (f"{what}. Fix: decompress it first, or convert it: "
                f"pd.read_csv('{path}', compression={kind!r}){save}")
    if kind == "utf-16":
        encoding = _utf16_order(head) or "utf-16"
        text = head[: len(head) // 4 * 4].decode(encoding, errors="replace")
        tab = ", sep='\\t'" if "\t" in text.split("\n", 1)[0] else ""
        excel = " (as Excel's 'Unicode text' writes it)" if encoding != "utf-32" else ""
        read = f"pd.read_csv('{path}', encoding={encoding!r}{tab})"
        return (f"file '{path}' is {encoding[:6].upper()} text{excel}, not UTF-8. Fix: {read} "
                f"and pass the DataFrame, or re-save it as UTF-8: {read}{save}")
    if kind == "cp1252":
        read = f"pd.read_csv('{path}', encoding='cp1252')"
        return (f"file '{path}' is text in a Windows code page (latin-1 / Windows-1252), not "
                f"UTF-8. Fix: {read} and pass the DataFrame, or re-save it as UTF-8: "
                f"{read}{save}")
    if kind == "html":
        return (f"{what} (often a login or error page saved instead of the download). Fix: "
                f"download the CSV itself again; if the page holds the table: "
                f"pd.read_html('{path}')[0]{save}")
    if kind == "text-parquet":
        return (f"file '{path}' is named like a Parquet file but holds text (no Parquet "
                f"header). Fix: if it is a CSV, rename it: Path('{path}').rename("
                f"'{path.with_suffix('.csv')}'); else write the Parquet file again with "
                "df.to_parquet(path)")
    if kind == "pdf":
        return (f"{what}. Fix: export the data behind it as CSV from the system that "
                "produced the report.")
    return (f"file '{path}' is binary, not a text table (found NUL or non-UTF-8 bytes in the "
            "first 64 KiB). Fix: pass a UTF-8 CSV or a Parquet file.")


def _read_csv(path: Path, head: bytes, sep: str | None, compression: str | None = None
              ) -> pd.DataFrame:
    delimiter = "," if sep is None else sep
    if len(delimiter) != 1 or delimiter in "\r\n\"":
        raise SpecError(f"delimiter {delimiter!r} is not a single separator character. "
                            "Fix: pass sep=',' or ';' or '\\t' (CLI: --sep ';')")
    try:
        df = pd.read_csv(path, sep=delimiter, encoding="utf-8", compression=compression)
    except UnicodeDecodeError:
        raise DataLoadError(
            f"file '{path}' is not UTF-8 text. Fix: re-save it as UTF-8, or read it with "
            f"{_read_call(path, delimiter, compression, encoding='latin-1')} and pass the "
            "DataFrame."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataLoadError(f"file '{path}' has no columns. Fix: add a header row.") from None
    except pd.errors.ParserError as exc:
        raise DataLoadError(
            f"file '{path}' is not a consistent table: {str(exc).strip()}. Fix: every row must "
            f"have the same number of '{delimiter}'-separated fields as the header."
        ) from None
    except (OSError, EOFError, zlib.error) as exc:  # a gzip stream cut short
        raise DataLoadError(
            f"file '{path}' could not be decompressed to the end ({exc}). Fix: compress the "
            "CSV again, or pass it uncompressed.") from None
    lines = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
    first_line = lines[0] if lines else ""
    if df.shape[1] == 1:
        for other, name in _OTHER_SEPARATORS.items():
            if other != delimiter and other in first_line:
                commas = other == ";" and _has_decimal_commas(lines[1:21], other)
                read = _read_call(path, other, compression, decimal="," if commas else None)
                fix = (f"its numbers use decimal commas (12,5), which --sep alone leaves as "
                       f"text, so convert the file: {read}.to_csv('{path}', index=False)"
                       if commas else f"pass sep={other!r} (CLI: --sep {other!r}), or "
                       f"convert: {read}.to_csv('{path}', index=False)")
                raise DataLoadError(
                    f"file '{path}' has a single column when split on {delimiter!r}, but its "
                    f"header is {name}-separated: {first_line[:80]!r}. Fix: {fix}"
                )
    _refuse_duplicate_names(path, delimiter, compression, df)
    if len(df) == 0:
        raise DataLoadError(
            f"file '{path}' has a header but no data rows. Fix: export the data rows too."
        )
    return df


def _has_decimal_commas(lines: list[str], delimiter: str) -> bool:
    fields = (f.strip().strip('"') for line in lines for f in line.split(delimiter))
    return any(DECIMAL_COMMA.match(f) for f in fields)


def _read_call(path: Path, delimiter: str, compression: str | None, **options: str | None
               ) -> str:
    """The ``pd.read_csv(...)`` call that reads this file, for a fix."""
    args = [f"'{path}'"]
    if delimiter != ",":
        args.append(f"sep={delimiter!r}")
    args += [f"{k}={v!r}" for k, v in options.items() if v is not None]
    if compression:
        args.append(f"compression={compression!r}")
    return f"pd.read_csv({', '.join(args)})"


def _refuse_duplicate_names(path: Path, delimiter: str, compression: str | None,
                            df: pd.DataFrame) -> None:
    """pandas renames a repeated header name ('tv', 'tv.1'), so read the header row again,
    as a data row, where nothing is renamed."""
    try:
        first = pd.read_csv(path, sep=delimiter, header=None, nrows=1, dtype=str,
                            keep_default_na=False, encoding="utf-8", compression=compression)
    except (ValueError, UnicodeDecodeError, OSError, EOFError, zlib.error):
        return  # ParserError is a ValueError; the full read succeeded, so keep its result
    header = [str(v) for v in first.iloc[0]] if len(first) else []
    if len(header) != df.shape[1]:  # pandas read the header differently: trust pandas
        return
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        if name.strip():
            seen.setdefault(name, []).append(i)
    repeated = {name: idx for name, idx in seen.items() if len(idx) > 1}
    if not repeated:
        return
    described = "; ".join(f"{name!r} at columns {', '.join(str(i + 1) for i in idx)}"
                          for name, idx in list(repeated.items())[:5])
    renamed = [str(c) for c in df.columns]
    copies = [renamed[i] for idx in repeated.values() for i in idx[1:]]
    same = all(df.iloc[:, idx[0]].equals(df.iloc[:, i])
               for idx in repeated.values() for i in idx[1:])
    new_names = list(renamed)
    for name, idx in repeated.items():
        for k, i in enumerate(idx[1:], start=2):
            new_names[i] = f"{name}_{k}"
    read = _read_call(path, delimiter, compression)
    fix = (f"the repeated columns hold the same values, so drop the copies: df = {read}"
           f".drop(columns={copies!r})" if same else
           f"give each column its own name in the header, e.g. df = {read}; "
           f"df.columns = {new_names!r}")
    raise DataLoadError(
        f"file '{path}' repeats column names in its header: {described}. pandas would "
        f"silently rename the copies to {copies[:5]!r} and a role would read the wrong "
        f"column. Fix: {fix}")
