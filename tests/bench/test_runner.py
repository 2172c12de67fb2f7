"""``bayesmmm bench``: files and columns, the comparison tables, target_accept, the cache,
missing peers, plots from the cache."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmmm.bench import SUMMARY_COLUMNS, BenchOptions, BenchResult, run_bench
from bayesmmm.bench._tables import (
    DIAGNOSTICS_COLUMNS,
    ESS_COLUMNS,
    PERFORMANCE_COLUMNS,
    RUNTIME_COLUMNS,
)
from bayesmmm.cli import app
from bayesmmm.errors import SpecError

runner = CliRunner()
# target_accept off the default, so that the recorded value shows it reached the sampler
TINY = {"chains": 1, "tune": 100, "draws": 100, "target_accept": 0.85}
TABLES = {"runtime_comparison.csv": RUNTIME_COLUMNS, "ess_comparison.csv": ESS_COLUMNS,
          "performance_metrics.csv": PERFORMANCE_COLUMNS,
          "diagnostics_summary.csv": DIAGNOSTICS_COLUMNS}


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
    for name in [*TABLES, "ppc_<dataset>_<library>-<sampler>.png"]:
        assert f"`{name}`" in readme, name
    assert "target_accept 0.85" in readme


def test_comparison_tables_agree_with_the_summary(first: BenchResult, out: Path) -> None:
    summary = pd.read_csv(out / "summary.csv").set_index("library").loc["bayesmmm"]
    tables = {name: pd.read_csv(out / name) for name in TABLES}
    for name, columns in TABLES.items():
        assert list(tables[name].columns) == columns, name
    rows = {name: t.set_index("library").loc["bayesmmm"] for name, t in tables.items()}
    rt = rows["runtime_comparison.csv"]
    assert rt["runtime_s"] == summary["runtime_s"] and rt["cpu_s"] == summary["cpu_s"]
    assert rt["runtime_vs_fastest"] == 1.0 and rt["runtime_vs_bayesmmm"] == 1.0
    # BayesMMM reports its warm-up and sampling; setup is the rest of the wall time
    assert rt["warmup_s"] > 0 and rt["sampling_s"] > 0
    assert rt["sampler_s"] == pytest.approx(rt["warmup_s"] + rt["sampling_s"])
    assert rt["setup_s"] == pytest.approx(rt["runtime_s"] - rt["sampler_s"])
    ess = rows["ess_comparison.csv"]
    per_param = pd.read_csv(_fit_dir(out) / "summary.csv")
    assert ess["ess_bulk_min"] == pytest.approx(summary["ess_bulk_min"])
    assert ess["ess_bulk_min"] == pytest.approx(per_param["ess_bulk"].min())
    assert ess["ess_tail_median"] == pytest.approx(per_param["ess_tail"].median())
    assert ess["ess_bulk_per_cpu_s"] == pytest.approx(summary["ess_bulk_min"]
                                                      / summary["cpu_s"])
    assert ess["n_draws"] == 100 and ess["ess_bulk_per_s_vs_bayesmmm"] == 1.0
    perf = rows["performance_metrics.csv"]
    for col in ("r2", "mape", "durbin_watson"):  # one computation behind both files
        assert perf[col] == pytest.approx(summary[col]), col
    assert perf["n_obs"] == 104 and perf["r2"] > 0.5 and 0 < perf["mape"] < 10
    diag = rows["diagnostics_summary.csv"]
    assert diag["target_accept"] == 0.85 and diag["divergences"] == summary["divergences"]
    assert diag["steps_per_draw"] == pytest.approx(summary["steps_per_draw"])
    assert not diag["converged"]  # one chain: no r_hat, and 100 draws: ESS < 400
    assert "no r_hat" in diag["not_converged_because"]
    assert "max_r_hat <= 1.01" in diag["converged_rule"]
    png = out / "ppc_small_business_bayesmmm-nuts.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_target_accept_reaches_the_sampler(first: BenchResult, out: Path) -> None:
    import bayesmmm as bm

    assert pd.read_csv(out / "summary.csv")["target_accept"].iloc[0] == 0.85
    metrics = json.loads((_fit_dir(out) / "metrics.json").read_text())
    assert metrics["child"]["target_accept"] == 0.85  # read back from the fit
    fit = bm.load(_fit_dir(out) / "fit.nc")
    assert fit.meta["options"]["target_accept"] == 0.85
    # the cache key holds it: a fit at another target is not reused
    assert metrics["settings"]["target_accept"] == 0.85
    other = BenchOptions(**{**TINY, "target_accept": 0.95})
    assert other.settings_for("bayesmmm") != metrics["settings"]
    assert other.settings_for("meridian")["target_accept"] == 0.95


def test_bad_target_accept_is_refused(out: Path) -> None:
    for bad in (0.0, 1.0, 1.5, -0.2, float("nan"), True):
        with pytest.raises(SpecError, match=r"--target-accept must be in \(0, 1\)"):
            BenchOptions(target_accept=bad)
    result = runner.invoke(app, ["bench", "--target-accept", "1.2", "--out", str(out)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--target-accept must be in (0, 1) (exclusive), got 1.2" in text
    assert BenchOptions().target_accept == 0.9


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
    diag = pd.read_csv(out / "diagnostics_summary.csv").set_index("library")
    assert list(diag.index) == ["bayesmmm", "pymc-marketing", "meridian"]
    assert diag.loc["meridian", "status"] == "skipped"
    assert diag.loc[["pymc-marketing", "meridian"], ["max_r_hat", "converged"]].isna().all().all()
    runtime = pd.read_csv(out / "runtime_comparison.csv").set_index("library")
    assert runtime.loc["pymc-marketing", "target_accept"] == 0.85


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
                                 "100", "--draws", "100", "--target-accept", "0.85",
                                 "--out", str(out)])
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
