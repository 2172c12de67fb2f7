"""What the example notebooks share: the example data set, where files go, and the fit.

Every notebook runs on its own, in any order: it loads what an earlier notebook saved
under :func:`output_dir` and rebuilds it (simulating the data, fitting the model) when
it is missing or was made with other settings. Nothing here is part of the library;
it is the glue a team would keep next to its own notebooks.

The example business
--------------------
"Northwind Drinks" sells two brands, ``aurora`` (sparkling water) and ``borealis``
(iced tea), in three regions, ``north``, ``south`` and ``west``. Each brand × region
cell is one panel of a geo model: six series of weekly sales with four media channels
(TV, paid search, social, display), a promotion flag, the Black Friday / Christmas
weeks and a price index.

The data come from :func:`bayesmmm.synth.simulate`, which knows the truth behind every
number. It names panels ``geo_01`` .. ``geo_06`` in one ``geo`` column (largest first);
:func:`simulate_brands` splits each label into a ``brand`` and a ``region`` column with
the fixed table :data:`PANELS`, and relabels the truth the same way (``"aurora | north"``,
the label the model gives a ``("brand", "region")`` panel).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import bayesmmm as bm
from bayesmmm.analysis import train_test_split
from bayesmmm.synth import ChannelConfig, ControlConfig, SimulationConfig, simulate

__all__ = ["PANELS", "SamplerSettings", "build_dataset", "config", "example_spec",
           "load_dataset", "load_or_fit", "load_spec", "model_spec", "output_dir",
           "public_dataset", "quick_mode", "save_spec", "simulate_brands"]

#: Simulator panel -> (brand, region). The simulator orders panels by size, so aurora's
#: cells are the larger ones.
PANELS: dict[str, tuple[str, str]] = {
    "geo_01": ("aurora", "north"),
    "geo_02": ("aurora", "south"),
    "geo_03": ("aurora", "west"),
    "geo_04": ("borealis", "north"),
    "geo_05": ("borealis", "south"),
    "geo_06": ("borealis", "west"),
}

CHANNELS = ("tv", "search", "social", "display")
CONTROLS = ("promo", "holiday", "price_index")

#: The shipped public data set (see examples/data/NOTICE.md).
PUBLIC_CSV = Path(__file__).parent / "data" / "pymc_marketing_multidimensional.csv"


def quick_mode() -> bool:
    """True when ``BAYESMMM_NOTEBOOK_QUICK=1``: CI's small settings."""
    return os.environ.get("BAYESMMM_NOTEBOOK_QUICK", "0") == "1"


def output_dir() -> Path:
    """Where the notebooks write: ``examples/output/full`` or ``.../quick`` (gitignored).

    ``BAYESMMM_EXAMPLES_OUTPUT`` moves the base folder (the notebook tests use a
    temporary one). Quick and full runs keep separate files, so a CI-sized fit never
    replaces the real one.
    """
    base = Path(os.environ.get("BAYESMMM_EXAMPLES_OUTPUT", Path(__file__).parent / "output"))
    folder = base / ("quick" if quick_mode() else "full")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class SamplerSettings:
    """What a saved fit must match to be reused: the data size and the sampler."""

    n_weeks: int
    chains: int
    warmup: int
    draws: int
    seed: int = 0


def config(n_weeks: int) -> SimulationConfig:
    """The simulation behind the example: 6 panels, 4 channels, 3 controls."""
    return SimulationConfig(
        name="northwind_drinks",
        description="Two drinks brands in three regions: TV flights, always-on search, "
                    "seasonal social, display bursts; promos, holidays and a price index.",
        n_weeks=n_weeks, n_geos=len(PANELS), start="2022-01-03", unit=2500.0,
        geo_size_sd=0.5, seasonality=(1.2, 0.2, 0.8, -0.3),
        channels=(
            ChannelConfig("tv", "flighted", "geometric", "logistic",
                          {"alpha": 0.6}, {"lam": 1.8}, share=0.09, roi=1.1),
            ChannelConfig("search", "always_on", "geometric", "logistic",
                          {"alpha": 0.15}, {"lam": 3.5}, share=0.07, roi=3.2),
            ChannelConfig("social", "seasonal", "geometric", "logistic",
                          {"alpha": 0.35}, {"lam": 3.0}, share=0.05, roi=1.6),
            ChannelConfig("display", "bursts", "geometric", "logistic",
                          {"alpha": 0.25}, {"lam": 4.0}, share=0.03, roi=0.7),
        ),
        controls=(
            ControlConfig("promo", "promo", 1.0, rate=0.1),
            ControlConfig("holiday", "holiday", 2.0, holidays=("black_friday", "christmas")),
            ControlConfig("price_index", "covariate", -0.5),
        ),
    )


def _relabel(value: Any) -> Any:
    """Rename ``geo_0k`` keys and ``[geo_0k, ...]`` parameter labels in the truth."""
    labels = {g: f"{b} | {r}" for g, (b, r) in PANELS.items()}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            for geo, label in labels.items():
                key = key.replace(geo, label)
            out[key] = _relabel(item)
        return out
    return value


def simulate_brands(n_weeks: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The example table (``brand, region, date, sales, <channels>, <controls>``) and its
    ground truth, panels labelled ``"<brand> | <region>"``."""
    sim = simulate(config(n_weeks), seed=seed)
    df = sim.data
    brand_region = df["geo"].map(PANELS)
    df.insert(0, "brand", brand_region.str[0])
    df.insert(1, "region", brand_region.str[1])
    df = df.drop(columns="geo").rename(columns={"y": "sales"})
    return df, _relabel(sim.truth)


def build_dataset(n_weeks: int, seed: int = 0) -> Path:
    """Simulate the example and write ``data/sales.csv`` and ``data/truth.json``."""
    folder = output_dir() / "data"
    folder.mkdir(parents=True, exist_ok=True)
    df, truth = simulate_brands(n_weeks, seed)
    df.to_csv(folder / "sales.csv", index=False)
    (folder / "truth.json").write_text(json.dumps(truth))
    return folder / "sales.csv"


def load_dataset(n_weeks: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The example table and truth from ``output/.../data``, simulated first if missing
    or of another length."""
    path = output_dir() / "data" / "sales.csv"
    if path.exists():
        df = pd.read_csv(path)
        if df["date"].nunique() != n_weeks:
            path = build_dataset(n_weeks, seed)
    else:
        path = build_dataset(n_weeks, seed)
    truth = json.loads((path.parent / "truth.json").read_text())
    return pd.read_csv(path), truth


def example_spec(**changes: Any) -> bm.ModelSpec:
    """The geo model of the example: per-panel intercept, seasonality and noise, pooled
    channel parameters, the classic transforms; ``changes`` override any field."""
    fields: dict[str, Any] = dict(
        date_column="date", y_column="sales", channel_columns=list(CHANNELS),
        control_columns=list(CONTROLS), panel_columns=["brand", "region"],
        adstock="geometric", saturation="logistic", adstock_max_lag=8,
        yearly_seasonality=2,
    )
    fields.update(changes)
    return bm.ModelSpec(**fields)


def model_spec() -> bm.ModelSpec:
    """The model notebook 03 chooses: :func:`example_spec` with ROI priors from costs."""
    return example_spec(media_prior="roi")


def _spec_path() -> Path:
    return output_dir() / "spec.json"


def load_spec() -> bm.ModelSpec:
    """The spec notebook 03 saved (``spec.json``), or :func:`model_spec` if there is none."""
    path = _spec_path()
    if path.exists():
        return bm.ModelSpec.from_dict(json.loads(path.read_text()))
    return model_spec()


def save_spec(spec: bm.ModelSpec) -> Path:
    """Write ``spec.json`` for the later notebooks."""
    path = _spec_path()
    path.write_text(json.dumps(spec.to_dict(), indent=1))
    return path


def load_or_fit(settings: SamplerSettings, *, spec: bm.ModelSpec | None = None,
                holdout_weeks: int = 0, name: str = "fit") -> bm.Fit:
    """The saved fit ``<name>.nc`` if it was made with the same ``settings``, ``spec``
    (default :func:`load_spec`) and holdout; otherwise fit now and save it.

    With ``holdout_weeks`` the model is fitted to all but the last weeks (the test
    periods of :func:`bayesmmm.analysis.train_test_split`). A ``<name>.json`` stamp next
    to the fit records what it was made with.
    """
    spec = spec or load_spec()
    path = output_dir() / f"{name}.nc"
    stamp = path.with_suffix(".json")
    wanted = json.loads(json.dumps({"settings": asdict(settings), "spec": spec.to_dict(),
                                    "holdout_weeks": holdout_weeks}))
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return bm.load_fit(path)
    df, _ = load_dataset(settings.n_weeks, settings.seed)
    data, _ = bm.prepare(df, **spec.data_kwargs())
    if holdout_weeks:
        data, _ = train_test_split(data, holdout_weeks)
    # progress="auto" (the default): a widget bar in Jupyter (text lines without
    # ipywidgets), a Rich bar in a terminal
    fit = bm.fit(data, spec, chains=settings.chains, warmup=settings.warmup,
                 draws=settings.draws, seed=settings.seed)
    fit.save(path)
    stamp.write_text(json.dumps(wanted, indent=1))
    return fit


def public_dataset() -> pd.DataFrame:
    """PyMC-Marketing's two-geo example table, shipped in ``examples/data``."""
    return pd.read_csv(PUBLIC_CSV)
