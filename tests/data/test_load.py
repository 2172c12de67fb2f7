"""Loading: tables in, everything that is not a table refused with a fix."""

from __future__ import annotations

import gzip
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


# --- what a file is, named with the matching fix ------------------------------------------


def test_json_file_named_with_read_json_fix(tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "data.json"
    example_df.to_json(path, orient="records")
    with pytest.raises(DataLoadError, match="is a JSON document") as exc:
        load_table(path)
    assert f"pd.read_json('{path}')" in str(exc.value) and "no data rows" not in str(exc.value)


def test_json_lines_file_named(tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "data.csv"  # misnamed: judged by content
    example_df.head(20).to_json(path, orient="records", lines=True)
    with pytest.raises(DataLoadError, match="JSON document.*lines=True"):
        load_table(path)


def test_header_starting_with_bracket_is_still_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("[date],y\n2024-01-01,1\n")
    assert list(load_table(path).columns) == ["[date]", "y"]


def test_zip_archive_named_with_its_members(tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "export.csv"  # a zip named .csv: not an Excel workbook
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("sales/data.csv", example_df.to_csv(index=False))
        z.writestr("README.txt", "weekly export")
    with pytest.raises(DataLoadError, match="is a zip archive") as exc:
        load_table(path)
    text = str(exc.value)
    assert "Excel" not in text and "'sales/data.csv', 'README.txt'" in text
    assert f"zipfile.ZipFile('{path}').extract('sales/data.csv')" in text


def test_real_xlsx_content_types_is_excel(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(DataLoadError, match="Excel workbook"):
        load_table(path)


def test_damaged_zip_named(tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x14\x00" * 20)
    with pytest.raises(DataLoadError, match="damaged or truncated"):
        load_table(path)


def test_gzip_csv_is_read_transparently(tmp_path: Path, example_df: pd.DataFrame) -> None:
    path = tmp_path / "d.csv"  # compressed but named .csv: judged by content
    path.write_bytes(gzip.compress(example_df.to_csv(index=False).encode()))
    pd.testing.assert_frame_equal(load_table(path), example_df)
    semi = tmp_path / "semi.csv.gz"
    semi.write_bytes(gzip.compress(example_df.to_csv(index=False, sep=";").encode()))
    with pytest.raises(DataLoadError, match="semicolon-separated") as exc:
        load_table(semi)
    assert "compression='gzip'" in str(exc.value)
    assert len(load_table(semi, sep=";")) == len(example_df)


def test_gzip_of_something_else_or_damaged(tmp_path: Path) -> None:
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(bytes(range(256)) * 4))
    with pytest.raises(DataLoadError, match="gzip archive holding binary data") as exc:
        load_table(path)
    assert "gunzip" in str(exc.value)
    path.write_bytes(gzip.compress(b'{"date": ["2024-01-01"], "y": [1]}'))
    with pytest.raises(DataLoadError, match="gzip archive holding a JSON document"):
        load_table(path)
    path.write_bytes(gzip.compress(b"date,y\n2024-01-01,1\n" * 100)[:30])
    with pytest.raises(DataLoadError, match="gzip"):
        load_table(path)


@pytest.mark.parametrize(("encoding", "expected"),
                         [("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"),
                          ("utf-16-be", "utf-16-be")])
def test_utf16_named_with_encoding_fix(tmp_path: Path, example_df: pd.DataFrame,
                                       encoding: str, expected: str) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(example_df.to_csv(index=False, sep="\t").encode(encoding))
    with pytest.raises(DataLoadError, match="is UTF-16 text") as exc:
        load_table(path)
    text = str(exc.value)
    assert f"encoding={expected!r}, sep='\\t')" in text and "binary" not in text
    read = pd.read_csv(path, encoding=expected, sep="\t")
    pd.testing.assert_frame_equal(read, example_df, check_dtype=False)


def test_latin1_named_with_encoding_fix(tmp_path: Path, example_df: pd.DataFrame) -> None:
    df = example_df.head(30).assign(note="café à 5 €")
    path = tmp_path / "excel-export.csv"
    path.write_bytes(df.to_csv(index=False).encode("cp1252"))
    with pytest.raises(DataLoadError, match="latin-1") as exc:
        load_table(path)
    text = str(exc.value)
    assert f"pd.read_csv('{path}', encoding='cp1252')" in text and "binary" not in text
    assert pd.read_csv(path, encoding="cp1252")["note"].iloc[0] == "café à 5 €"


def test_text_named_parquet(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    path.write_text("date,y\n2024-01-01,1\n")
    with pytest.raises(DataLoadError, match="named like a Parquet file but holds text") as exc:
        load_table(path)
    assert f"rename('{tmp_path / 'd.csv'}')" in str(exc.value)


def test_html_page_named(tmp_path: Path) -> None:
    path = tmp_path / "download.csv"
    path.write_text("<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n")
    with pytest.raises(DataLoadError, match="is an HTML page"):
        load_table(path)


# --- repeated header names and decimal commas ----------------------------------------------


def test_duplicate_header_names_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("date,y,tv,search,tv\n2024-01-01,10,1,2,3\n2024-01-08,11,2,3,4\n")
    with pytest.raises(DataLoadError, match="repeats column names") as exc:
        load_table(path)
    text = str(exc.value)
    assert "'tv' at columns 3, 5" in text and "['tv.1']" in text
    assert "df.columns = ['date', 'y', 'tv', 'search', 'tv_2']" in text


def test_duplicate_identical_columns_get_a_drop_fix(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("date;y;tv;tv\n2024-01-01;10;1;1\n2024-01-08;11;2;2\n")
    with pytest.raises(DataLoadError, match="repeats column names") as exc:
        load_table(path, sep=";")
    assert f"pd.read_csv('{path}', sep=';').drop(columns=['tv.1'])" in str(exc.value)


def test_quoted_and_empty_header_names_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(',"date","a,b",y,\n0,2024-01-01,1,2,3\n')
    assert list(load_table(path).columns) == ["Unnamed: 0", "date", "a,b", "y", "Unnamed: 4"]


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text("date;y;tv\n2024-01-01;1001,70;12,5\n2024-01-08;998,20;0\n")
    with pytest.raises(DataLoadError, match="decimal commas") as exc:
        load_table(path)
    assert f"pd.read_csv('{path}', sep=';', decimal=',')" in str(exc.value)
    assert pd.read_csv(path, sep=";", decimal=",")["y"].iloc[0] == pytest.approx(1001.70)


def test_comma_file_read_with_another_separator_names_it(tmp_path: Path,
                                                         example_df: pd.DataFrame) -> None:
    path = tmp_path / "d.csv"
    example_df.to_csv(path, index=False)
    with pytest.raises(DataLoadError, match="header is comma-separated") as exc:
        load_table(path, sep=";")
    assert "pass sep=','" in str(exc.value)


def test_plain_csv_with_a_compressed_name_is_read(tmp_path: Path,
                                                  example_df: pd.DataFrame) -> None:
    path = tmp_path / "d.csv.gz"  # judged by content: pandas would infer gzip from the name
    example_df.to_csv(path, index=False, compression=None)
    pd.testing.assert_frame_equal(load_table(path), example_df)
