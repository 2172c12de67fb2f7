"""``bayesmmm eda``: PNG files and a self-contained page; exit codes as the other
commands."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.cli import app
from tests.report._tables import panel_table

runner = CliRunner()
COLS = ["--date-column", "date_week", "--y-column", "y", "-c", "x1", "-c", "x2",
        "--control", "event_1", "--control", "t"]
EXPECTED = {"spend_over_time", "spend_monthly", "spend_quarterly", "sales_over_time",
            "sales_vs_spend", "total_spend", "correlation", "seasonality_by_week",
            "seasonality_by_month", "outliers"}


def test_eda_writes_pngs_and_an_offline_page(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    bm.example_data().to_csv(data, index=False)
    out = tmp_path / "eda"
    result = runner.invoke(app, ["eda", str(data), *COLS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.stem for p in out.glob("*.png")} == EXPECTED
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in out.glob("*.png"))
    page = (out / "eda.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*>", page, flags=re.IGNORECASE)
    assert scripts and not any(re.search(r"\bsrc\s*=", s) for s in scripts)
    assert not re.search(r"src=[\"']https?://", page)
    assert page.count("Plotly.newPlot(") == len(EXPECTED)
    assert "179 periods (weekly)" in page and "outlier period(s) flagged" in result.output


def test_eda_panel_data(tmp_path: Path) -> None:
    data = tmp_path / "panel.csv"
    panel_table().to_csv(data, index=False)
    out = tmp_path / "eda"
    result = runner.invoke(app, ["eda", str(data), "--date-column", "date", "--y-column",
                                 "sales", "-c", "tv", "-c", "search", "--control", "promo",
                                 "--panel", "geo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*.png"))) == len(EXPECTED)
    assert "2 panel cells (geo): plots show the total over cells" in (
        out / "eda.html").read_text(encoding="utf-8")


def test_eda_invalid_data_exit_1_with_the_report(tmp_path: Path) -> None:
    df = bm.example_data()
    df.loc[3, "x1"] = -4.0
    data = tmp_path / "bad.csv"
    df.to_csv(data, index=False)
    result = runner.invoke(app, ["eda", str(data), *COLS, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "Validation failed" in result.output and "x1" in result.output
    assert not list((tmp_path / "o").glob("*.png"))


def test_eda_usage_errors_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    bm.example_data().to_csv(data, index=False)
    missing = runner.invoke(app, ["eda", str(data), "--y-column", "y", "-c", "x1"])
    assert missing.exit_code == 2 and "--date-column" in missing.output
    (tmp_path / "file").write_text("x")
    blocked = runner.invoke(app, ["eda", str(data), *COLS, "--out", str(tmp_path / "file")])
    assert blocked.exit_code == 2 and "is a file" in blocked.output


def test_eda_writes_vector_images_when_asked(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    bm.example_data().to_csv(data, index=False)
    out = tmp_path / "eda"
    result = runner.invoke(app, ["eda", str(data), *COLS, "--format", "svg", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert {p.stem for p in out.glob("*.svg")} == EXPECTED and not list(out.glob("*.png"))
    assert all("<svg" in p.read_text(encoding="utf-8")[:2000] for p in out.glob("*.svg"))
    bad = runner.invoke(app, ["eda", str(data), *COLS, "--format", "jpg", "--out",
                              str(tmp_path / "x")])
    assert bad.exit_code == 2 and "choose one of png, svg, pdf" in bad.output
