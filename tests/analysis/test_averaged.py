"""Model averaging: an averaged fit's answers are the weighted mixture of its members'
answers, and forms='auto' searches, prunes and stacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.analysis import (
    Pilot,
    channel_draws,
    component_draws,
    fit_auto,
    mean_draws,
    predict_draws,
)
from bayesmmm.model import AveragedFit
from bayesmmm.model._averaged import allocate_draws

TINY = {"chains": 2, "warmup": 60, "draws": 30, "progress": False}


@pytest.fixture(scope="module")
def members() -> dict[str, bm.Fit]:
    spec = bm.example_spec()
    data = bm.example_data()
    return {"geometric+logistic": bm.fit(data, spec, seed=1, **TINY),
            "delayed+hill": bm.fit(data, spec.replace(adstock="delayed", saturation="hill"),
                                   seed=2, **TINY)}


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape((-1,) + a.shape[2:])


def test_allocation_follows_the_weights_and_sums_to_the_total() -> None:
    assert allocate_draws(np.array([0.25, 0.75]), 60).tolist() == [15, 45]
    assert allocate_draws(np.array([0.5, 0.3, 0.2]), 7).sum() == 7
    assert allocate_draws(np.array([0.9995, 0.0005]), 100).tolist() == [100, 0]


def test_answers_are_the_weighted_mixture_of_the_members(members: dict[str, bm.Fit]
                                                         ) -> None:
    avg = AveragedFit(members, {"geometric+logistic": 0.25, "delayed+hill": 0.75})
    a, b = members.values()
    idx_a = np.round(np.linspace(0, 59, 15)).astype(int)
    idx_b = np.round(np.linspace(0, 59, 45)).astype(int)
    assert [p.n_draws for p in avg.parts] == [15, 45] and avg.n_draws == 60
    expected = np.concatenate([channel_draws(a)[idx_a], channel_draws(b)[idx_b]])
    np.testing.assert_allclose(channel_draws(avg), expected, rtol=1e-6)
    np.testing.assert_allclose(
        mean_draws(avg), np.concatenate([mean_draws(a)[idx_a], mean_draws(b)[idx_b]]),
        rtol=1e-6)
    # ROI: incremental sales / spend per draw of the mixture
    spend = avg.roi()["spend"].to_numpy()
    totals = expected.sum(axis=1)
    np.testing.assert_allclose(avg.roi()["roi"], (totals / spend).mean(axis=0), rtol=1e-5)
    # every component, and so contributions and media shares
    comps = component_draws(avg)
    assert set(comps) == set(component_draws(a))
    contrib = avg.contributions()
    x1 = contrib[contrib["component"] == "x1"]["mean"].to_numpy()
    np.testing.assert_allclose(x1, expected[..., 0].mean(axis=0), rtol=1e-5)
    assert avg.media_share()["mean"].sum() == pytest.approx(1.0)
    assert 0.0 < avg.fit_metrics()["r2"] <= 1.0


def test_predictions_and_summary_of_an_averaged_fit(members: dict[str, bm.Fit]) -> None:
    avg = AveragedFit(members, {"geometric+logistic": 0.5, "delayed+hill": 0.5})
    draws = predict_draws(avg, bm.example_data())
    assert draws.shape == (avg.n_draws, 1, len(bm.example_data()))
    table = avg.summary()
    assert list(table.columns[:2]) == ["model", "weight"]
    assert set(table["model"]) == set(members)
    assert "adstock_theta[x1]" in table[table["model"] == "delayed+hill"].index
    assert avg.carried_by().startswith("averaged over structures: ")
    # warnings name the member they concern (these tiny fits have not converged)
    assert all(w.split(":")[0] in members for w in avg.warnings())


def test_a_member_without_weight_carries_no_draws(members: dict[str, bm.Fit]) -> None:
    avg = AveragedFit(members, {"geometric+logistic": 1.0, "delayed+hill": 0.0})
    np.testing.assert_allclose(avg.roi()["roi"],
                               members["geometric+logistic"].roi()["roi"], rtol=1e-5)


def test_weights_and_members_are_checked(members: dict[str, bm.Fit]) -> None:
    with pytest.raises(bm.SpecError, match="sum to 1"):
        AveragedFit(members, {"geometric+logistic": 0.5, "delayed+hill": 0.6})
    with pytest.raises(bm.SpecError, match="one weight per member"):
        AveragedFit(members, {"geometric+logistic": 1.0})
    other = bm.fit(bm.example_data().iloc[:170], bm.example_spec(), **TINY)
    with pytest.raises(bm.SpecError, match="same data"):
        AveragedFit({"a": other, **members}, {"a": 0.2, "geometric+logistic": 0.4,
                                              "delayed+hill": 0.4})
    with pytest.raises(ValueError, match="per member"):
        channel_draws(AveragedFit(members, {"geometric+logistic": 1.0, "delayed+hill": 0.0}),
                      params={})


def test_auto_searches_prunes_and_stacks() -> None:
    """Four candidates, pilots, at most two full fits, weights that sum to one, and a
    comparison table that says what happened to each candidate."""
    phases: list[tuple[str, int, int]] = []
    avg = bm.fit(bm.example_data(), bm.example_spec(),
                 forms={"adstock": ["geometric", "delayed"],
                        "saturation": ["logistic", "michaelis_menten"]},
                 chains=2, warmup=150, draws=100, progress=lambda *p: phases.append(p))
    assert isinstance(avg, AveragedFit)
    table = avg.comparison
    assert isinstance(table, pd.DataFrame) and len(table) == 4
    assert table["survived_pilot"].sum() <= 3
    assert sum(avg.weights.values()) == pytest.approx(1.0)
    assert set(avg.fits) <= set(table.index[table["survived_pilot"]])
    assert table.loc[~table["survived_pilot"], "why_left_out"].str.startswith("pruned").all()
    assert ("pilots", 4, 4) in phases and phases[-1][0] == "fits"
    # the full fits report NUTS iterations as they go: the bar moves within each fit
    fits = [(done, total) for phase, done, total in phases if phase == "fits"]
    spans = (150 + table.loc[list(table.index[table["survived_pilot"]]), "full_draws"])
    assert fits[0] == (0, int(spans.sum())) and fits[-1][0] == fits[-1][1]
    done = [d for d, _ in fits]
    assert len(fits) > 2 * len(spans) and done == sorted(done)
    if not table["rerun"].astype(bool).any():  # a rerun adds its iterations to the total
        assert {total for _, total in fits} == {int(spans.sum())}
    assert len(avg.roi()) == 2
    # the pilots within LOO noise of the best keep their ROIs for structure_checks
    best = table["pilot_elpd"].idxmax()
    kept = avg.meta["pilot_roi"]
    assert best in kept and set(kept) <= set(table.index)
    for by_channel in kept.values():
        assert set(by_channel) == {"x1", "x2"}
        assert all(lo <= mean <= hi for mean, lo, hi in by_channel.values())
    assert table.loc[list(avg.fits), "full_draws"].max() == 100


@pytest.mark.slow  # two structure searches: ~25 s each
def test_a_weighted_member_not_fully_converged_is_refitted_and_the_better_fit_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """r_hat just above 1.01 is "usable" but not converged. A member that carries weight
    is refitted with twice the warm-up and the caller's draws and the better fit kept;
    one that stacking leaves out is not refitted (it enters no answer)."""
    import bayesmmm.analysis._auto as auto

    calls: list[tuple[str, int, int]] = []
    real_fit, real_judge, real_stacking = auto.fit_model, auto._judge, auto._stacking

    def fit_model(data, spec, **options):  # type: ignore[no-untyped-def]
        calls.append((spec.adstock, options["warmup"], options["draws"]))
        f = real_fit(data, spec, **options)
        f.meta["call"] = len(calls)
        return f

    def judge(f):  # type: ignore[no-untyped-def]
        rank, r_hat, div, why = real_judge(f)
        if f.meta["call"] <= 2:  # the first full fits: pretend they fell just short
            return 1, 1.02, 0, "not fully converged (r_hat 1.020 > 1.01)"
        return 0, r_hat, div, ""

    def stacking(idatas):  # type: ignore[no-untyped-def]
        real_stacking(idatas)
        return {k: float(k.startswith("geometric")) for k in idatas}

    monkeypatch.setattr(auto, "fit_model", fit_model)
    monkeypatch.setattr(auto, "_judge", judge)
    monkeypatch.setattr(auto, "_stacking", stacking)
    monkeypatch.setattr(auto, "_survivors", lambda table, idatas, keep: list(idatas))
    avg = bm.fit(bm.example_data(), bm.example_spec(),
                 forms={"adstock": ["geometric", "delayed"], "saturation": ["logistic"]},
                 chains=2, warmup=150, draws=100, progress=False)
    assert sorted(calls[:2]) == [("delayed", 150, 100), ("geometric", 150, 100)]
    assert calls[2:] == [("geometric", 300, 100)]  # only the member with weight
    assert avg.fits["geometric+logistic"].meta["call"] == 3
    table = avg.comparison
    assert table.loc["geometric+logistic", "rerun"] == (
        "not fully converged (r_hat 1.020 > 1.01); rerun with warmup=300, draws=100")
    assert table.loc["delayed+logistic", "rerun"] == ""
    assert avg.weights == {"geometric+logistic": 1.0, "delayed+logistic": 0.0}


@pytest.mark.slow  # two structure searches: ~25 s each
def test_when_no_survivor_converges_the_next_candidates_are_fitted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A survivor the sampler cannot explore (unusable even after its rerun) must not end
    the search: the next candidate by pilot ELPD is fitted, and the table says why."""
    import bayesmmm.analysis._auto as auto

    calls: list[str] = []
    real_fit, real_judge = auto.fit_model, auto._judge

    def fit_model(data, spec, **options):  # type: ignore[no-untyped-def]
        calls.append(f"{spec.adstock}+{spec.saturation}")
        f = real_fit(data, spec, **options)
        f.meta["label"] = calls[-1]
        return f

    def judge(f):  # type: ignore[no-untyped-def]
        if f.meta["label"] == first[0]:
            return 2, 1.2, 99, "99 divergent draws (5.0%)"
        return real_judge(f)

    monkeypatch.setattr(auto, "fit_model", fit_model)
    monkeypatch.setattr(auto, "_judge", judge)
    first: list[str] = []
    real_survivors = auto._survivors  # keeps the pilot columns of the table

    def survivors(table, idatas, keep):  # type: ignore[no-untyped-def]
        real_survivors(table, idatas, keep)
        first.append("delayed+logistic")  # one survivor only, and it fails
        return first[:1]

    monkeypatch.setattr(auto, "_survivors", survivors)
    avg = bm.fit(bm.example_data(), bm.example_spec(),
                 forms={"adstock": ["geometric", "delayed"], "saturation": ["logistic"]},
                 chains=2, warmup=150, draws=100, progress=False)
    other = "geometric+logistic"
    # the survivor, its rerun, the next one (and its own rerun, should it fall short)
    assert calls[:3] == [first[0], first[0], other] and set(calls[3:]) <= {other}
    assert list(avg.fits) == [other] and avg.weights == {other: 1.0}
    table = avg.comparison
    assert table.loc[first[0], "why_left_out"] == "99 divergent draws (5.0%)"
    assert table.loc[other, "rerun"].startswith("fitted because no survivor converged")


def test_auto_options_are_checked() -> None:
    with pytest.raises(bm.SpecError, match="forms must be"):
        bm.fit(bm.example_data(), bm.example_spec(), forms="best")
    with pytest.raises(ValueError, match="Unknown adstock 'geo'"):
        fit_auto(bm.example_data(), bm.example_spec(), adstocks=["geo"], pilot=Pilot(1, 10, 10))


def test_an_averaged_fit_saves_and_loads_with_identical_answers(
        members: dict[str, bm.Fit], tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = pd.DataFrame({"weight": [0.3, 0.7], "why_left_out": ["", ""]},
                         index=pd.Index(list(members), name="model"))
    avg = AveragedFit(members, {"geometric+logistic": 0.3, "delayed+hill": 0.7}, table,
                      {"candidates": list(members)})
    path = avg.save(tmp_path / "avg.nc")
    again = bm.load_averaged(path)
    assert isinstance(again, AveragedFit)
    with pytest.raises(bm.FitFileError, match="load_averaged"):
        bm.load_fit(path)
    with pytest.raises(bm.FitFileError, match="load_fit"):
        bm.load_averaged(members["delayed+hill"].save(tmp_path / "one.nc"))
    assert again.weights == avg.weights and list(again.fits) == list(avg.fits)
    assert again.roi().equals(avg.roi())
    assert again.contributions().equals(avg.contributions())
    pd.testing.assert_frame_equal(again.comparison, table, check_names=False)
    assert again.meta == {"candidates": list(members)}


def test_curves_and_budget_plans_run_on_the_mixture(members: dict[str, bm.Fit]) -> None:
    """Response curves and the optimizer's planner of an averaged fit are those of the
    mixture: each member's share of the draws through its own media function."""
    from bayesmmm.optimize import response_curves
    from bayesmmm.optimize._planner import Planner

    avg = AveragedFit(members, {"geometric+logistic": 0.5, "delayed+hill": 0.5})
    curves = response_curves(avg, n_draws=None, multipliers=[0.0, 1.0])
    at_one = curves.points.set_index("channel")["sales"]
    np.testing.assert_allclose(at_one.to_numpy(), avg.roi()["contribution"].to_numpy(),
                               rtol=1e-4)
    planner = Planner(avg, 13, n_draws=None)
    mixed = planner.cells(planner.spend_per_period(planner.reference))  # (S, G, C)
    parts = [Planner(p, 13, n_draws=None) for p in avg.parts]
    expected = np.concatenate([p.cells(p.spend_per_period(p.reference)) for p in parts])
    np.testing.assert_allclose(mixed, expected, rtol=1e-9)
    assert mixed.shape[0] == avg.n_draws


def test_full_fits_get_draws_by_pilot_weight() -> None:
    """The heaviest survivor gets the caller's draws, the others their share of it but
    never under MIN_DRAW_SHARE; missing weights count as none."""
    from bayesmmm.analysis._auto import MIN_DRAW_SHARE, full_draws

    assert full_draws([0.6, 0.3, 0.1], 1000) == [1000, 500, 250]
    assert full_draws([0.5, 0.5], 1000) == [1000, 1000]
    assert full_draws([1.0, float("nan")], 800) == [800, int(MIN_DRAW_SHARE * 800)]
    assert full_draws([0.0, 0.0], 100) == [100, 100]


def test_a_member_with_fewer_draws_does_not_shrink_the_mixture(
        members: dict[str, bm.Fit]) -> None:
    """A light member fitted with a quarter of the draws: the mixture keeps the heavy
    member's size and each member's share of it is its weight."""
    heavy, light = list(members)[:2]
    n = members[light].n_draws
    small = members[light].select_draws(np.arange(0, members[light].n_chains * n, 4))
    avg = AveragedFit({heavy: members[heavy], light: small}, {heavy: 0.8, light: 0.2})
    sizes = [p.n_chains * p.n_draws for p in avg.parts]
    full = members[heavy].n_chains * members[heavy].n_draws
    assert sum(sizes) == full
    assert sizes == [round(0.8 * full), round(0.2 * full)]
