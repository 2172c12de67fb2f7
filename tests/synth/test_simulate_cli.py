"""``bayesmmm simulate``: three files written whole, a clear refusal otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.cli import app
from bayesmmm.synth import simulate_preset

runner = CliRunner()
FILES = ["data.csv", "spec.json", "truth.json"]


def test_writes_data_truth_and_spec(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = runner.invoke(app, ["simulate", "--preset", "small_business", "--seed", "4",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == FILES  # no temporary files left
    for word in ("rows", "geos", "channels", "controls", "media share", "104"):
        assert word in result.output
    expected = simulate_preset("small_business", seed=4)
    data = bm.load_table(out / "data.csv")
    assert list(data.columns) == list(expected.data.columns)
    np.testing.assert_allclose(data["y"], expected.data["y"], rtol=1e-12)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["parameters"] == expected.truth["parameters"] and truth["seed"] == 4
    spec = json.loads((out / "spec.json").read_text())
    assert spec == expected.spec_kwargs
    assert bm.ModelSpec(**spec).channel_columns == ("search", "social", "display", "video")


def test_refuses_non_empty_folder_without_force(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not empty" in result.output and "--force" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILES, "notes.txt"])


def test_unknown_preset_exit_2_and_nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = runner.invoke(app, ["simulate", "--preset", "huge", "--out", str(out)])
    assert result.exit_code == 2
    assert "Unknown preset 'huge'" in result.output and "medium_business" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_out_is_a_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text("x")
    result = runner.invoke(app, ["simulate", "--out", str(path)])
    assert result.exit_code == 2 and "is a file" in result.output
