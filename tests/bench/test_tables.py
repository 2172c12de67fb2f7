"""The benchmark's comparison tables, fit metrics, predictive plots and the sampler option
reaching a peer, without fitting anything (a fake PyMC-Marketing stands in for the peer)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bayesmmm.bench import BenchOptions
from bayesmmm.bench._child import BAND
from bayesmmm.bench._plot import plot_ppc
from bayesmmm.bench._runner import MARKER, run_child
from bayesmmm.bench._tables import (
    DIAGNOSTICS_COLUMNS,
    ESS_COLUMNS,
    RUNTIME_COLUMNS,
    Prediction,
    comparison_tables,
)
from bayesmmm.bench._validate import point_fit_metrics


def test_fit_metrics_against_a_hand_computation() -> None:
    y, pred = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 1.5, 3.5, 3.5])
    m = point_fit_metrics(y, pred)
    # residuals -0.5, 0.5, -0.5, 0.5: SS_res 1; SS_tot 2.25 + 0.25 + 0.25 + 2.25 = 5;
    # successive differences 1, -1, 1: DW = 3 / 1; MAPE = mean(.5/1, .5/2, .5/3, .5/4)
    assert m["r2"] == pytest.approx(1 - 1 / 5)
    assert m["durbin_watson"] == pytest.approx(3.0)
    assert m["mape"] == pytest.approx(100 * (0.5 + 0.25 + 0.5 / 3 + 0.125) / 4)
    assert m["rmse"] == pytest.approx(0.5)
    # a random walk's residuals are positively autocorrelated: DW well below 2
    walk = np.cumsum(np.random.default_rng(0).standard_normal(500))
    assert point_fit_metrics(walk + 100, np.full(500, 100.0))["durbin_watson"] < 0.1


def test_fit_metrics_keep_geos_apart_and_skip_zero_targets() -> None:
    y = np.array([[1.0, 2.0, 3.0], [0.0, 10.0, 10.0]])
    pred = np.array([[2.0, 2.0, 2.0], [1.0, 10.0, 8.0]])
    m = point_fit_metrics(y, pred)
    # residuals [-1, 0, 1] and [-1, 0, 2]: SS_res 7; squared differences within each geo
    # 1 + 1 and 1 + 4 (the jump from one geo's last period to the next geo's first is no
    # time step: counting it would add 4, giving 11 / 7)
    assert m["durbin_watson"] == pytest.approx(7 / 7)
    # y = 0 is left out of MAPE: |-1/1|, 0, |1/3|, 0, |2/10|
    assert m["mape"] == pytest.approx(100 * (1 + 0 + 1 / 3 + 0 + 0.2) / 5)
    assert m["r2"] == pytest.approx(1 - 7 / np.sum((y - y.mean()) ** 2))


def _summary_rows() -> pd.DataFrame:
    base = {"chains": 4, "tune": 1000, "draws": 1000, "target_accept": 0.9}
    rows = [
        dict(dataset="a", library="bayesmmm", sampler="nuts", status="ok", runtime_s=10.0,
             cpu_s=8.0, ess_bulk_min=1000.0, ess_tail_min=800.0, ess_bulk_per_s=100.0,
             ess_tail_per_s=80.0, ess_bulk_per_cpu_s=125.0, max_r_hat=1.004,
             divergences=0, steps_per_draw=15.0),
        dict(dataset="a", library="pymc-marketing", sampler="nutpie", status="ok",
             runtime_s=40.0, cpu_s=32.0, ess_bulk_min=500.0, ess_tail_min=600.0,
             ess_bulk_per_s=12.5, ess_tail_per_s=15.0, ess_bulk_per_cpu_s=500 / 32,
             max_r_hat=1.02, divergences=6, steps_per_draw=31.0),
        dict(dataset="a", library="meridian", sampler="tfp", status="skipped",
             note="not installed"),
        dict(dataset="b", library="bayesmmm", sampler="nuts", status="ok", runtime_s=50.0,
             cpu_s=60.0, ess_bulk_min=300.0, ess_tail_min=400.0, ess_bulk_per_s=6.0,
             ess_tail_per_s=8.0, ess_bulk_per_cpu_s=5.0, max_r_hat=1.001, divergences=0),
        dict(dataset="b", library="meridian", sampler="tfp", status="ok", runtime_s=25.0,
             cpu_s=90.0, ess_bulk_min=500.0, ess_tail_min=500.0, ess_bulk_per_s=20.0,
             ess_tail_per_s=20.0, ess_bulk_per_cpu_s=500 / 90, max_r_hat=1.003,
             divergences=0),
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


def test_ratios_and_convergence_rule(tmp_path: Path) -> None:
    tables = comparison_tables(_summary_rows(), tmp_path)  # no fit folders: rows only
    rt = tables["runtime_comparison.csv"].set_index(["dataset", "library"])
    assert list(tables["runtime_comparison.csv"].columns) == RUNTIME_COLUMNS
    assert rt.loc[("a", "bayesmmm"), "runtime_vs_fastest"] == 1.0
    assert rt.loc[("a", "pymc-marketing"), "runtime_vs_fastest"] == pytest.approx(4.0)
    assert rt.loc[("a", "pymc-marketing"), "cpu_vs_bayesmmm"] == pytest.approx(4.0)
    assert rt.loc[("b", "bayesmmm"), "runtime_vs_fastest"] == pytest.approx(2.0)
    assert rt.loc[("b", "meridian"), "runtime_vs_bayesmmm"] == pytest.approx(0.5)
    assert rt.loc[("b", "meridian"), "cpu_vs_fastest"] == pytest.approx(1.5)
    assert pd.isna(rt.loc[("a", "meridian"), "runtime_vs_fastest"])  # skipped: no ratio
    ess = tables["ess_comparison.csv"].set_index(["dataset", "library"])
    assert list(tables["ess_comparison.csv"].columns) == ESS_COLUMNS
    assert ess.loc[("a", "pymc-marketing"), "ess_bulk_per_s_vs_bayesmmm"] == \
        pytest.approx(0.125)
    assert ess.loc[("b", "bayesmmm"), "ess_bulk_per_s_vs_best"] == pytest.approx(0.3)
    assert ess.loc[("a", "bayesmmm"), "ess_tail_per_cpu_s"] == pytest.approx(100.0)
    assert ess.loc[("a", "bayesmmm"), "n_draws"] == 4000
    diag = tables["diagnostics_summary.csv"].set_index(["dataset", "library"])
    assert list(tables["diagnostics_summary.csv"].columns) == DIAGNOSTICS_COLUMNS
    assert diag.loc[("a", "bayesmmm"), "converged"] is True
    assert diag.loc[("a", "pymc-marketing"), "converged"] is False
    assert diag.loc[("a", "pymc-marketing"), "not_converged_because"] == \
        "max_r_hat 1.020 > 1.01; 6 divergences"
    assert diag.loc[("a", "pymc-marketing"), "divergence_rate"] == pytest.approx(6 / 4000)
    assert diag.loc[("b", "bayesmmm"), "not_converged_because"] == "ess_bulk_min 300 < 400"
    assert diag.loc[("a", "meridian"), "converged"] is None
    assert diag["converged_rule"].iloc[0] == \
        "max_r_hat <= 1.01 and divergences == 0 and ess_bulk_min >= 400"


def test_ppc_plot_draws_one_panel_per_geo(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    mu = 100 + rng.standard_normal((3, 30)).cumsum(axis=1)
    pred = Prediction(y=mu + rng.standard_normal(mu.shape), mu=mu, low=mu - 2, high=mu + 2,
                      dates=pd.date_range("2024-01-07", periods=30, freq="W"),
                      geos=("north", "south", "west"))
    path = plot_ppc(pred, "x / lib-s", tmp_path / "ppc_x_lib-s.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_band = Prediction(pred.y[:1], mu[:1], None, None, pred.dates, ())  # an older fit
    assert plot_ppc(no_band, "x", tmp_path / "old.png").is_file()


def test_run_child_hands_target_accept_to_every_library(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, MARKER + json.dumps({"runtime_s": 1}), "")

    monkeypatch.setattr("bayesmmm.bench._runner._model_spec", lambda folder: folder / "m.json")
    monkeypatch.setattr("bayesmmm.bench._runner.subprocess.run", fake_run)
    opts = BenchOptions(target_accept=0.95)
    for library, sampler in (("bayesmmm", "nuts"), ("pymc-marketing", "nutpie"),
                             ("meridian", "tfp")):
        run_child(sys.executable, library, sampler, tmp_path, tmp_path, opts)
        assert seen[-1][seen[-1].index("--target-accept") + 1] == "0.95", library
        assert opts.settings_for(library)["target_accept"] == 0.95


FAKE_FIT_SPEED = '''
"""A stand-in for benchmarks/fit_speed.py whose PyMC-Marketing model records its call."""
import json, os
import arviz as az
import numpy as np


class FakeMMM:
    def __init__(self, spec):
        self.channels = list(spec["channel_columns"])

    def fit(self, X, y, **kwargs):
        with open(os.environ["FAKE_PEER_CALL"], "w") as fh:
            json.dump(kwargs, fh)
        rng = np.random.default_rng(0)
        c, d, t, k = kwargs["chains"], kwargs["draws"], len(y), len(self.channels)
        contrib = np.abs(rng.normal(1.0, 0.1, (c, d, t, k)))
        mu = np.asarray(y, float)[None, None] + rng.normal(0, 1.0, (c, d, t))
        coords = {"date": np.arange(t), "channel": self.channels}
        idata = az.from_dict(
            posterior={"intercept": rng.normal(size=(c, d)),
                       "y_sigma": np.abs(rng.normal(size=(c, d))),
                       "channel_contribution_original_scale": contrib,
                       "y_original_scale": mu},
            sample_stats={"diverging": np.zeros((c, d), bool),
                          "n_steps": np.full((c, d), 7.0)},
            coords=coords, dims={"channel_contribution_original_scale": ["date", "channel"],
                                 "y_original_scale": ["date"]})
        idata.posterior.attrs["sampling_time"] = 1.25
        return idata


def _peer_model(spec):
    return FakeMMM(spec)
'''


def test_pymc_marketing_gets_target_accept_and_writes_the_band(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The child's PyMC-Marketing path end to end (in this process), with fake
    `pymc_marketing`, `nutpie` and peer adapter: the sampler is called with
    --target-accept, and posterior.npz holds the predictive mean and its band."""
    fakes, bench, fit_dir = tmp_path / "fakes", tmp_path / "benchmarks", tmp_path / "fit"
    for name in ("pymc_marketing", "nutpie"):
        (fakes / name).mkdir(parents=True)
        (fakes / name / "__init__.py").write_text('__version__ = "0.0-fake"\n')
    bench.mkdir()
    (bench / "fit_speed.py").write_text(textwrap.dedent(FAKE_FIT_SPEED))
    n = 12
    df = pd.DataFrame({"date": pd.date_range("2024-01-07", periods=n, freq="W"),
                       "tv": np.arange(1.0, n + 1), "radio": np.full(n, 2.0),
                       "event": np.zeros(n), "sales": np.linspace(50, 60, n)})
    df.to_csv(tmp_path / "data.csv", index=False)
    spec = {"date_column": "date", "y_column": "sales", "channel_columns": ["tv", "radio"],
            "control_columns": ["event"], "panel_columns": []}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    call = tmp_path / "call.json"
    monkeypatch.setenv("FAKE_PEER_CALL", str(call))
    monkeypatch.setattr(sys, "path", [str(fakes), *sys.path])  # restored afterwards
    for name in ("_child", "_peers", "fit_speed", "geo_speed", "pymc_marketing", "nutpie"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    from bayesmmm.bench import _child

    _child.main(["--library", "pymc-marketing", "--sampler", "nutpie",
                 "--data", str(tmp_path / "data.csv"), "--spec", str(tmp_path / "spec.json"),
                 "--out", str(fit_dir), "--chains", "2", "--tune", "5", "--draws", "50",
                 "--target-accept", "0.93", "--benchmarks", str(bench)])
    for name in ("_child", "_peers", "fit_speed", "geo_speed", "pymc_marketing", "nutpie"):
        sys.modules.pop(name, None)
    out = capsys.readouterr()
    lines = [ln for ln in out.out.splitlines() if ln.startswith(MARKER)]
    result = json.loads(lines[-1][len(MARKER):])
    assert "error" not in result and "skipped" not in result, (result, out.err[-2000:])
    assert json.loads(call.read_text())["target_accept"] == 0.93
    assert result["target_accept"] == 0.93 and result["seconds_sampler"] == 1.25
    raw = np.load(fit_dir / "posterior.npz")
    assert raw["mu"].shape == raw["mu_low"].shape == raw["mu_high"].shape == (1, n)
    assert np.all(raw["mu_low"] <= raw["mu"]) and np.all(raw["mu"] <= raw["mu_high"])
    assert BAND == (0.03, 0.97)


def test_meridians_sampler_keywords_pass_as_a_static_argument(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Meridian's JAX backend compiles its sampler with the dual-averaging keywords as a
    static argument: a plain dict does not hash and the fit failed."""
    import importlib

    import jax

    import bayesmmm.bench

    # the peers' module runs as a child script, its folder first on the path
    monkeypatch.syspath_prepend(str(Path(bayesmmm.bench.__file__).parent))
    for name in ("_child", "_peers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    _StaticKwargs = importlib.import_module("_peers")._StaticKwargs

    run = jax.jit(lambda x, kw: x * kw["target_accept_prob"], static_argnames=["kw"])
    kw = _StaticKwargs(target_accept_prob=0.9)
    assert float(run(2.0, kw=kw)) == pytest.approx(1.8)
    assert dict(kw) == {"target_accept_prob": 0.9}
    with pytest.raises(ValueError, match="hash"):
        run(2.0, kw={"target_accept_prob": 0.9})
    for name in ("_child", "_peers"):
        sys.modules.pop(name, None)
