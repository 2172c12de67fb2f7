"""The command line: exit codes, messages without tracebacks, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.cli import app

runner = CliRunner()
COLS = ["--date-column", "date_week", "--y-column", "y", "--channel", "x1", "--channel", "x2",
        "--control", "event_1", "--control", "event_2", "--control", "t"]
QUICK = ["--chains", "2", "--warmup", "150", "--draws", "100"]


@pytest.fixture
def example_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    bm.example_data().to_csv(path, index=False)
    return path


def test_validate_ok(example_csv: Path) -> None:
    result = runner.invoke(app, ["validate", str(example_csv), *COLS])
    assert result.exit_code == 0, result.output
    assert "Validation passed: 0 error(s)" in result.output


def test_validate_bad_data_exit_1_with_fixes(tmp_path: Path) -> None:
    df = bm.example_data()
    df.loc[3, "x1"] = -4.0
    df.loc[5, "date_week"] = "2018-05-06x"
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path), *COLS])
    assert result.exit_code == 1
    assert "[negative_spend] column 'x1'" in result.output
    assert "df['x1'] = df['x1'].clip(lower=0)" in result.output
    assert "[bad_date_format]" in result.output
    assert "Traceback" not in result.output


def test_validate_json(example_csv: Path) -> None:
    result = runner.invoke(app, ["validate", str(example_csv), *COLS, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["ok"] is True


def test_not_a_table_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"PK\x03\x04 workbook")
    result = runner.invoke(app, ["validate", str(path), *COLS])
    assert result.exit_code == 1 and "Excel workbook" in result.output


def test_usage_errors_exit_2(example_csv: Path) -> None:
    result = runner.invoke(app, ["validate", str(example_csv), "--y-column", "y"])
    assert result.exit_code == 2 and "missing --date-column, --channel" in result.output
    result = runner.invoke(app, ["fit", str(example_csv), *COLS, "--target-accept", "3"])
    assert result.exit_code == 2 and "target_accept must be in (0, 1)" in result.output
    result = runner.invoke(app, ["fit", str(example_csv), *COLS, "--chains", "many"])
    assert result.exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


def test_out_is_a_file_is_refused_before_fitting(example_csv: Path, tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    target.write_text("keep me")
    result = runner.invoke(app, ["fit", str(example_csv), *COLS, *QUICK, "--out", str(target)])
    assert result.exit_code == 2 and "is a file; pass a folder" in result.output
    assert "NUTS" not in result.output and target.read_text() == "keep me"


def test_misspelled_column_exit_1_with_suggestion(example_csv: Path) -> None:
    args = [a if a != "x2" else "X_2" for a in COLS]
    result = runner.invoke(app, ["fit", str(example_csv), *args, *QUICK])
    assert result.exit_code == 1
    assert "did you mean 'x2'" in result.output


def test_fit_writes_outputs(example_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["fit", str(example_csv), *COLS, *QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Posterior summary" in result.output and "adstock_alpha[x1]" in result.output
    names = {p.name for p in out.iterdir()}
    assert {"summary.csv", "contributions.csv", "roi.csv", "media_share.csv",
            "half_life.csv", "diagnostics.json", "fit.nc"} <= names
    assert "Carry-over: adstock half-life" in result.output
    timing = pd.read_csv(out / "half_life.csv", index_col=0)
    pd.testing.assert_frame_equal(bm.analysis.half_life(bm.load_fit(out / "fit.nc")), timing,
                                  check_names=False)
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert list(summary.columns) == ["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail",
                                     "r_hat"]
    pd.testing.assert_frame_equal(bm.load_fit(out / "fit.nc").summary(), summary,
                                  check_names=False)
    roi = pd.read_csv(out / "roi.csv", index_col=0)
    assert list(roi.index) == ["x1", "x2"] and (roi["roi"] > 0).all()


def test_fit_from_config(example_csv: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "mmm.toml"
    cfg.write_text('date_column = "date_week"\ny_column = "y"\nchannel_columns = ["x1", "x2"]\n'
                   'control_columns = ["event_1", "event_2", "t"]\nyearly_seasonality = 1\n'
                   "[sampler]\nchains = 2\nwarmup = 100\ndraws = 60\n")
    out = tmp_path / "cfg-out"
    result = runner.invoke(app, ["fit", str(example_csv), "--config", str(cfg), "--out", str(out)])
    assert result.exit_code == 0, result.output
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["sampler"]["options"]["draws"] == 60
    assert "gamma_fourier[cos_order_1]" in pd.read_csv(out / "summary.csv", index_col=0).index


def test_bad_config_exit_2(example_csv: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "mmm.json"
    cfg.write_text('{"date_column": "date_week", "y_column": "y", "channel_columns": ["x1"],'
                   ' "adstock": "geo"}')
    result = runner.invoke(app, ["fit", str(example_csv), "--config", str(cfg)])
    assert result.exit_code == 2 and "Unknown adstock 'geo'" in result.output


def test_demo_runs_as_a_program(tmp_path: Path) -> None:
    """The README's main job, in a real subprocess (console script module)."""
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "bayesmmm", "demo", "--out", str(out),
                           "--chains", "2", "--warmup", "150", "--draws", "100"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "ROI" in proc.stdout and (out / "fit.nc").exists()
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [('{"date_column": "date_week", "y_column": "y", "channel_columns": ["x1"], "sampler": [1]}',
      "'sampler' in the config must be a table"),
     ('{"date_column": "date_week", "y_column": "y", "channel_columns": ["x1"], "priors": [1]}',
      "'priors' must map parameter names")])
def test_config_type_errors_exit_2(example_csv: Path, tmp_path: Path, config: str,
                                   message: str) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(config)
    result = runner.invoke(app, ["fit", str(example_csv), "--config", str(cfg)])
    assert result.exit_code == 2 and message in result.output


def test_non_utf8_config_exit_2(example_csv: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(app, ["fit", str(example_csv), "--config", str(cfg)])
    assert result.exit_code == 2 and "could not be parsed" in result.output


def test_empty_separator_exit_2(example_csv: Path) -> None:
    result = runner.invoke(app, ["validate", str(example_csv), *COLS, "--sep", ""])
    assert result.exit_code == 2 and "not a single separator character" in result.output


def test_output_files_are_readable_by_others(example_csv: Path, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "perm"
        result = runner.invoke(app, ["fit", str(example_csv), *COLS, *QUICK, "--out", str(out)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
