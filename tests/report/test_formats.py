"""Every export format: PNG, SVG or PDF images by the file's suffix; the report's print
layout and its PDF printed by Chromium."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayesmmm.cli import app
from bayesmmm.data import MMMData
from bayesmmm.report import PdfError, image_format, plot_spend, write_image, write_pdf
from bayesmmm.report._html import page_html

FITFILE = Path(__file__).parents[1] / "model" / "fitfiles" / "example_v2.nc"
runner = CliRunner()


@pytest.mark.parametrize(("name", "magic"), [("spend.png", b"\x89PNG\r\n\x1a\n"),
                                             ("spend.SVG", b"<?xml"), ("spend.pdf", b"%PDF-")])
def test_the_suffix_chooses_the_format(tmp_path: Path, example_data: MMMData, name: str,
                                       magic: bytes) -> None:
    path = write_image(plot_spend(example_data), tmp_path / name)
    head = path.read_bytes()[:len(magic)]
    assert head == magic
    if name.lower().endswith(".svg"):
        assert "<svg" in path.read_text()[:2000]


def test_an_unknown_suffix_names_the_formats(tmp_path: Path, example_data: MMMData) -> None:
    with pytest.raises(ValueError, match=r"spend\.jpg.*\.png, \.svg, \.pdf"):
        write_image(plot_spend(example_data), tmp_path / "spend.jpg")
    assert not list(tmp_path.iterdir())
    assert image_format("a/b.PDF") == "pdf"


def test_pages_have_a_print_layout() -> None:
    page = page_html("t", "<p>h</p>", "<section class='part'>x</section>", "section.part {}")
    print_at = page.index("@media print")
    assert page.index("section.part {}") < print_at  # the print rules come last: they win
    assert "break-inside: avoid" in page and "@page" in page


def test_the_report_prints_to_pdf(tmp_path: Path, chromium_path: str) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(FITFILE), "--out", str(out), "--pdf",
                                 "--periods", "4"],
                           env={"BAYESMMM_CHROMIUM": chromium_path})
    assert result.exit_code == 0, result.output
    pdf = out.with_suffix(".pdf")
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and data.count(b"/Type /Page") + data.count(b"/Type/Page") > 3
    assert f"Wrote {pdf}" in result.output.replace("\n", "")


def test_without_chromium_the_pdf_is_skipped_with_the_fix(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr("bayesmmm.report._pdf.find_chromium", lambda: None)
    monkeypatch.setattr("bayesmmm.report.find_chromium", lambda: None)
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(FITFILE), "--out", str(out), "--pdf",
                                 "--periods", "4"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and not out.with_suffix(".pdf").exists()
    assert "no PDF written" in result.output and "apt-get install chromium" in result.output
    with pytest.raises(PdfError, match="needs Chromium"):
        write_pdf(out, tmp_path / "x.pdf")


def test_a_failing_browser_leaves_no_pdf(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    false = subprocess.run(["which", "false"], capture_output=True, text=True).stdout.strip()
    with pytest.raises(PdfError, match="could not print"):
        write_pdf(page, tmp_path / "p.pdf", chromium=false)
    assert not (tmp_path / "p.pdf").exists()
