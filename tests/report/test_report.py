"""The one-file HTML report: its numbers are the fit's, its verdict follows the
diagnostics, it opens offline in a real browser, and ``bayesmmm report`` writes it."""

from __future__ import annotations

import dataclasses
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.analysis import half_life, roi
from bayesmmm.cli import app
from bayesmmm.optimize import FixedBudget, historical_spend, optimize_budget
from bayesmmm.report import report_html, verdict, write_report
from bayesmmm.report._html import plotly_js
from bayesmmm.report._report import SECTIONS

runner = CliRunner()
FIGURES = {"total_spend", "spend_over_time", "actual_vs_fitted", "contributions", "waterfall",
           "roi", "spend_vs_effect", "saturation", "adstock", "allocation", "trace", "rank",
           "prior_posterior"}
ROOT = Path(__file__).resolve().parents[2]


# -- reading the report back ----------------------------------------------------------------
class _Tables(HTMLParser):
    """Every ``<table id=...>``: row labels and, per column, the cells' ``data-value``
    (NaN for text cells)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, Any]] = {}
        self._id: str | None = None
        self._row: list[Any] | None = None
        self._in_th = False
        self._row_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._id = a["id"]
            self.tables[self._id] = {"header": [], "rows": []}
        elif self._id and tag == "tr":
            self._row = []
        elif self._id and tag == "th":
            self._in_th = True
            self._row_text = ""
        elif self._id and tag == "td" and self._row is not None:
            value = a.get("data-value")
            self._row.append(float(value) if value is not None else np.nan)

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self._row_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._in_th:
            self._in_th = False
            assert self._row is not None
            self._row.append(self._row_text)
        elif tag == "tr" and self._id and self._row is not None:
            table = self.tables[self._id]
            if table["header"]:
                table["rows"].append(self._row)
            else:
                table["header"] = self._row
            self._row = None
        elif tag == "table":
            self._id = None


def tables_of(text: str) -> dict[str, pd.DataFrame]:
    """Each table as a frame of its exact values, indexed by the row labels."""
    parser = _Tables()
    parser.feed(text)
    out = {}
    for tid, t in parser.tables.items():
        header = t["header"]
        frame = pd.DataFrame([r[1:] for r in t["rows"]], columns=header[1:],
                             index=[r[0] for r in t["rows"]], dtype=float)
        out[tid] = frame
    return out


def check_same(shown: pd.DataFrame, expected: pd.DataFrame, rtol: float = 0.0) -> None:
    assert list(shown.index) == [str(i) for i in expected.index]
    numeric = expected.select_dtypes("number")
    np.testing.assert_allclose(shown[numeric.columns].to_numpy(), numeric.to_numpy(dtype=float),
                               rtol=rtol, equal_nan=True)


# -- fits with known diagnostics ------------------------------------------------------------
def shuffled(fit: bm.Fit, seed: int = 0) -> bm.Fit:
    """The same posterior draws in a random order over chains and draws: independent
    draws, so the chains agree and every draw counts (a converged sampler's output)."""
    n = fit.n_chains * fit.n_draws
    order = np.random.default_rng(seed).permutation(n)

    def mix(a: np.ndarray) -> np.ndarray:
        return a.reshape(n, *a.shape[2:])[order].reshape(a.shape)

    return dataclasses.replace(fit, posterior={k: mix(v) for k, v in fit.posterior.items()},
                               sample_stats={**fit.sample_stats, "diverging": np.zeros_like(
                                   fit.sample_stats["diverging"])})


@pytest.fixture(scope="module")
def good_fit() -> bm.Fit:
    # 1000 draws a chain: shuffled, the four split chains hold 500 independent draws each,
    # so r_hat's chance excess over 1 stays near 0.003 over every parameter. With 300 a
    # chain it reaches 0.01 by luck alone and the verdict's line is crossed by noise.
    fit = bm.fit(bm.example_data(), bm.example_spec(), seed=1, chains=2, warmup=300,
                 draws=1000, progress=False)
    return shuffled(fit)


@pytest.fixture(scope="module")
def national(example_fit: bm.Fit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(example_fit, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def national_tables(national: Path) -> dict[str, pd.DataFrame]:
    return tables_of(national.read_text(encoding="utf-8"))


# -- content --------------------------------------------------------------------------------
def test_every_section_is_there_and_the_page_is_self_contained(national: Path) -> None:
    text = national.read_text(encoding="utf-8")
    for sid, heading in SECTIONS:
        assert f'<section class="part" id="{sid}"><h2>{heading}</h2>' in text
    scripts = re.findall(r"<script[^>]*>", text, flags=re.IGNORECASE)
    assert scripts and not any(re.search(r"\bsrc\s*=", s) for s in scripts)
    own = text.replace(plotly_js(), "")  # plotly.js itself names its website in strings
    assert text.count(plotly_js()) == 1 and "<link" not in own and "http" not in own
    assert set(re.findall(r'<div id="figure-(\w+)"', text)) == FIGURES
    assert text.count("Plotly.newPlot(") == len(FIGURES)


def test_summary_and_roi_tables_are_the_fits(example_fit: bm.Fit,
                                             national_tables: dict[str, pd.DataFrame]) -> None:
    check_same(national_tables["table-summary"], example_fit.summary())
    assert list(national_tables["table-summary"].columns) == [
        "mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail", "r_hat"]
    check_same(national_tables["table-roi"], roi(example_fit))
    check_same(national_tables["table-media-share"], example_fit.media_share())
    timing = national_tables["table-carryover"]
    check_same(timing, half_life(example_fit))
    alpha = example_fit.posterior["adstock_alpha"].reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(timing["half_life"], (np.log(0.5) / np.log(alpha)).mean(axis=0),
                               rtol=1e-9)  # geometric: the closed form ln 0.5 / ln alpha
    metrics = national_tables["table-fit-metrics"]["value"]
    assert list(metrics.index) == ["R²", "MAPE %", "Durbin-Watson", "RMSE", "94% coverage"]
    assert list(metrics) == pytest.approx(list(example_fit.fit_metrics().values()), rel=1e-12)


def test_data_contribution_and_plan_tables(example_fit: bm.Fit,
                                           national_tables: dict[str, pd.DataFrame]) -> None:
    spend = national_tables["table-spend"]
    np.testing.assert_allclose(spend["spend"], example_fit.data.media.sum(axis=0), rtol=1e-6)
    contrib = national_tables["table-contributions"]
    by_component = example_fit.contributions().groupby("component", sort=False)["mean"].sum()
    np.testing.assert_allclose(contrib["contribution"], by_component[contrib.index], rtol=1e-5)
    assert contrib["share"].sum() == pytest.approx(1.0)
    plan = optimize_budget(example_fit, FixedBudget(float(historical_spend(example_fit, 13)
                                                          .sum())), n_periods=13)
    shown = national_tables["table-allocation"]
    np.testing.assert_allclose(shown["optimal"], plan.to_frame()["optimal"], rtol=1e-9)
    assert shown.loc["total", "optimal"] == pytest.approx(shown.loc["total",
                                                                    "historical_at_budget"])


def test_converged_fit_is_trusted(good_fit: bm.Fit) -> None:
    v = verdict(good_fit)
    assert v.status == "ok" and v.trusted and v.headline == "can be trusted", v.to_frame()
    text = report_html(good_fit)
    assert 'data-status="ok"' in text and "Verdict: can be trusted" in text


def test_disagreeing_chains_and_divergences_flip_the_verdict(good_fit: bm.Fit) -> None:
    post = {k: v.copy() for k, v in good_fit.posterior.items()}
    post["intercept"][1] += 5 * post["intercept"].std()  # chain 1 stuck elsewhere
    stuck = verdict(dataclasses.replace(good_fit, posterior=post))
    assert stuck.status == "bad" and stuck.headline.startswith("do not use: chains disagree")
    assert "intercept" in stuck.headline and "Fix: refit with more warm-up" in stuck.reasons[0]
    diverging = np.zeros_like(good_fit.sample_stats["diverging"])
    diverging[0, 0] = True
    one = verdict(dataclasses.replace(
        good_fit, sample_stats={**good_fit.sample_stats, "diverging": diverging}))
    assert one.status == "care" and one.headline == "use with care: 1 divergent draws (0.1%)"
    diverging[0, :30] = True
    many = verdict(dataclasses.replace(
        good_fit, sample_stats={**good_fit.sample_stats, "diverging": diverging}))
    assert many.status == "bad" and "30 divergent draws" in many.headline


def test_poor_fit_quality_is_named(good_fit: bm.Fit) -> None:
    y = good_fit.data.y_gt.copy()
    y[0] = np.random.default_rng(1).permutation(y[0])  # the model no longer explains y
    v = verdict(dataclasses.replace(good_fit, data=good_fit.data.with_arrays(y=y)))
    checks = v.to_frame()["status"]
    assert checks["R²"] == "bad" and checks["max r_hat"] == "ok"
    assert v.headline.startswith("do not use: weak fit (R² ")


def test_a_barely_sampled_fit_is_not_to_be_used() -> None:
    fit = bm.fit(bm.example_data(), bm.example_spec(), seed=1, chains=2, warmup=5, draws=20,
                 progress=False)
    v = verdict(fit)
    assert v.status == "bad"
    assert {"max r_hat", "min ess_bulk"} <= set(v.to_frame().query("status == 'bad'").index)
    text = report_html(fit, n_periods=4)
    assert 'data-status="bad"' in text and "Verdict: do not use: chains disagree" in text


def test_panel_fit_report(panel_fit: bm.Fit, tmp_path: Path) -> None:
    path = write_report(panel_fit, tmp_path / "geo.html", n_periods=8, title="Geo <MMM>")
    text = path.read_text(encoding="utf-8")
    tables = tables_of(text)
    cells = tables["table-panels"]
    assert list(cells.index) == ["north", "south"]
    np.testing.assert_allclose(cells["sales"], panel_fit.data.y.sum(axis=1), rtol=1e-6)
    check_same(tables["table-roi"], roi(panel_fit))
    check_same(tables["table-carryover"], half_life(panel_fit))
    cells_timing = half_life(panel_fit, level="panel")
    assert list(cells_timing["panel"]) == ["north", "north", "south", "south"]
    assert list(cells_timing.index) == ["tv", "search", "tv", "search"]
    assert "Geo &lt;MMM&gt;" in text and "2 cells (geo): north, south" in text
    assert 'id="table-allocation"' in text and "over 8 periods" in text
    # one chain: convergence cannot be checked, which the verdict says
    judged = verdict(panel_fit)
    assert judged.to_frame().loc["max r_hat", "status"] == "care"
    assert any(r.startswith("With one chain, r_hat cannot show") for r in judged.reasons)
    # two geos: shapes and controls are shared by default; pooled, a fit that has not
    # converged is told to share them, in its warnings and its verdict
    assert not [w for w in panel_fit.warnings() if "share the curves' shapes" in w]
    assert "geo pooling" not in judged.to_frame().index
    pooled = dataclasses.replace(panel_fit, spec=panel_fit.spec.replace(geo_shared=[]))
    advice = [w for w in pooled.warnings() if "share the curves' shapes" in w]
    assert len(advice) == 1
    assert "geo_shared=['adstock_alpha', 'saturation_lam', 'gamma_control']" in advice[0]
    assert verdict(pooled).to_frame().loc["geo pooling", "status"] == "care"

def test_write_is_atomic(example_fit: bm.Fit, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")

    def broken(fit: bm.Fit) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("bayesmmm.report._report.verdict", broken)
    with pytest.raises(RuntimeError, match="boom"):
        write_report(example_fit, path)
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# -- the command ----------------------------------------------------------------------------
def test_cli_report(example_fit: bm.Fit, tmp_path: Path) -> None:
    fit_file = example_fit.save(tmp_path / "fit.nc")
    out = tmp_path / "sub" / "x.html"
    result = runner.invoke(app, ["report", str(fit_file), "--out", str(out), "--periods", "6"])
    assert result.exit_code == 0, result.output
    assert "Verdict: " in result.output and "Wrote " in result.output
    text = out.read_text(encoding="utf-8")
    assert all(f'id="{sid}"' in text for sid, _ in SECTIONS) and "over 6 periods" in text


def test_cli_report_errors(tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    missing = runner.invoke(app, ["report", str(tmp_path / "nope.nc"), "--out", str(out)])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    not_a_fit = tmp_path / "fit.nc"
    not_a_fit.write_text("hello", encoding="utf-8")
    broken = runner.invoke(app, ["report", str(not_a_fit), "--out", str(out)])
    assert broken.exit_code == 1 and "not a readable fit file" in broken.output
    folder = runner.invoke(app, ["report", str(not_a_fit), "--out", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in folder.output
    assert not out.exists()


# -- the browser ------------------------------------------------------------------------------
def screenshot_dir() -> Path:
    path = Path(os.environ.get("BAYESMMM_SCREENSHOTS") or ROOT / "build" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_offline(browser: Any, path: Path) -> tuple[Any, Any, list[str], list[str]]:
    """A page with no network: every request other than file:// is aborted and noted."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    attempted: list[str] = []
    errors: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return context, page, attempted, errors


RENDERED = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => [
    d.id, d.querySelectorAll('.main-svg').length, d.querySelectorAll('g.trace').length])"""


def check_rendered(page: Any, text: str) -> None:
    n_figures = text.count("Plotly.newPlot(")
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {n_figures}",
        timeout=30_000)
    for sid, heading in SECTIONS:
        section = page.locator(f"section#{sid}")
        assert section.is_visible(), sid
        assert section.locator("h2").inner_text() == heading
    plots = page.evaluate(RENDERED)
    assert len(plots) == n_figures
    assert all(svgs >= 1 and traces >= 1 for _, svgs, traces in plots), plots
    assert page.locator("#verdict").is_visible()


def test_report_renders_offline_in_chromium(browser: Any, national: Path) -> None:
    context, page, attempted, errors = open_offline(browser, national)
    try:
        check_rendered(page, national.read_text(encoding="utf-8"))
        assert page.locator("#table-summary tbody tr").count() == 15
        page.screenshot(path=str(screenshot_dir() / "report.png"), full_page=True)
        assert attempted == [] and errors == []
        # the guard works: a page that does reach out is caught
        page.set_content('<img src="http://198.51.100.1/pixel.png">')
        page.wait_for_timeout(200)
        assert attempted == ["http://198.51.100.1/pixel.png"]
    finally:
        context.close()


def test_panel_report_renders_offline_in_chromium(browser: Any, panel_fit: bm.Fit,
                                                  tmp_path: Path) -> None:
    path = write_report(panel_fit, tmp_path / "geo.html", n_periods=8)
    context, page, attempted, errors = open_offline(browser, path)
    try:
        check_rendered(page, path.read_text(encoding="utf-8"))
        page.screenshot(path=str(screenshot_dir() / "report_panel.png"), full_page=True)
        assert attempted == [] and errors == []
    finally:
        context.close()
