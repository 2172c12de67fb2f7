"""The model's static structure: every name, index and choice that is not an array.

:class:`ModelStructure` is built once from a :class:`~bayesmmm.model.ModelSpec` and the
data (its geos, controls and dates) and is frozen and hashable: the NumPyro model, the
centring, the analysis and the optimizer read site names, channel groups and index maps
from it, and jit can take it as a static argument. The arrays (:class:`Design`) always
carry a geo axis, national data being one geo; the national posterior keeps
PyMC-Marketing's shapes (``intercept`` a scalar), and :meth:`ModelStructure.with_geo`
gives any parameter draws the geo axis.

:class:`Site` is the one place a posterior or latent site name is spelled; trend sites
are spelled by their entries in :data:`~bayesmmm.model._trends.TRENDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesmmm.errors import SpecError
from bayesmmm.model._seasonality import SEASONALITIES
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._trends import TRENDS, TrendForm
from bayesmmm.priors import Prior
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

if TYPE_CHECKING:  # pragma: no cover
    from bayesmmm.data import MMMData

__all__ = ["ChannelParam", "FormGroup", "LiftSite", "MediaStructure", "ModelStructure", "Site",
           "media_structure"]


class Site:
    """Site names of the model (as PyMC-Marketing names them where it has them)."""

    INTERCEPT = "intercept"
    LEVEL = "_level"  # the sampler's level: the mean of mu (see _model)
    Y = "y"
    Y_SIGMA = "y_sigma"
    BETA = "saturation_beta"
    LAM = "saturation_lam"
    ROI = "roi"
    GAMMA_CONTROL = "gamma_control"
    GAMMA_CONTROL_STD = "_gamma_control_std"
    GAMMA_FOURIER = "gamma_fourier"
    LIFT = "lift"
    PAIR = "logistic_pair"  # centring key of the rotated (beta, lam) pair

    @staticmethod
    def channel_param(kind: str, param: str) -> str:
        """``adstock_alpha``, ``saturation_lam``: a form parameter's site."""
        return f"{kind}_{param}"

    @staticmethod
    def geo(name: str) -> str:
        """Geo values of a pooled parameter."""
        return f"{name}_geo"

    @staticmethod
    def spread(name: str) -> str:
        """The geo spread (sd in the prior's unconstrained space) of a pooled parameter."""
        return f"{name}_sigma"

    @staticmethod
    def deviation(name: str) -> str:
        """The sampler's standardised geo deviations of a pooled parameter."""
        return f"_{name}_z"

    @staticmethod
    def prior_factor(name: str) -> str:
        """The factor adding the prior of a derived site."""
        return f"_{name}_prior"

    @staticmethod
    def is_latent(name: str) -> bool:
        """Sampler-only sites (not reported)."""
        return name.startswith("_")


@dataclass(frozen=True)
class ChannelParam:
    """A channel parameter: ``saturation_lam`` over the channels ``channels`` (indices
    into the channel list) whose forms have it; ``kind`` ``adstock``/``saturation``."""

    name: str
    kind: str
    channels: tuple[int, ...]


@dataclass(frozen=True)
class FormGroup:
    """The channels (indices, ascending) using one registered form, and for each of the
    form's parameters its site and the positions of these channels in that parameter's
    vector (None: all of it, in order)."""

    form: str
    channels: tuple[int, ...]
    params: tuple[tuple[str, str, tuple[int, ...] | None], ...]  # (form param, site, pos)


def _groups(kind: str, forms: Mapping[str, str], channels: tuple[str, ...],
            params: Mapping[str, ChannelParam]) -> tuple[FormGroup, ...]:
    registry = ADSTOCKS if kind == "adstock" else SATURATIONS
    order: dict[str, list[int]] = {}
    for i, c in enumerate(channels):
        order.setdefault(forms[c], []).append(i)
    out = []
    for form, idx in order.items():
        entries = []
        for p in registry.get(form).params:
            site = Site.channel_param(kind, p)
            have = params[site].channels
            pos = tuple(have.index(i) for i in idx)
            entries.append((p, site, None if pos == tuple(range(len(have))) else pos))
        out.append(FormGroup(form, tuple(idx), tuple(entries)))
    return tuple(out)


@dataclass(frozen=True)
class MediaStructure:
    """How channel contributions are computed: forms per channel group, parameter
    vectors and carry-over options (everything :func:`media_contributions` needs).

    A *switch* structure (:meth:`build_switch`) holds several candidate forms for every
    channel: each adstock and saturation group covers all channels, and the design's
    ``select`` (the index of the chosen candidate of each kind, data to the compiled
    program, read by ``jax.lax.switch`` so that only the chosen form is computed) says
    which. The parameters of the forms not chosen get their prior only, so the model is
    the chosen structure's exactly, and one compiled program serves every candidate
    (:class:`bayesmmm.model.StructureSearch`).
    """

    channels: tuple[str, ...]
    l_max: int
    normalize: bool
    saturation_first: bool
    params: tuple[ChannelParam, ...]  # in the order channels first use them; beta last
    adstock: tuple[FormGroup, ...]
    saturation: tuple[FormGroup, ...]
    switch: bool = False

    @classmethod
    def build(cls, spec: ModelSpec) -> MediaStructure:
        channels = spec.channel_columns
        params: dict[str, ChannelParam] = {}
        for name in spec.channel_parameters():
            have = set(spec.channels_with(name))
            params[name] = ChannelParam(name, name.partition("_")[0],
                                        tuple(i for i, c in enumerate(channels) if c in have))
        return cls(channels, spec.adstock_max_lag, spec.adstock_normalize,
                   spec.saturation_first, tuple(params.values()),
                   _groups("adstock", spec.adstock_forms, channels, params),
                   _groups("saturation", spec.saturation_forms, channels, params))

    @classmethod
    def build_switch(cls, spec: ModelSpec, adstocks: tuple[str, ...],
                     saturations: tuple[str, ...]) -> MediaStructure:
        """Every candidate adstock and saturation for every channel (see the class)."""
        every = tuple(range(len(spec.channel_columns)))
        names: dict[str, str] = {}
        for kind, forms, registry in (("adstock", adstocks, ADSTOCKS),
                                      ("saturation", saturations, SATURATIONS)):
            for form in forms:
                for p in registry.get(form).params:
                    names.setdefault(Site.channel_param(kind, p), kind)
        names[Site.BETA] = "saturation"
        params = tuple(ChannelParam(n, kind, every) for n, kind in names.items())

        def groups(kind: str, forms: tuple[str, ...], registry: Any) -> tuple[FormGroup, ...]:
            return tuple(FormGroup(f, every, tuple(
                (p, Site.channel_param(kind, p), None) for p in registry.get(f).params))
                for f in forms)

        return cls(spec.channel_columns, spec.adstock_max_lag, spec.adstock_normalize,
                   spec.saturation_first, params, groups("adstock", adstocks, ADSTOCKS),
                   groups("saturation", saturations, SATURATIONS), switch=True)

    def param(self, name: str) -> ChannelParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def channel_names_of(self, name: str) -> list[str]:
        """Channels having parameter ``name``."""
        return [self.channels[i] for i in self.param(name).channels]

    def one_channel(self, c: int) -> tuple[MediaStructure, tuple[tuple[str, int], ...]]:
        """The structure of channel ``c`` alone, and for each of its parameters the
        position of ``c`` in that parameter's vector."""
        def keep(groups: tuple[FormGroup, ...]) -> tuple[FormGroup, ...]:
            if self.switch:  # every candidate; the selection is sliced to the channel
                return tuple(FormGroup(g.form, (0,), tuple((p, s, None) for p, s, _ in
                                                          g.params)) for g in groups)
            g = next(g for g in groups if c in g.channels)
            return (FormGroup(g.form, (0,), tuple((p, site, None) for p, site, _ in g.params)),)

        mine = [(p.name, p.channels.index(c)) for p in self.params if c in p.channels]
        params = tuple(ChannelParam(p.name, p.kind, (0,)) for p in self.params
                       if c in p.channels)
        sub = MediaStructure((self.channels[c],), self.l_max, self.normalize,
                             self.saturation_first, params, keep(self.adstock),
                             keep(self.saturation), self.switch)
        return sub, tuple(mine)


@dataclass(frozen=True)
class LiftSite:
    """One lift test: its geo and channel (indices), the channel's own media structure,
    and where the channel sits in each of its parameters' vectors."""

    geo: int
    channel: int
    media: MediaStructure
    positions: tuple[tuple[str, int], ...]


def _lift_sites(spec: ModelSpec, media: MediaStructure, panels: tuple[str, ...],
                n_geos: int) -> tuple[LiftSite, ...]:
    out = []
    for i, test in enumerate(spec.lift_tests):
        where = f"lift test #{i + 1} ({test.channel!r})"
        if n_geos > 1:
            if test.panel not in panels:
                raise SpecError(f"{where}: panel {test.panel!r} is not one of the data's "
                                f"panels {list(panels)[:8]}. Fix: set 'panel'")
            g = panels.index(test.panel)
        else:
            if test.panel is not None and test.panel not in panels:
                raise SpecError(f"{where}: the data has no panels; leave 'panel' empty")
            g = 0
        c = spec.channel_columns.index(test.channel)
        sub, positions = media.one_channel(c)
        out.append(LiftSite(g, c, sub, positions))
    return tuple(out)


def _priors_key(priors: Mapping[str, Prior]) -> tuple[tuple[str, Prior], ...]:
    return tuple(sorted(priors.items()))


@dataclass(frozen=True)
class ModelStructure:
    """Everything static about a model fitted to data of given dimensions.

    Built by :meth:`build`; hashable. ``geos`` are the panel labels (empty for national
    data), ``controls`` the control names the model sees (calendar columns included),
    ``priors`` every prior in force by site name, ``geo_shared`` the parameters every
    geo shares (the spec's, ``"auto"`` resolved for these geos).
    """

    media: MediaStructure
    n_geos: int
    geos: tuple[str, ...]
    controls: tuple[str, ...]
    seasonality: str
    n_modes: int
    trend: str
    media_prior: str
    geo_shared: tuple[str, ...]
    priors: tuple[tuple[str, Prior], ...]
    lift: tuple[LiftSite, ...]

    @classmethod
    def build(cls, spec: ModelSpec, data: MMMData,
              candidates: tuple[tuple[str, ...], tuple[str, ...]] | None = None
              ) -> ModelStructure:
        """The structure of ``spec`` on ``data`` (controls as :func:`model_data` gives
        them, calendar columns included); with ``candidates`` (adstocks, saturations), a
        switch structure over all of them (:meth:`MediaStructure.build_switch`)."""
        if candidates is None:
            media = MediaStructure.build(spec)
            specs = [spec]
        else:
            media = MediaStructure.build_switch(spec, *candidates)
            specs = [spec.with_forms(a, s) for a in candidates[0] for s in candidates[1]]
        priors: dict[str, Prior] = {}
        for one in specs:
            for name, prior in one.default_priors().items():
                priors.setdefault(name, one.priors.get(name) or prior)
        return cls(media, data.n_geos, tuple(data.panels), tuple(data.control_names),
                   "yearly", spec.yearly_seasonality, spec.trend, spec.media_prior,
                   spec.shared_over(data.n_geos), _priors_key(priors),
                   _lift_sites(spec, media, tuple(data.panels), data.n_geos))

    # -- choices --------------------------------------------------------------------------
    @property
    def panel(self) -> bool:
        """A geo model (more than one geo)."""
        return self.n_geos > 1

    @property
    def geo_shape(self) -> tuple[int, ...]:
        """Shape of a per-geo site: ``()`` national (PyMC-Marketing's), ``(n_geos,)``."""
        return (self.n_geos,) if self.panel else ()

    @property
    def channels(self) -> tuple[str, ...]:
        return self.media.channels

    @property
    def trend_form(self) -> TrendForm:
        return TRENDS.get(self.trend)

    @property
    def n_fourier(self) -> int:
        return 2 * self.n_modes

    def fourier(self, dates: pd.DatetimeIndex) -> np.ndarray:
        """The seasonal basis ``(n_times, n_fourier)`` over ``dates``."""
        return SEASONALITIES.get(self.seasonality).features(dates, self.n_modes)

    def fourier_names(self) -> list[str]:
        return SEASONALITIES.get(self.seasonality).names(self.n_modes)

    @property
    def beta_sampled(self) -> bool:
        """Whether ``saturation_beta`` is a sampled site (with an ROI prior it is derived)."""
        return self.media_prior != "roi"

    def prior(self, name: str) -> Prior:
        """The prior in force for site ``name``."""
        for key, prior in self.priors:
            if key == name:
                return prior
        raise KeyError(name)

    # -- the geo hierarchy ----------------------------------------------------------------
    @cached_property
    def pooled(self) -> tuple[tuple[str, int], ...]:
        """Parameters with geo values around a population value, and their sizes: the
        channel parameters not in ``geo_shared`` (``saturation_beta`` too, unless an ROI
        prior derives it) and ``gamma_control`` unless shared. Empty for national
        models."""
        if not self.panel:
            return ()
        out = [(p.name, len(p.channels)) for p in self.media.params
               if p.name not in self.geo_shared
               and not (p.name == Site.BETA and not self.beta_sampled)]
        if self.controls and Site.GAMMA_CONTROL not in self.geo_shared:
            out.append((Site.GAMMA_CONTROL, len(self.controls)))
        return tuple(out)

    def is_pooled(self, name: str) -> bool:
        return any(n == name for n, _ in self.pooled)

    @cached_property
    def pair(self) -> tuple[int, ...] | None:
        """Positions, among ``saturation_beta``'s channels, of the channels with ``lam``
        when their geo values are sampled as a rotated pair; None when not both pooled."""
        if not (self.is_pooled(Site.BETA) and self.is_pooled(Site.LAM)):
            return None
        beta = self.media.param(Site.BETA).channels
        return tuple(beta.index(c) for c in self.media.param(Site.LAM).channels)

    def with_geo(self, params: Mapping[str, Any], batch: int = 1) -> dict[str, Any]:
        """Parameter draws with the geo axis after ``batch`` leading axes on every per-geo
        site of a national model (intercept, noise, seasonality, trend); unchanged for geo
        models, where those sites already have it."""
        if self.panel:
            return dict(params)
        per_geo = {Site.INTERCEPT, Site.Y_SIGMA, Site.GAMMA_FOURIER,
                   *(s for s in self.trend_form.sites if s not in self.trend_form.shared)}
        return {k: (np.expand_dims(v, batch) if k in per_geo else v)
                for k, v in params.items()}

    # -- names for summaries and files ---------------------------------------------------
    def dims(self, name: str) -> list[str]:
        """Dimension names of posterior site ``name`` (for ArviZ and the fit file)."""
        geo = ["geo"] if self.panel else []
        base = name.removesuffix("_geo").removesuffix("_sigma")
        if base in self.media.param_names:
            have = self.media.param(base).channels
            channel = "channel" if len(have) == len(self.channels) else f"{base}_channel"
            return [*geo, channel] if name == Site.geo(base) else [channel]
        trend = self.trend_form
        if name in trend.sites:
            extra = [trend.dims[name]] if name in trend.dims else []
            return [*([] if name in trend.shared else geo), *extra]
        table: dict[str, list[str]] = {
            Site.ROI: ["channel"], Site.GAMMA_CONTROL: ["control"],
            Site.spread(Site.GAMMA_CONTROL): ["control"],
            Site.geo(Site.GAMMA_CONTROL): ["geo", "control"],
            Site.GAMMA_FOURIER: [*geo, "fourier_mode"], Site.INTERCEPT: geo,
            Site.Y_SIGMA: geo}
        return table.get(name, [])

    def parameter_names(self, present: Mapping[str, Any]) -> list[str]:
        """Reported sites present in ``present``, in summary order: baseline, media,
        hierarchy, controls, seasonality, noise."""
        channel = list(self.media.param_names)
        order = [Site.INTERCEPT, *self.trend_form.sites, *channel, Site.ROI,
                 *(Site.spread(n) for n in channel), *(Site.geo(n) for n in channel),
                 Site.GAMMA_CONTROL, Site.spread(Site.GAMMA_CONTROL),
                 Site.geo(Site.GAMMA_CONTROL), Site.GAMMA_FOURIER, Site.Y_SIGMA]
        return [n for n in order if n in present]

    def coords(self, present: Mapping[str, Any]) -> dict[str, list[str]]:
        """Coordinates of every dimension of :meth:`dims`."""
        out = {"channel": list(self.channels), "control": list(self.controls),
               "fourier_mode": self.fourier_names()}
        if self.panel:
            out["geo"] = list(self.geos)
        for p in self.media.params:
            if len(p.channels) != len(self.channels):
                out[f"{p.name}_channel"] = self.media.channel_names_of(p.name)
        for name, dim in self.trend_form.dims.items():
            if name in present:
                out[dim] = [str(k) for k in range(np.shape(present[name])[-1])]
        return out


def media_structure(spec_or_structure: ModelSpec | ModelStructure | MediaStructure
                    ) -> MediaStructure:
    """The media structure of a spec (built) or of a structure."""
    if isinstance(spec_or_structure, MediaStructure):
        return spec_or_structure
    if isinstance(spec_or_structure, ModelStructure):
        return spec_or_structure.media
    return MediaStructure.build(spec_or_structure)
