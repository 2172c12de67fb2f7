"""Fitting: options validated, seeds reproducible, chains spread over devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.errors import FitFileError, SpecError

from ..conftest import QUICK


def test_fit_shapes_and_names(example_fit: bm.Fit) -> None:
    post = example_fit.posterior
    assert post["adstock_alpha"].shape == (2, 300, 2)
    assert post["gamma_control"].shape == (2, 300, 3)
    assert post["gamma_fourier"].shape == (2, 300, 4)
    assert post["intercept"].shape == (2, 300)
    assert all(v.dtype == np.float32 for v in post.values())
    assert not any(k.startswith("_") for k in post)
    assert example_fit.sample_stats["diverging"].shape == (2, 300)


def test_same_seed_same_draws() -> None:
    a = bm.fit(bm.example_data(), bm.example_spec(), seed=7, chains=2, warmup=50, draws=30,
               progress=False)
    b = bm.fit(bm.example_data(), bm.example_spec(), seed=7, chains=2, warmup=50, draws=30,
               progress=False)
    c = bm.fit(bm.example_data(), bm.example_spec(), seed=8, chains=2, warmup=50, draws=30,
               progress=False)
    np.testing.assert_array_equal(a.posterior["saturation_lam"], b.posterior["saturation_lam"])
    assert not np.array_equal(a.posterior["saturation_lam"], c.posterior["saturation_lam"])


def test_progress_callback_sees_both_phases() -> None:
    seen: list[tuple[str, int, int]] = []
    bm.fit(bm.example_data(), bm.example_spec(), chains=2, warmup=40, draws=20,
           progress=lambda *a: seen.append(a))
    assert seen[-1] == ("sampling", 20, 20)
    assert ("warmup", 40, 40) in seen


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"chains": 0}, "chains must be an integer >= 1"),
     ({"target_accept": 1.2}, r"target_accept must be in \(0, 1\)"),
     ({"draws": 2.5}, "draws must be an integer"),
     ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*32\)"),
     ({"seed": 2**40}, "seed must be an integer in"),
     ({"time_limit": 0}, "time_limit must be a number of seconds > 0"),
     ({"time_limit": "10m"}, "time_limit must be a number of seconds")],
)
def test_bad_sampler_options(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        bm.fit(bm.example_data(), bm.example_spec(), **kwargs)


def test_time_limit_stops_sampling_after_a_chunk_not_the_warmup() -> None:
    seen: list[tuple[str, int, int]] = []
    f = bm.fit(bm.example_data(), bm.example_spec(), chains=2, warmup=60, draws=200,
               time_limit=1e-6, progress=lambda *a: seen.append(a))
    assert ("warmup", 60, 60) in seen               # the warm-up is never cut
    assert seen[-1] == ("sampling", 50, 200)        # one chunk of draws, then the stop
    assert f.n_draws == 50 and f.posterior["intercept"].shape == (2, 50)
    assert f.meta["stopped_early"] and f.meta["options"]["time_limit"] == 1e-6
    assert any("stopped at the time limit" in w and "after 50 of 200 draws" in w
               for w in f.warnings())
    whole = bm.fit(bm.example_data(), bm.example_spec(), chains=2, warmup=60, draws=80,
                   time_limit=3600, progress=False)
    assert whole.n_draws == 80 and not whole.meta["stopped_early"]


def test_model_without_controls_or_seasonality() -> None:
    spec = bm.ModelSpec("date_week", "y", ["x1", "x2"], yearly_seasonality=0)
    f = bm.fit(bm.example_data(), spec, chains=1, warmup=100, draws=50, progress=False)
    assert "gamma_control" not in f.posterior and "gamma_fourier" not in f.posterior
    assert list(f.summary().index) == ["intercept", "adstock_alpha[x1]", "adstock_alpha[x2]",
                                       "saturation_lam[x1]", "saturation_lam[x2]",
                                       "saturation_beta[x1]", "saturation_beta[x2]", "y_sigma"]


@pytest.mark.slow  # a fresh process compiling cold on 2 XLA devices: ~20-40 s
def test_more_chains_than_devices(tmp_path: Path) -> None:
    """4 chains on 2 XLA devices: 2 per device, vmapped; draws stay per chain."""
    code = (
        "import bayesmmm as bm, jax, json\n"
        "f = bm.fit(bm.example_data(), bm.example_spec(), chains=4, warmup=60, draws=25,"
        " progress=False)\n"
        "a = f.posterior['adstock_alpha']\n"
        "print(json.dumps({'devices': jax.local_device_count(), 'shape': list(a.shape),"
        " 'distinct': len({round(float(v), 6) for v in a[:, -1, 0]})}))\n"
    )
    env = {**os.environ, "BAYESMMM_HOST_DEVICES": "2", "BAYESMMM_CACHE_DIR": str(tmp_path)}
    env.pop("XLA_FLAGS", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"devices": 2, "shape": [4, 25, 2], "distinct": 4}


def test_save_load_gives_identical_answers(example_fit: bm.Fit, tmp_path: Path) -> None:
    path = example_fit.save(tmp_path / "fit.nc")
    again = bm.load_fit(path)
    assert again.spec == example_fit.spec
    for name, value in example_fit.posterior.items():
        np.testing.assert_array_equal(again.posterior[name], value)
    assert again.summary().equals(example_fit.summary())
    assert again.roi().equals(example_fit.roi())
    assert again.contributions().equals(example_fit.contributions())
    assert again.fit_metrics() == example_fit.fit_metrics()
    assert again.data.dates.equals(example_fit.data.dates)


def test_fit_file_is_compact(example_fit: bm.Fit, tmp_path: Path) -> None:
    path = example_fit.save(tmp_path / "fit.nc")
    draws = example_fit.n_chains * example_fit.n_draws
    n_values = sum(v.size for v in example_fit.posterior.values())
    # float32 posterior + data + stats, and the float32 pointwise log likelihood (ArviZ's
    # log_likelihood group); no other derived (time x draw) arrays stored
    n_obs = example_fit.data.n_geos * example_fit.data.n_times
    assert path.stat().st_size < 4 * n_values + 4 * n_obs * draws + 64 * draws + 200_000
    assert not list(tmp_path.glob("*.tmp"))


def test_load_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FitFileError, match="does not exist"):
        bm.load_fit(tmp_path / "missing.nc")
    junk = tmp_path / "junk.nc"
    junk.write_text("not a fit")
    with pytest.raises(FitFileError, match="not a readable fit file"):
        bm.load_fit(junk)


def test_fit_accepts_path_and_validates(tmp_path: Path) -> None:
    df = bm.example_data()
    df.loc[0, "x1"] = -1.0
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(bm.DataValidationError, match="negative_spend"):
        bm.fit(path, bm.example_spec(), **QUICK)


@pytest.mark.slow  # two fresh processes, the first compiling cold: ~20-40 s
def test_compilation_cache_is_written_and_reused(tmp_path: Path) -> None:
    """Compiled programs are cached; other data of the same shape, or another number of
    draws, compiles nothing new (data are arguments, not constants in the program)."""
    cache = tmp_path / "jax-cache"
    code = ("import bayesmmm as bm, sys\n"
            "df = bm.example_data(); df['y'] = df['y'] * float(sys.argv[1])\n"
            "bm.fit(df, bm.example_spec(), chains=2, warmup=20, draws=int(sys.argv[2]),"
            " progress=False)\n")
    env = {**os.environ, "BAYESMMM_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", code, "1.0", "10"], env=env, check=True,
                   capture_output=True)
    first = {p.name for p in cache.rglob("*") if p.is_file()}
    assert first, "no compiled programs were cached"
    subprocess.run([sys.executable, "-c", code, "1.7", "130"], env=env, check=True,
                   capture_output=True)
    assert {p.name for p in cache.rglob("*") if p.is_file()} == first


def test_cache_can_be_disabled(tmp_path: Path) -> None:
    code = "import bayesmmm, jax; print(jax.config.jax_compilation_cache_dir)"
    env = {**os.environ, "BAYESMMM_CACHE_DIR": "off"}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() in {"None", ""}


def test_tests_run_their_chains_on_a_users_devices() -> None:
    """The test process is set up as a user's first fit sets a fresh one up (tests/conftest.py),
    whatever its test modules did at import: one XLA device per chain, up to eight."""
    import jax

    from bayesmmm._runtime import default_host_devices

    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        pytest.skip("XLA_FLAGS chooses the host devices")
    assert jax.local_device_count() == default_host_devices()
