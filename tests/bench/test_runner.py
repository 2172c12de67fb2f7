"""``bayesmmm bench``: files and columns, the cache, missing peers, plots from the cache."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmmm.bench import SUMMARY_COLUMNS, BenchOptions, BenchResult, run_bench
from bayesmmm.cli import app
from bayesmmm.errors import SpecError

runner = CliRunner()
TINY = {"chains": 1, "tune": 100, "draws": 100}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def first(out: Path) -> BenchResult:
    opts = BenchOptions(datasets=("small_business",), libraries=("bayesmmm",), out=out, **TINY)
    return run_bench(opts, log=lambda m: None)


def _fit_dir(out: Path) -> Path:
    return out / "small_business" / "bayesmmm-nuts"


def test_writes_expected_files_and_columns(first: BenchResult, out: Path) -> None:
    ds = out / "small_business"
    for name in ("data.csv", "truth.json", "spec.json", "summary.csv", "roi.png"):
        assert (ds / name).is_file(), name
    for name in ("metrics.json", "summary.csv", "roi.csv", "fit.nc"):
        assert (_fit_dir(out) / name).is_file(), name
    table = pd.read_csv(out / "summary.csv")
    assert list(table.columns) == SUMMARY_COLUMNS
    row = table.iloc[0]
    assert (row["dataset"], row["library"], row["sampler"], row["status"]) == \
        ("small_business", "bayesmmm", "nuts", "ok")
    assert (row["chains"], row["tune"], row["draws"]) == (1, 100, 100)
    for col in ("runtime_s", "ess_bulk_min", "ess_tail_min", "ess_bulk_per_s", "r2", "mape",
                "durbin_watson", "coverage_94", "roi_mean_abs_rel_error",
                "contribution_srmse", "peak_mib", "artifact_mib"):
        assert pd.notna(row[col]) and row[col] >= 0, col
    assert row["ess_bulk_per_s"] == pytest.approx(row["ess_bulk_min"] / row["runtime_s"])
    assert row["n_coverage"] == 16 and row["divergences"] == 0
    roi = pd.read_csv(_fit_dir(out) / "roi.csv", index_col="channel")
    assert list(roi.index) == ["search", "social", "display", "video"]
    assert {"truth", "mean", "hdi_3%", "hdi_97%", "in_hdi_94"} <= set(roi.columns)
    metrics = json.loads((_fit_dir(out) / "metrics.json").read_text())
    assert metrics["settings"] == {**TINY, "seed": 0, "data_seed": 0}
    assert {c["name"] for c in metrics["validation"]["checks"]} >= {"coverage_94", "mape"}
    readme = (out / "README.md").read_text()
    assert "| small_business | bayesmmm | nuts | ok |" in readme
    assert "Where the models differ" in readme


def test_cache_hit_does_not_refit(first: BenchResult, out: Path) -> None:
    metrics = _fit_dir(out) / "metrics.json"
    data = out / "small_business" / "data.csv"
    stamps = metrics.stat().st_mtime_ns, data.stat().st_mtime_ns
    messages: list[str] = []
    opts = BenchOptions(datasets=("small_business",), libraries=("bayesmmm",), out=out, **TINY)
    again = run_bench(opts, log=messages.append)
    assert (metrics.stat().st_mtime_ns, data.stat().st_mtime_ns) == stamps
    assert any("cached" in m for m in messages)
    assert again.table.iloc[0]["runtime_s"] == first.table.iloc[0]["runtime_s"]


def test_missing_peers_are_skipped_not_crashed(first: BenchResult, out: Path) -> None:
    """This interpreter has neither pymc_marketing nor meridian."""
    messages: list[str] = []
    opts = BenchOptions(datasets=("small_business",), out=out,
                        libraries=("bayesmmm", "pymc-marketing", "meridian"),
                        peer_python=sys.executable, meridian_python=sys.executable, **TINY)
    result = run_bench(opts, log=messages.append)
    status = dict(zip(result.table["library"], result.table["status"], strict=True))
    assert status == {"bayesmmm": "ok", "pymc-marketing": "skipped", "meridian": "skipped"}
    assert not result.failed
    skips = [m for m in messages if "skipped" in m]
    assert any(m.startswith("pymc-marketing: skipped") and "pymc_marketing" in m
               for m in skips), skips
    assert any(m.startswith("meridian: skipped (not installed") for m in skips), skips
    assert not (out / "small_business" / "pymc-marketing-nutpie" / "metrics.json").exists()
    assert "skipped" in (out / "README.md").read_text()


def test_plots_only_redraws_from_cache(first: BenchResult, out: Path) -> None:
    png = out / "small_business" / "roi.png"
    png.unlink()
    metrics = _fit_dir(out) / "metrics.json"
    stamp = metrics.stat().st_mtime_ns
    opts = BenchOptions(datasets=("small_business",), libraries=("bayesmmm",), out=out,
                        plots_only=True, chains=4, tune=1000, draws=1000)  # settings ignored
    result = run_bench(opts, log=lambda m: None)
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert metrics.stat().st_mtime_ns == stamp
    assert result.table.iloc[0]["status"] == "ok"


def test_cli_bench_lists_and_exit_codes(first: BenchResult, out: Path) -> None:
    result = runner.invoke(app, ["bench", "--datasets", "small_business", "--libraries",
                                 "bayesmmm", "pymc-marketing", "--samplers", "nuts", "nutpie",
                                 "--peer-python", sys.executable, "--chains", "1", "--tune",
                                 "100", "--draws", "100", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "cached" in result.output and "pymc-marketing: skipped" in result.output
    assert "Benchmark" in result.output
    bad = runner.invoke(app, ["bench", "--datasets", "huge_business", "--out", str(out)])
    assert bad.exit_code == 2 and "Unknown dataset" in bad.output


def test_options_validate() -> None:
    with pytest.raises(SpecError, match="Unknown library"):
        BenchOptions(libraries=("lightweightmmm",))
    with pytest.raises(SpecError, match="--peer-draws"):
        BenchOptions(peer_draws=0)
    opts = BenchOptions(samplers=("nuts",), peer_draws=200)
    assert opts.samplers_for("bayesmmm") == (["nuts"], None)
    samplers, why = opts.samplers_for("meridian")
    assert samplers == ["tfp"] and why and "default" in why
    assert opts.settings_for("meridian")["draws"] == 200
    assert opts.settings_for("bayesmmm")["draws"] == 1000
