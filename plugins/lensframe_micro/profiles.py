"""Microlens profiles: point, binary, triple and explicit multiple point lenses.

Thin classes over the pure functions of ``lenses.py`` (layouts), ``point.py`` (images, point-source
magnification), ``finite.py`` (finite sources) and ``caustics.py``. Conventions of
``../shared/design/microlensing.md``: source position (y1, y2) and all lengths in θ_E of the total
lens mass; ``rho = 0`` means a point source, ``a1`` is the linear limb-darkening coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
from lensframe.profile import MicrolensProfile

from . import finite, params
from .caustics import caustics as _caustics
from .lenses import binary_lenses, triple_lenses
from .point import images as _images
from .point import in_blocks
from .point import point_lens_magnification, point_magnification


def _static_zero(rho) -> bool:
    """True when ``rho`` is a concrete 0 (the default, or a literal), not a traced value: then the
    point-source path alone is built, without the finite-source program (whose compilation takes
    tens of seconds on a CPU). A traced rho keeps both paths, chosen per value."""
    return isinstance(rho, (int, float)) and not isinstance(rho, bool) and rho == 0


def _over_positions(fn, y1, y2):
    """Apply ``fn(w)`` (one complex position → pytree) at every position of broadcast y1, y2."""
    y1, y2 = jnp.broadcast_arrays(jnp.asarray(y1, float), jnp.asarray(y2, float))
    w = (y1 + 1j * y2).reshape(-1)
    out = in_blocks(fn, w)
    return jax.tree_util.tree_map(lambda a: a.reshape(y1.shape + a.shape[1:]), out)


class _LensSystem(MicrolensProfile):
    """Shared behaviour: a subclass defines ``lenses(**lens_params) -> (z, m)``."""

    reference = "Witt & Mao (1995), ApJ 447, L105 (point-source images); see finite.py for rho > 0"

    def lenses(self, **lens_params):
        raise NotImplementedError

    def magnification(self, y1, y2, rho=0.0, a1=0.0, **lens_params):
        """Magnification at source position(s) (y1, y2) (θ_E; any broadcastable shapes)."""
        z, m = self.lenses(**lens_params)
        if _static_zero(rho):
            return _over_positions(lambda w: point_magnification(w, z, m), y1, y2)
        return _over_positions(lambda w: finite.magnification(w, z, m, rho, a1), y1, y2)

    def images(self, y1, y2, **lens_params):
        """Point-source images: (positions complex (..., n²+1), parity (..., n²+1)) with parity ±1
        for true images (sign of det J) and 0 for false roots of the lens polynomial."""
        lens_params = {k: v for k, v in lens_params.items() if k not in ("rho", "a1")}
        z, m = self.lenses(**lens_params)
        return _over_positions(lambda w: _images(w, z, m), y1, y2)

    def caustics(self, n_phi: int = 512, **lens_params):
        """(critical curves, caustics): complex (n_phi + 1, 2n), see ``caustics.caustics``."""
        lens_params = {k: v for k, v in lens_params.items() if k not in ("rho", "a1")}
        z, m = self.lenses(**lens_params)
        return _caustics(z, m, n_phi)


class PointLens(_LensSystem):
    """Single point lens: A(u) = (u² + 2)/(u √(u² + 4)) for a point source (Paczyński 1986, ApJ 304,
    1), the finite-source integral of ``finite.py`` for rho > 0. Lens at the origin."""

    params = params.SOURCE
    reference = "Paczyński (1986), ApJ 304, 1"

    def lenses(self):
        return jnp.zeros((1,), complex), jnp.ones((1,))

    def magnification(self, y1, y2, rho=0.0, a1=0.0):
        z, m = self.lenses()
        if _static_zero(rho):
            y1, y2 = jnp.broadcast_arrays(jnp.asarray(y1, float), jnp.asarray(y2, float))
            return point_lens_magnification(jnp.abs(y1 + 1j * y2))
        rho = jnp.asarray(rho, float)
        safe_rho = jnp.where(rho > 0, rho, 1e-3)

        def one(w):
            extended = finite.magnification(w, z, m, safe_rho, a1)
            return jnp.where(rho > 0, extended, point_lens_magnification(jnp.abs(w)))
        return _over_positions(one, y1, y2)


class BinaryLens(_LensSystem):
    """Binary point lens (s, q) in VBMicrolensing's frame (``lenses.binary_lenses``)."""

    params = params.BINARY + params.SOURCE

    def lenses(self, s, q):
        return binary_lenses(s, q)


class TripleLens(_LensSystem):
    """Triple point lens (s, q, s13, q3, psi) (``lenses.triple_lenses``)."""

    params = params.TRIPLE + params.SOURCE

    def lenses(self, s, q, s13, q3, psi=0.0):
        return triple_lenses(s, q, s13, q3, psi)


@dataclass(frozen=True)
class MultiLensOptions:
    n_lenses: int = field(default=2, metadata={"help": "number of point lenses (≥ 1)"})

    def __post_init__(self):
        if isinstance(self.n_lenses, bool) or not isinstance(self.n_lenses, int) \
                or self.n_lenses < 1:
            raise ValueError(f"option 'n_lenses' must be an integer ≥ 1, got {self.n_lenses!r}")


class MultiLens(_LensSystem):
    """Point lenses at explicit positions (x_k, y_k) with masses m_k (normalised to sum 1); the
    parameters are named x_1, y_1, m_1, x_2, ... (underscored, unlike the source position y1, y2)."""

    Options = MultiLensOptions

    @property
    def params(self):
        return params.multi_lens_params(self.options.n_lenses) + params.SOURCE

    def lenses(self, **lens_params):
        n = self.options.n_lenses
        names = {f"{c}_{k}" for k in range(1, n + 1) for c in "xym"}
        unknown = set(lens_params) - names
        if unknown:
            raise TypeError(f"multi_lens (n_lenses={n}) got unexpected parameter(s) "
                            f"{sorted(unknown)}")
        z = jnp.stack([jnp.asarray(lens_params.get(f"x_{k}", 0.0), float)
                       + 1j * jnp.asarray(lens_params.get(f"y_{k}", 0.0), float)
                       for k in range(1, n + 1)])
        m = jnp.stack([jnp.asarray(lens_params.get(f"m_{k}", 1.0 / n), float)
                       for k in range(1, n + 1)])
        return z, m / m.sum()
