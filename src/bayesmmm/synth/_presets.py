"""Named simulation presets, from a local shop to a national retailer in fifty markets.

Every preset: media together make about a quarter to a third of sales, target ROIs lie
between 0.3 and 5, the noise leaves the true mean about 90% of the variance of ``y``
in each geo (so an honest model reaches R² of about 0.85-0.95).
"""

from __future__ import annotations

from collections.abc import Callable

from bayesmmm.errors import SpecError
from bayesmmm.synth._config import ChannelConfig, ControlConfig, SimulationConfig
from bayesmmm.synth._simulation import Simulation
from bayesmmm.synth._truth import simulate

__all__ = ["PRESET_NAMES", "preset", "simulate_preset"]

_XMAS = ("black_friday", "christmas")


def _classic(name: str, pattern: str, alpha: float, lam: float, share: float,
             roi: float) -> ChannelConfig:
    return ChannelConfig(name, pattern, "geometric", "logistic",  # type: ignore[arg-type]
                         {"alpha": alpha}, {"lam": lam}, share=share, roi=roi)


def _channel(name: str, pattern: str, adstock: str, saturation: str, share: float,
             roi: float) -> ChannelConfig:
    """A channel whose shape parameters are drawn from its forms' default priors.

    Except tanh's ``c``: its curve ``beta tanh(x / (beta c))`` starts with slope ``1 / c``
    in model units, so a fixed ``c`` saturates a small channel flat. With ``c = 0.1 /
    share`` the first unit of (scaled) media returns one and a half to five times the
    channel's average (campaigns to always-on).
    """
    params = {"c": round(0.1 / share, 1)} if saturation == "tanh" else {}
    return ChannelConfig(name, pattern, adstock, saturation,  # type: ignore[arg-type]
                         saturation_params=params, share=share, roi=roi)


def _small_business() -> SimulationConfig:
    return SimulationConfig(
        name="small_business",
        description="A local online shop: one national series of two years, four digital "
                    "channels on the classic forms (geometric adstock, logistic saturation), a "
                    "promo dummy and the Black Friday / Christmas weeks. Fits with the classic "
                    "model.",
        n_weeks=104, n_geos=1, unit=2000.0, seasonality=(1.0, 0.3, 0.6, -0.2),
        channels=(
            _classic("search", "always_on", 0.25, 2.5, 0.10, 3.0),
            _classic("social", "seasonal", 0.40, 3.0, 0.07, 1.6),
            _classic("display", "bursts", 0.30, 4.0, 0.04, 0.8),
            _classic("video", "flighted", 0.60, 1.8, 0.06, 1.2),
        ),
        controls=(
            ControlConfig("promo", "promo", 1.0, rate=0.12),
            ControlConfig("holiday", "holiday", 2.0, holidays=_XMAS),
        ),
    )


def _growing_business() -> SimulationConfig:
    return SimulationConfig(
        name="growing_business",
        description="A fast-growing direct-to-consumer brand in two regions over 2.5 years: a "
                    "rising trend, a podcast launched mid-way, and a different adstock and "
                    "saturation form for most channels (parameters drawn from their priors).",
        n_weeks=131, n_geos=2, unit=1500.0, trend=3.0,
        seasonality=(0.8, 0.2, 0.5, -0.1),
        channels=(
            _channel("search_brand", "always_on", "geometric", "logistic", 0.08, 4.0),
            _channel("search_generic", "always_on", "geometric", "michaelis_menten", 0.06, 1.8),
            _channel("social", "seasonal", "delayed", "hill", 0.07, 1.5),
            _channel("tv", "flighted", "weibull_pdf", "logistic", 0.08, 0.9),
            _channel("podcast", "launch", "carryover", "tanh", 0.03, 1.0),
            _channel("affiliate", "campaign", "binomial", "power", 0.03, 2.5),
        ),
        controls=(
            ControlConfig("promo", "promo", 1.2, rate=0.1),
            ControlConfig("black_friday", "holiday", 3.0, holidays=("black_friday",)),
        ),
    )


def _medium_business() -> SimulationConfig:
    return SimulationConfig(
        name="medium_business",
        description="A regional retailer in eight markets over three years: eight channels "
                    "from TV to email on the classic forms, promos, holidays and a price index.",
        n_weeks=156, n_geos=8, unit=3000.0, seasonality=(1.2, 0.2, 0.8, -0.3),
        channels=(
            _classic("tv", "flighted", 0.65, 1.5, 0.08, 0.9),
            _classic("radio", "seasonal", 0.40, 2.5, 0.03, 0.7),
            _classic("search", "always_on", 0.15, 3.5, 0.07, 3.5),
            _classic("social", "always_on", 0.30, 3.0, 0.05, 1.8),
            _classic("display", "bursts", 0.25, 4.0, 0.02, 0.6),
            _classic("ooh", "on_off", 0.50, 2.0, 0.02, 0.5),
            _classic("print", "campaign", 0.35, 2.5, 0.015, 0.4),
            _classic("email", "always_on", 0.10, 5.0, 0.015, 4.5),
        ),
        controls=(
            ControlConfig("promo", "promo", 0.8, rate=0.1),
            ControlConfig("holiday", "holiday", 2.0, holidays=_XMAS),
            ControlConfig("national_day", "holiday", 0.6,
                          holidays=("new_year", "independence_day", "labor_day")),
            ControlConfig("price_index", "covariate", -0.4),
        ),
    )


_LARGE_CHANNELS = (  # name, pattern, adstock, saturation, share, roi
    ("tv_national", "flighted", "weibull_pdf", "hill", 0.040, 0.9),
    ("tv_regional", "flighted", "geometric", "logistic", 0.020, 0.7),
    ("radio", "seasonal", "geometric", "logistic", 0.012, 0.6),
    ("podcast", "launch", "carryover", "tanh", 0.008, 1.1),
    ("ooh_billboards", "on_off", "weibull_cdf", "michaelis_menten", 0.010, 0.5),
    ("ooh_transit", "on_off", "geometric", "logistic", 0.006, 0.4),
    ("print_newspaper", "campaign", "geometric", "power", 0.005, 0.35),
    ("print_magazine", "campaign", "binomial", "logistic", 0.004, 0.3),
    ("direct_mail", "campaign", "none", "michaelis_menten", 0.006, 0.8),
    ("cinema", "on_off", "delayed", "hill", 0.004, 0.4),
    ("search_brand", "always_on", "geometric", "logistic", 0.030, 4.5),
    ("search_generic", "always_on", "geometric", "michaelis_menten", 0.025, 2.0),
    ("shopping_ads", "always_on", "binomial", "logistic", 0.020, 2.8),
    ("display_programmatic", "bursts", "geometric", "hill", 0.010, 0.6),
    ("display_retargeting", "always_on", "none", "logistic", 0.012, 3.2),
    ("video_youtube", "seasonal", "weibull_cdf", "tanh", 0.012, 0.9),
    ("video_ctv", "launch", "delayed", "logistic", 0.010, 0.8),
    ("social_meta", "always_on", "geometric", "logistic", 0.030, 1.8),
    ("social_tiktok", "launch", "geometric", "hill", 0.012, 1.3),
    ("social_snapchat", "bursts", "binomial", "power", 0.005, 0.7),
    ("social_pinterest", "seasonal", "geometric", "michaelis_menten", 0.005, 1.0),
    ("social_linkedin", "flighted", "carryover", "logistic", 0.004, 0.5),
    ("influencers", "campaign", "delayed", "tanh", 0.008, 1.5),
    ("affiliates", "always_on", "none", "none", 0.010, 2.5),
    ("email", "always_on", "geometric", "logistic", 0.010, 4.8),
    ("sms", "bursts", "none", "power", 0.004, 3.5),
    ("app_install", "seasonal", "geometric", "logistic", 0.008, 1.2),
    ("sponsorship", "on_off", "carryover", "michaelis_menten", 0.006, 0.35),
    ("retail_media", "always_on", "weibull_pdf", "logistic", 0.012, 2.2),
    ("native_ads", "bursts", "geometric", "power", 0.005, 0.6),
)


def _large_business() -> SimulationConfig:
    return SimulationConfig(
        name="large_business",
        description="A national retailer in fifty markets of very different sizes over four "
                    "years: thirty channels over every registered form, launches and flights, "
                    "ten controls (promos, holidays, prices, weather) and a gentle trend.",
        n_weeks=208, n_geos=50, unit=5000.0, trend=1.0, target_r2=0.92,
        seasonality=(1.2, 0.2, 0.8, -0.3),
        channels=tuple(_channel(*row) for row in _LARGE_CHANNELS),
        controls=(
            ControlConfig("promo_discount", "promo", 1.0, rate=0.1),
            ControlConfig("promo_bundle", "promo", 0.5, rate=0.06),
            ControlConfig("black_friday", "holiday", 3.0, holidays=("black_friday",)),
            ControlConfig("christmas", "holiday", 2.0, holidays=("christmas",)),
            ControlConfig("easter", "holiday", 0.8, holidays=("easter",)),
            ControlConfig("new_year", "holiday", -1.0, holidays=("new_year",)),
            ControlConfig("national_days", "holiday", 0.5,
                          holidays=("independence_day", "labor_day")),
            ControlConfig("price_index", "covariate", -0.5),
            ControlConfig("competitor_price", "covariate", 0.3),
            ControlConfig("temperature", "covariate", 0.2),
        ),
    )


# Built on demand: a form renamed in the registries breaks its preset, not the import.
_BUILDERS: dict[str, Callable[[], SimulationConfig]] = {
    "small_business": _small_business,
    "growing_business": _growing_business,
    "medium_business": _medium_business,
    "large_business": _large_business,
}

#: Names of the presets, smallest first.
PRESET_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def preset(name: str) -> SimulationConfig:
    """The config of preset ``name``; ``SpecError`` (a ``ValueError``) naming the choices."""
    if name not in _BUILDERS:
        raise SpecError(f"Unknown preset {name!r}; expected one of {list(PRESET_NAMES)}")
    return _BUILDERS[name]()


def simulate_preset(name: str, seed: int = 0) -> Simulation:
    """Simulate preset ``name`` (``small_business`` 104 weeks x 1 geo x 4 channels x 2
    controls, ``growing_business`` 131 x 2 x 6 x 2, ``medium_business`` 156 x 8 x 8 x 4,
    ``large_business`` 208 x 50 x 30 x 10) with ``seed``; see :func:`simulate`."""
    return simulate(preset(name), seed)
