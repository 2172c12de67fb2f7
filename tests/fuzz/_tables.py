"""Hypothesis strategies: marketing tables written as CSV bytes, then corrupted.

A case starts from a clean weekly table (national or two geos) held as text cells, so any
string can be put in any cell. Corruptions come in three layers, any number of each:
cells and columns (odd numbers, dates, names, totals rows, mixed calendars), the CSV
format (separator, decimal commas, quoting, line endings, encoding, byte-order mark) and
raw bytes (truncation, junk, magic numbers, gzip and zip wrappers).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import zipfile
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from hypothesis import strategies as st

DATE, TARGET, CHANNELS, CONTROLS, GEO = "date", "sales", ("tv", "search"), ("price",), "geo"
NUMERIC = (TARGET, *CHANNELS, *CONTROLS)

# Cell values that have broken, or could break, a loader or a float32 model.
ODD_NUMBERS = [
    "inf", "-inf", "Infinity", "nan", "NaN", "NA", "", " ", "1e308", "-1e308",
    "1.7976931348623157e308", "1e400", "-1e400", "5e-324", "1e-320", "2.2250738585072014e-308",
    "1e16", "-1e30", "1e-30", "-0", "0x1F", "1,5", "1001,70", "1.234,56", "12,500", "$5",
    "€3", "n/a", "-", "  7 ", "١٢٣", "−5", "1_000", "True", "1e", "--1", "0" * 400,
    "9" * 400, "1" + "0" * 330, "0." + "0" * 330 + "1",
]
ODD_DATES = [
    "Total", "TOTAL", "Sum", "Grand total", "", "2024-02-30", "0000-00-00", "9999-12-31",
    "2262-04-12", "1677-09-21", "0001-01-01", "  2024-01-01", "2024-1-1", "-2024-01-01",
    "1e10", "20240101", "2024-01-01T10:00:00", "2024-01-01 00:00:00+05:00", "01/13/2024",
    "NaT", "None", "null", "2024-W01", "٢٠٢٤-٠١-٠١",
]
DATE_FORMATS = ["%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S",
                "%b %d %Y", "%d-%m-%y", "%Y-%m-%d %H:%M"]
ODD_NAMES = ["", " tv", "tv ", "TV", "tv\n", 't"v', "日本", "1", "nan", "a,b", ";", "\t",
             "Unnamed: 0", "tv.1", "sales", "date", "\ufeffdate", "x" * 300]
MAGIC = [b"PK\x03\x04", b"\x1f\x8b\x08\x00", b"PAR1", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
         b"%PDF-1.4\n", b"BZh91AY", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"{", b"[",
         b"<!DOCTYPE html>", b"\x00\x00\x00", b"\xfd7zXZ\x00"]
SEPARATORS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
SUFFIXES = [".csv", ".csv", ".csv", ".txt", ".tsv", ".gz", ".json", ".parquet", ""]


@dataclass
class Case:
    """One file to load, the options to load it with, and what it must not get past."""

    data: bytes
    suffix: str
    sep: str | None
    panel: bool
    duplicate_header: bool = False  # the header repeats a name, with the file intact
    steps: list[str] = field(default_factory=list)

    @property
    def roles(self) -> dict[str, object]:
        return {"date_column": DATE, "y_column": TARGET, "channel_columns": list(CHANNELS),
                "control_columns": list(CONTROLS),
                "panel_columns": [GEO] if self.panel else [], "adstock_max_lag": 4,
                "yearly_seasonality": 1}


def _base(seed: int, n: int, panel: bool) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2019-01-07", periods=n, freq="7D").strftime("%Y-%m-%d")
    rows = []
    for g in (["north", "south"] if panel else [None]):
        sales = rng.uniform(500, 1500, n)
        tv, search = rng.gamma(2.0, 50.0, n), rng.uniform(0, 80, n)
        price = rng.normal(10, 1, n)
        for i in range(n):
            row = [dates[i], repr(float(sales[i])), repr(float(tv[i])), repr(float(search[i])),
                   repr(float(price[i]))]
            rows.append(([g] if panel else []) + row)
    header = ([GEO] if panel else []) + [DATE, TARGET, *CHANNELS, *CONTROLS]
    return header, rows


def _numeric_index(header: list[str], draw: st.DrawFn) -> int:
    return draw(st.sampled_from([i for i, h in enumerate(header) if h in NUMERIC] or [0]))


def _odd_number(draw: st.DrawFn) -> str:
    return draw(st.one_of(
        st.sampled_from(ODD_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(min_value=-1e-300, max_value=1e-300).map(repr),
        st.integers(min_value=-(10 ** 40), max_value=10 ** 40).map(str),
        st.text(max_size=6),
    ))


def _cell_step(draw: st.DrawFn, header: list[str], rows: list[list[str]]) -> str:
    """Change cells, columns or rows in place; returns a label for the step."""
    kind = draw(st.sampled_from(["number", "scale", "date", "date_format", "shift_years",
                                 "mixed", "yearly", "total", "rename", "drop_column",
                                 "extra_column", "duplicate_row", "shuffle", "drop_rows",
                                 "empty_rows"]))
    date = header.index(DATE) if DATE in header else 0
    if kind == "number" and rows:
        value = _odd_number(draw)
        for _ in range(draw(st.integers(1, 3))):
            rows[draw(st.integers(0, len(rows) - 1))][_numeric_index(header, draw)] = value
    elif kind == "scale":
        col = _numeric_index(header, draw)
        factor = float(f"1e{draw(st.integers(-330, 330))}")
        for row in rows:
            with contextlib.suppress(ValueError):
                row[col] = repr(float(row[col]) * factor)
    elif kind == "date" and rows:
        rows[draw(st.integers(0, len(rows) - 1))][date] = draw(
            st.one_of(st.sampled_from(ODD_DATES), st.text(max_size=12)))
    elif kind in {"date_format", "shift_years"}:
        fmt = draw(st.sampled_from(DATE_FORMATS))
        years = draw(st.sampled_from([1, 3, 300, 7000, -1000]))
        for row in rows:
            try:
                when = pd.Timestamp(row[date])
                row[date] = when.strftime(fmt) if kind == "date_format" else \
                    f"{when.year + years:04d}{when.strftime('-%m-%d')}"
            except (ValueError, OverflowError, NotImplementedError):
                pass
    elif kind in {"mixed", "yearly"} and len(rows) >= 2:
        start = pd.Timestamp("2015-01-05")
        k = draw(st.integers(2, len(rows)))
        step = "D" if kind == "mixed" else "YS"
        for i, when in enumerate(pd.date_range(start, periods=k, freq=step)):
            rows[i][date] = when.strftime("%Y-%m-%d")
    elif kind == "total" and rows:
        total = []
        for i in range(len(header)):
            try:
                total.append(repr(sum(float(r[i]) for r in rows)))
            except ValueError:
                total.append("")
        total[date] = draw(st.sampled_from(["Total", "", "Sum", "Grand total"]))
        rows.append(total)
    elif kind == "rename":
        header[draw(st.integers(0, len(header) - 1))] = draw(
            st.one_of(st.sampled_from([*ODD_NAMES, *header]), st.text(max_size=8)))
    elif kind == "drop_column" and len(header) > 1:
        i = draw(st.integers(0, len(header) - 1))
        del header[i]
        for row in rows:
            del row[i]
    elif kind == "extra_column":
        header.append(draw(st.sampled_from(ODD_NAMES)))
        filler = draw(st.sampled_from(["x", "", "1", "1e308"]))
        for row in rows:
            row.append(filler)
    elif kind == "duplicate_row" and rows:
        rows.insert(draw(st.integers(0, len(rows))), list(rows[draw(
            st.integers(0, len(rows) - 1))]))
    elif kind == "shuffle":
        order = draw(st.permutations(range(len(rows))))
        rows[:] = [rows[i] for i in order]
    elif kind == "drop_rows" and rows:
        keep = draw(st.integers(0, len(rows)))
        del rows[keep:]
    elif kind == "empty_rows":
        rows.insert(draw(st.integers(0, len(rows))), [""] * len(header))
    return kind


def _write(draw: st.DrawFn, header: list[str], rows: list[list[str]],
           steps: list[str]) -> tuple[bytes, str]:
    sep = draw(st.sampled_from(SEPARATORS))
    if sep != "," and draw(st.booleans()):  # a European export: decimal commas
        steps.append("decimal_comma")
        rows = [[c.replace(".", ",") if _is_float(c) else c for c in r] for r in rows]
    quoting: Literal[0, 1, 2] = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL,
                                                      csv.QUOTE_NONNUMERIC]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buffer = io.StringIO()
    if draw(st.integers(0, 9)) == 0:  # fields joined without quoting: ragged on purpose
        steps.append("unquoted")
        buffer.write(ending.join(sep.join(r) for r in [header, *rows]))
    else:
        writer = csv.writer(buffer, delimiter=sep, quoting=quoting, lineterminator=ending)
        writer.writerows([header, *rows])
    if draw(st.booleans()):
        buffer.write(draw(st.sampled_from(["", ending, ending * 3, "\x00", "\x1a"])))
    encoding = draw(st.sampled_from(ENCODINGS[:1] * 6 + ENCODINGS))
    if encoding != "utf-8":
        steps.append(encoding)
    return buffer.getvalue().encode(encoding, errors="replace"), sep


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "." in text


def _byte_step(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["truncate", "insert", "flip", "magic", "gzip", "zip",
                                 "append"]))
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return data[:at], kind
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:], kind
    if kind == "flip" and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:], kind
    if kind == "magic":
        return draw(st.sampled_from(MAGIC)) + data, kind
    if kind == "gzip":
        return gzip.compress(data, mtime=0), kind
    if kind == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(draw(st.sampled_from(["data.csv", "xl/sheet.xml", "a/b.txt"])),
                             data)
        return out.getvalue(), kind
    return data + draw(st.binary(max_size=64)), kind


@st.composite
def corrupted_tables(draw: st.DrawFn) -> Case:
    """A clean table, then 0-4 cell/column steps, a CSV dialect, then 0-2 byte steps."""
    panel = draw(st.integers(0, 4)) == 0
    n = draw(st.one_of(st.integers(12, 40), st.integers(0, 12)))
    header, rows = _base(draw(st.integers(0, 2**32 - 1)), n, panel)
    steps = [_cell_step(draw, header, rows) for _ in range(draw(st.integers(0, 4)))]
    data, sep = _write(draw, header, rows, steps)
    n_bytes = draw(st.sampled_from([0, 0, 0, 1, 2]))
    for _ in range(n_bytes):
        data, kind = _byte_step(draw, data)
        steps.append(kind)
    named = [h for h in header if h.strip()]
    intact = n_bytes == 0 and "unquoted" not in steps
    passed = draw(st.sampled_from([sep, sep, None, ",", ";", "\t"]))
    same_sep = passed == sep or (passed is None and sep == ",")
    return Case(data=data, suffix=draw(st.sampled_from(SUFFIXES)), sep=passed, panel=panel,
                duplicate_header=intact and same_sep and len(set(named)) < len(named),
                steps=steps)


@st.composite
def junk_files(draw: st.DrawFn) -> Case:
    """Bytes with no table in mind: random binary, random text, text after a magic number."""
    data = draw(st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=1500).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        st.text(alphabet=st.sampled_from(list(",;\t|\n\r\"' 0123456789.-eE,abcTotal")),
                max_size=1500).map(str.encode),
        st.tuples(st.sampled_from(MAGIC), st.binary(max_size=500)).map(lambda t: t[0] + t[1]),
    ))
    return Case(data=data, suffix=draw(st.sampled_from(SUFFIXES)),
                sep=draw(st.sampled_from([None, ";", "\t"])), panel=False, steps=["junk"])


_CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
    st.sampled_from(ODD_NUMBERS + ODD_DATES), st.datetimes().map(pd.Timestamp),
)


@st.composite
def odd_frames(draw: st.DrawFn) -> pd.DataFrame:
    """DataFrames a Python caller might pass: object columns of anything, names that repeat
    or are not strings (``2`` and ``'2'``), a datetime date column or not."""
    n = draw(st.integers(0, 30))
    names = draw(st.lists(st.sampled_from([DATE, TARGET, *CHANNELS, *CONTROLS, 2, "2", "",
                                           None, 1.5]), min_size=1, max_size=8))
    header, rows = _base(draw(st.integers(0, 2**16)), n, False)
    clean = pd.DataFrame(rows, columns=header)
    columns = []
    for name in names:
        if draw(st.booleans()) and str(name) in clean:
            column = pd.to_numeric(clean[str(name)], errors="coerce") if name != DATE else \
                clean[DATE]
            if name == DATE and draw(st.booleans()):
                column = pd.to_datetime(column)
        else:
            column = pd.Series(draw(st.lists(_CELLS, min_size=n, max_size=n)), dtype=object)
        columns.append(column.rename(name).reset_index(drop=True))
    return pd.concat(columns, axis=1) if columns else pd.DataFrame()
