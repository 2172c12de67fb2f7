"""Loading: tables in, everything that is not a table refused with a fix."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from bayesmmm.data import load_table
from bayesmmm.errors import DataLoadError


def test_csv_and_parquet_read_identically(tmp_path: Path, example_df: pd.DataFrame) -> None:
    csv = tmp_path / "d.csv"
    pq = tmp_path / "d.parquet"
    example_df.to_csv(csv, index=False)
    example_df.to_parquet(pq)
    pd.testing.assert_frame_equal(load_table(csv), example_df)
    pd.testing.assert_frame_equal(load_table(pq), example_df)


def test_dataframe_is_copied_not_changed(example_df: pd.DataFrame) -> None:
    out = load_table(example_df)
    out.loc[0, "y"] = -1
    assert example_df.loc[0, "y"] != -1


def test_wrong_delimiter_names_it(tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "semi.csv"
    example_df.to_csv(path, sep=";", index=False)
    with pytest.raises(DataLoadError, match="semicolon-separated") as exc:
        load_table(path)
    assert "sep=';'" in str(exc.value)
    assert len(load_table(path, sep=";")) == len(example_df)


def test_excel_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"  # a misnamed workbook: detected by content
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataLoadError, match="Excel workbook") as exc:
        load_table(path)
    assert "read_excel" in str(exc.value)


def test_old_excel_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(DataLoadError, match="Excel workbook"):
        load_table(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"   \n\n", "is empty"), (b"date,y,tv\n", "no data rows"),
     (bytes(range(256)) * 10, "binary"),
     (b"date,y,tv\n2024-01-01,1,2\n2024-01-08,1,2,3,4\n", "not a consistent table")],
    ids=["zero-bytes", "blank", "header-only", "binary", "ragged"],
)
def test_not_a_table_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataLoadError, match=message):
        load_table(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataLoadError, match="does not exist"):
        load_table(tmp_path / "nope.csv")
    with pytest.raises(DataLoadError, match="is a folder"):
        load_table(tmp_path)


def test_broken_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataLoadError, match="could not be read as Parquet"):
        load_table(path)


@pytest.mark.parametrize("sep", ["", ";;", "\n"])
def test_bad_separator_is_a_usage_error(tmp_path: Path, sep: str) -> None:
    from bayesmmm.errors import SpecError

    path = tmp_path / "d.csv"
    path.write_text("date,y\n2024-01-01,1\n")
    with pytest.raises(SpecError, match="not a single separator character"):
        load_table(path, sep=sep)
