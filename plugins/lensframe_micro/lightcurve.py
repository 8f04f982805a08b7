"""Light-curve likelihood: any number of photometric data sets of one microlensing event.

Model (``../shared/design/microlensing.md``): each data set k sees the flux
F_k(t) = F_s,k · A(y(t)) + F_b,k, where y(t) is the source position from the trajectory component
(e.g. ``rectilinear``: t0, u0, tE, alpha) and A the magnification from the lens component (a
``microlens`` profile such as ``binary_lens``: ``profile.magnification(y1, y2, **params)``). The source
and blend fluxes (F_s,k, F_b,k) are not parameters: at every likelihood evaluation they are solved
by weighted least squares, a closed-form 2×2 system per data set (Rhie et al. 1999; the standard
linear flux fit of MulensModel and VBMicrolensing users), all data sets at once.

ln L = −½ Σ_i w_i (F_i − F_model,i)² with w_i = 1/σ_i² — the χ² form (no normalisation constant,
which is fixed when the error bars are). Fluxes use the zero point of ``photometry.MAG_ZEROPOINT``.

Data (``prepare_data``): one table per data set, keyed by its name::

    [data.OGLE]
    file = "event/ogle.dat"       # time, mag, err (relative to the config; "{mulensmodel_data}/..."
    kind = "mag"                  #   resolves to MulensModel's installed data folder); or "flux"
    unsorted = "sort"             # times out of order: sort with a warning, or "error"
    error_scale = 1.0             # optional rescaling σ' = error_scale · √(σ² + error_floor²)
    error_floor = 0.0             #   (error_floor in magnitudes, or flux units for kind = "flux")

With the ``rectilinear_parallax`` trajectory, ``[data]`` also takes ``coords = "17:55:23.50
-30:12:26.1"`` (RA, Dec of the event) and ``t0_par`` (reference epoch, HJD − 2450000); the Sun's
offsets are computed on the host once (``parallax.py``) and travel with the data.

Instead of ``file``, arrays ``time``, ``mag`` (or ``flux``) and ``error`` may be given inline (from
Python). The error-bar rescaling is the usual form of Yee et al. (2012, ApJ 755, 102); it is fixed,
not fitted.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.errors import ConfigError, DataError
from lensframe.likelihood import Likelihood
from lensframe.options import positive

from .finite import FiniteSettings
from .photometry import Photometry, mag_to_flux, photometry_from_arrays, read_photometry

_SET_KEYS = ("file", "kind", "unsorted", "error_scale", "error_floor", "time", "mag", "flux", "error")
MULENSMODEL_DATA = "{mulensmodel_data}"


@dataclass(frozen=True)
class LightCurveOptions:
    """Options of the light-curve likelihood; data-set settings live in ``[data]``."""

    chunk: int = field(default=256, metadata={
        "help": "epochs magnified together (a vmapped block inside lax.map): bounds the memory "
                "of finite-source integrals on long light curves"})
    finite_tol: float = field(default=FiniteSettings.tol, metadata={
        "help": "relative accuracy aimed at by finite-source magnifications (multipole or full "
                "integral, and the contour's refinement); larger is faster near caustics"})
    n_rings: int = field(default=FiniteSettings.n_rings, metadata={
        "help": "limb-darkening circles of the full integral (a1 > 0): 32 meet 3e-4 near "
                "caustics, 6 give ~3e-3 at a quarter of the time (docs/performance.md)"})

    def __post_init__(self):
        positive("chunk", self.chunk)
        positive("n_rings", self.n_rings)
        if not 0 < self.finite_tol < 1:
            raise ValueError(f"option 'finite_tol' must be in (0, 1), got {self.finite_tol}")

    @property
    def finite(self) -> FiniteSettings:
        return FiniteSettings(tol=self.finite_tol, n_rings=self.n_rings)


def resolve_path(text: str, base_dir) -> Path:
    """A data path from a config: ``{mulensmodel_data}`` expands to ``MulensModel.DATA_PATH`` (the
    package's installed data folder, so its files need not be copied); relative paths are taken
    from ``base_dir`` (the config's folder)."""
    if MULENSMODEL_DATA in text:
        try:
            import MulensModel
        except ImportError:
            raise DataError(f"{text}: {MULENSMODEL_DATA} needs MulensModel installed "
                            "(pip install MulensModel)") from None
        text = text.replace(MULENSMODEL_DATA, str(MulensModel.DATA_PATH))
    path = Path(text).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    return path


def solve_fluxes(magnification, flux, weight, membership):
    """Weighted least-squares (F_s, F_b) per data set for F = F_s A + F_b.

    Args:
        magnification, flux, weight: (N,) over all epochs of all data sets.
        membership: (N, K) one-hot: epoch i belongs to data set k.

    Returns:
        (F_s (K,), F_b (K,)). A data set whose magnification does not vary (singular system) gets
        F_b = 0 and F_s = Σ w A F / Σ w A².
    """
    wa = weight * magnification
    s_aa = (wa * magnification) @ membership
    s_a = wa @ membership
    s_1 = weight @ membership
    s_af = (wa * flux) @ membership
    s_f = (weight * flux) @ membership
    det = s_aa * s_1 - s_a**2
    regular = det > 1e-12 * s_aa * s_1
    safe_det = jnp.where(regular, det, 1.0)
    f_s = jnp.where(regular, (s_af * s_1 - s_a * s_f) / safe_det, s_af / s_aa)
    f_b = jnp.where(regular, (s_aa * s_f - s_a * s_af) / safe_det, 0.0)
    return f_s, f_b


class LightCurveLikelihood(Likelihood):
    """Photometry of a microlensing event (see the module docstring)."""

    Options = LightCurveOptions
    reference = ("Paczyński (1986); Rhie et al. (1999) for the linear flux fit; Yee et al. (2012) "
                 "for error-bar rescaling")

    def __init__(self, components, linear, options):
        super().__init__(components, linear, options)
        trajectories = [c for c in self.components.values()
                        if hasattr(c.profile, "source_position")]
        lenses = [c for c in self.components.values()
                  if c.profile.kind == "microlens" and not hasattr(c.profile, "source_position")]
        others = [c for c in self.components.values() if c.profile.kind != "microlens"]
        if others:
            c = others[0]
            raise ConfigError(f"components.{c.name}: the lightcurve likelihood takes microlens "
                              f"profiles, not {c.profile.kind} ('{c.profile_name}')")
        if len(trajectories) != 1:
            raise ConfigError("components: the lightcurve likelihood needs exactly one trajectory "
                              "component (profile = \"rectilinear\"), got "
                              f"{[c.name for c in trajectories] or 'none'}")
        if len(lenses) != 1:
            raise ConfigError("components: the lightcurve likelihood needs exactly one lens "
                              "component (profile = \"point_lens\", \"binary_lens\", ...), got "
                              f"{[c.name for c in lenses] or 'none'}")
        if linear:
            raise ConfigError(f"components: {sorted(linear)[0]} cannot be 'linear': the lightcurve "
                              "likelihood solves the source and blend fluxes itself")
        self.trajectory = trajectories[0]
        self.lens = lenses[0]
        self.set_names: tuple[str, ...] = ()
        self.sets: tuple[Photometry, ...] = ()
        self.coords, self.t0_par = None, None  # event coordinates, for parallax

    # -- host side ---------------------------------------------------------------------------------
    def prepare_data(self, raw, base_dir=None):
        if not jax.config.jax_enable_x64:
            # the lens polynomial's roots and epochs ~1e4 days need float64: in float32 the
            # example event's chi2 at its truth reads 397,000 instead of 117
            warnings.warn("the lightcurve likelihood needs float64: call "
                          "jax.config.update(\"jax_enable_x64\", True) before building the problem "
                          "(`lensframe fit` does so unless --float32)", UserWarning, stacklevel=2)
        raw = dict(raw)
        self.coords = raw.pop("coords", None)
        self.t0_par = raw.pop("t0_par", None)
        if not raw:
            raise ConfigError("data: give at least one data set, e.g. [data.OGLE] file = "
                              "\"ogle.dat\"")
        sets = []
        for name, entry in raw.items():
            sets.append(self._read_set(str(name), entry, base_dir))
        flux, error, time, member = [], [], [], []
        for k, (phot, (scale, floor)) in enumerate(sets):
            sigma = scale * np.sqrt(phot.error**2 + floor**2)
            f, s = (phot.value, sigma) if phot.kind == "flux" else mag_to_flux(phot.value, sigma)
            flux.append(f)
            error.append(s)
            time.append(phot.time)
            member.append(np.full(phot.time.shape, k))
        member = np.concatenate(member)
        self.set_names = tuple(p.name for p, _ in sets)
        self.sets = tuple(p for p, _ in sets)
        prepared = {
            "time": np.concatenate(time),
            "flux": np.concatenate(flux),
            "weight": 1.0 / np.concatenate(error) ** 2,
            "membership": (member[:, None] == np.arange(len(sets))[None, :]).astype(float),
        }
        if self.needs_sun_offsets:
            if self.coords is None or self.t0_par is None:
                raise ConfigError(f"data: trajectory '{self.trajectory.profile_name}' has annual "
                                  "parallax and needs data.coords (\"RA Dec\" of the event) and "
                                  "data.t0_par (its reference epoch, HJD − 2450000)")
            if isinstance(self.t0_par, bool) or not isinstance(self.t0_par, (int, float)):
                raise ConfigError(f"data.t0_par: expected a number (HJD − 2450000), got "
                                  f"{self.t0_par!r}")
            prepared["sun_offsets"] = self.sun_offsets_at(prepared["time"])
        return prepared

    @property
    def needs_sun_offsets(self) -> bool:
        return bool(getattr(self.trajectory.profile, "needs_sun_offsets", False))

    def sun_offsets_at(self, t):
        """The Sun's projected offsets (AU) at epochs ``t`` for a parallax trajectory, else None
        (host side, astropy)."""
        if not self.needs_sun_offsets:
            return None
        from .parallax import sun_offsets

        return sun_offsets(t, str(self.coords), float(self.t0_par))

    def _read_set(self, name, entry, base_dir):
        where = f"data.{name}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table with 'file' (time, mag, err), got "
                              f"{entry!r}")
        unknown = [k for k in entry if k not in _SET_KEYS]
        if unknown:
            hints = [f"'{k}'" + "".join(f" (did you mean '{m}'?)" for m in
                                        difflib.get_close_matches(k, _SET_KEYS, n=1))
                     for k in unknown]
            raise ConfigError(f"{where}: unknown key(s) {', '.join(hints)}; a data set takes "
                              f"{', '.join(_SET_KEYS)}")
        kind = entry.get("kind", "flux" if "flux" in entry else "mag")
        if kind not in ("mag", "flux"):
            raise ConfigError(f"{where}.kind: must be 'mag' or 'flux', got {kind!r}")
        scale = float(entry.get("error_scale", 1.0))
        floor = float(entry.get("error_floor", 0.0))
        if not scale > 0:
            raise ConfigError(f"{where}.error_scale: must be > 0, got {scale}")
        if not floor >= 0:
            raise ConfigError(f"{where}.error_floor: must be ≥ 0, got {floor}")
        if "file" in entry:
            path = resolve_path(str(entry["file"]), base_dir)
            try:
                phot = read_photometry(path, name=name, kind=kind,
                                       unsorted=entry.get("unsorted", "sort"))
            except DataError as exc:
                raise DataError(f"{where}: {exc}") from None
        else:
            phot = _inline_set(name, entry, kind, where)
        return phot, (scale, floor)

    def degrees_of_freedom(self, data, n_free):
        return int(np.shape(data["time"])[0]) - n_free - 2 * int(np.shape(data["membership"])[1])

    # -- traced ----------------------------------------------------------------------------------
    def source_position(self, values, t, sun_offsets=None):
        """(y1, y2) in θ_E at epochs ``t`` (days); ``sun_offsets`` for parallax trajectories."""
        params = values[self.trajectory.name]
        if self.needs_sun_offsets:
            return self.trajectory.profile.source_position(t, sun_offsets, **params)
        return self.trajectory.profile.source_position(t, **params)

    def magnification(self, values, t, sun_offsets=None):
        """A(t) at epochs ``t`` (days) for the component values ``values``."""
        y1, y2 = self.source_position(values, t, sun_offsets)
        params = dict(values[self.lens.name])
        profile = self.lens.profile
        if hasattr(profile, "lenses"):
            # point lenses (binary, triple, ...): the whole curve in one call of the batched
            # finite-source magnification, which pays the full integral only at the epochs that
            # need it (vmapping the per-point version would evaluate both branches everywhere)
            from .finite import magnification_batch

            rho, a1 = params.pop("rho", 0.0), params.pop("a1", 0.0)
            z, m = profile.lenses(**params)
            w = (y1 + 1j * y2).reshape(-1)
            # blocks of `chunk` epochs bound the batch's working memory on long light curves
            n, size = w.shape[0], min(self.options.chunk, w.shape[0])
            blocks = -(-n // size)
            padded = jnp.concatenate([w, jnp.full(blocks * size - n, w[-1])]).reshape(blocks, size)
            values = jax.lax.map(
                lambda b: magnification_batch(b, z, m, rho, a1, self.options.finite)[0], padded)
            return values.reshape(-1)[:n].reshape(jnp.shape(y1))
        magnify = lambda ab: profile.magnification(ab[0], ab[1], **params)  # noqa: E731
        flat = (y1.reshape(-1), y2.reshape(-1))
        return jax.lax.map(magnify, flat, batch_size=self.options.chunk).reshape(jnp.shape(y1))

    def _model(self, values, data):
        magnification = self.magnification(values, data["time"], data.get("sun_offsets"))
        f_s, f_b = solve_fluxes(magnification, data["flux"], data["weight"], data["membership"])
        model = magnification * (data["membership"] @ f_s) + data["membership"] @ f_b
        return model, magnification, f_s, f_b

    def log_likelihood(self, values, data):
        model, _, _, _ = self._model(values, data)
        return -0.5 * jnp.sum(data["weight"] * (data["flux"] - model) ** 2)

    def products(self, values, data):
        model, magnification, f_s, f_b = self._model(values, data)
        residual = data["flux"] - model
        return {"time": data["time"], "data": data["flux"], "model": model,
                "magnification": magnification, "residual": residual,
                "normalized_residual": residual * jnp.sqrt(data["weight"]),
                "source_flux": f_s, "blend_flux": f_b}

    def figures(self, values, data, directory, title=""):
        from .lightcurve_plots import caustic_figure, light_curve_figure

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return [light_curve_figure(self, values, data, directory / "light_curve.png", title),
                caustic_figure(self, values, data, directory / "caustics.png", title)]


def _inline_set(name, entry, kind, where) -> Photometry:
    column = "flux" if kind == "flux" else "mag"
    missing = [k for k in ("time", column, "error") if k not in entry]
    if missing:
        raise ConfigError(f"{where}: give 'file', or the arrays time, {column} and error "
                          f"(missing: {', '.join(missing)})")
    return photometry_from_arrays(name, entry["time"], entry[column], entry["error"], kind, where,
                                  unsorted=entry.get("unsorted", "sort"))
