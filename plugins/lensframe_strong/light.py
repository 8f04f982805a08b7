"""Light profiles in lenstronomy's conventions (docs/conventions.md): circular Sérsic, Gaussian,
elliptical Gaussian, concentric Gaussians and Cartesian shapelets. Surface brightness is flux per
arcsec², coordinates and scales in arcsec.

* ``SERSIC`` — the Sérsic kernel of :mod:`.sersic` at e1 = e2 = 0 (same R floor of 1e-4 arcsec and
  truncation at 1000 R_sersic as lenstronomy's SERSIC): I = amp exp(−b_n [(R/R_sersic)^(1/n) − 1]).
* ``GAUSSIAN`` — I = amp / (2π σ²) exp(−r² / 2σ²): ``amp`` is the total flux, as in lenstronomy.
* ``GAUSSIAN_ELLIPSE`` — the same with r² replaced by R² = q x'² + y'²/q (product-average axes,
  so the total flux is still ``amp``).
* ``MULTI_GAUSSIAN`` — Σ_i GAUSSIAN(amp_i, sigma_i) about one centre. Option ``n_components``
  (default 3). lenstronomy's MULTI_GAUSSIAN takes lists ``amp=[a0, a1, …]``,
  ``sigma=[s0, s1, …]``; here they are the scalars ``amp_i = amp[i]`` (linear) and
  ``sigma_i = sigma[i]``, so every amplitude can be solved and every width sampled.
* ``SHAPELETS`` — Cartesian Gauss–Hermite shapelets (Refregier 2003, MNRAS 338, 35):
  I = Σ_i amp_i φ_{n1}(Δx/β) φ_{n2}(Δy/β), φ_n(u) = [2ⁿ √π n!]^(−1/2) H_n(u) e^(−u²/2), over
  n1 + n2 ≤ n_max. Option ``n_max`` (default 2). As in lenstronomy's SHAPELETS, the basis is the
  dimensionless φ (Refregier's β⁻¹ normalisation of B_n is not applied), so ``amp_i`` is a surface
  brightness, and amp_0, amp_1, … follow lenstronomy's order (0,0), (1,0), (0,1), (2,0), (1,1),
  (0,2), …: lensframe's ``amp_i`` is lenstronomy's ``amp[i]``. φ_n is computed by the stable
  three-term recurrence of the normalised Hermite functions,
  φ_{n+1} = √(2/(n+1)) u φ_n − √(n/(n+1)) φ_{n−1}, so no factorial or large H_n(u) is ever formed.
  lenstronomy (``stable_cut``) sets the basis to zero for u ≥ 5 √(n+2); lensframe does not cut, the
  difference there is below 1e-10 of the peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax.numpy as jnp
from lensframe.profile import LightProfile

from . import params_light
from .ellipse import elliptical_radius_squared
from .sersic import sersic_ellipse

_PI_M14 = math.pi ** -0.25  # φ_0(0)


# -- kernels ------------------------------------------------------------------------------------
def gaussian(r2, amp, sigma):
    """amp / (2π σ²) · exp(−r² / 2σ²) given r² (arcsec²); the integral over the plane is amp."""
    s2 = sigma * sigma
    return amp / (2.0 * jnp.pi * s2) * jnp.exp(-0.5 * r2 / s2)


def hermite_functions(u, n_max: int):
    """[φ_0(u), …, φ_{n_max}(u)], the orthonormal Hermite functions, stacked on a new first axis.

    A Python loop over the orders (n_max is static); every order is one vectorised expression
    over all of ``u``. e^(−u²/2) underflows to exactly 0 far out, which the recurrence keeps, so
    values and gradients stay finite for any u.
    """
    phi = [_PI_M14 * jnp.exp(-0.5 * u * u)]
    if n_max >= 1:
        phi.append(math.sqrt(2.0) * u * phi[0])
    for n in range(1, n_max):
        phi.append(math.sqrt(2.0 / (n + 1)) * u * phi[n] - math.sqrt(n / (n + 1)) * phi[n - 1])
    return jnp.stack(phi)


def shapelets(x, y, amps, beta, center_x, center_y, n_max: int):
    """Σ_i amps[i] φ_{n1_i}(Δx/β) φ_{n2_i}(Δy/β) with (n1_i, n2_i) in lenstronomy's order.

    Written as Σ_{n1} φ_{n1}(Δx/β) [Σ_{n2} a_{n1 n2} φ_{n2}(Δy/β)], a sum over the static orders, so
    that every parameter may itself be an array broadcasting against x and y.
    """
    hx = hermite_functions((x - center_x) / beta, n_max)
    hy = hermite_functions((y - center_y) / beta, n_max)
    rows = {}
    for amp, (n1, n2) in zip(amps, params_light.shapelet_orders(n_max)):
        rows[n1] = rows.get(n1, 0.0) + amp * hy[n2]
    total = jnp.zeros(jnp.broadcast_shapes(hx.shape[1:], hy.shape[1:]), hx.dtype)
    for n1, row in rows.items():
        total = total + hx[n1] * row
    return total


def _broadcast(x, y):
    return jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))


# -- profiles -----------------------------------------------------------------------------------
class Sersic(LightProfile):
    """Circular Sérsic profile (lenstronomy's SERSIC); flux/arcsec², arcsec."""

    params = params_light.SERSIC
    reference = "Sérsic (1963); lenstronomy's SERSIC convention (Birrer & Amara 2018)"

    def surface_brightness(self, x, y, amp=1.0, R_sersic=1.0, n_sersic=4.0, center_x=0.0,
                           center_y=0.0):
        return sersic_ellipse(x, y, amp, R_sersic, n_sersic, 0.0, 0.0, center_x, center_y)


class Gaussian(LightProfile):
    """Circular Gaussian, amp = total flux (lenstronomy's GAUSSIAN); flux/arcsec², arcsec."""

    params = params_light.GAUSSIAN
    reference = "lenstronomy's GAUSSIAN convention (Birrer & Amara 2018)"

    def surface_brightness(self, x, y, amp=1.0, sigma=1.0, center_x=0.0, center_y=0.0):
        x, y = _broadcast(x, y)
        dx, dy = x - center_x, y - center_y
        return gaussian(dx * dx + dy * dy, amp, sigma)


class GaussianEllipse(LightProfile):
    """Elliptical Gaussian in product-average axes, amp = total flux (lenstronomy's
    GAUSSIAN_ELLIPSE); flux/arcsec², arcsec."""

    params = params_light.GAUSSIAN_ELLIPSE
    reference = "lenstronomy's GAUSSIAN_ELLIPSE convention (Birrer & Amara 2018)"

    def surface_brightness(self, x, y, amp=1.0, sigma=1.0, e1=0.0, e2=0.0, center_x=0.0,
                           center_y=0.0):
        x, y = _broadcast(x, y)
        return gaussian(elliptical_radius_squared(x - center_x, y - center_y, e1, e2), amp, sigma)


def _check_count(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"option '{name}' must be an integer ≥ {minimum}, got {value!r}")


@dataclass(frozen=True)
class MultiGaussianOptions:
    n_components: int = field(default=params_light.MULTI_GAUSSIAN_DEFAULT_N,
                              metadata={"help": "number of concentric Gaussians (≥ 1)"})

    def __post_init__(self):
        _check_count("n_components", self.n_components, 1)


class MultiGaussian(LightProfile):
    """Concentric circular Gaussians (lenstronomy's MULTI_GAUSSIAN with ``amp``/``sigma`` lists
    unrolled into ``amp_i``/``sigma_i``); flux/arcsec², arcsec."""

    Options = MultiGaussianOptions
    reference = "lenstronomy's MULTI_GAUSSIAN convention (Birrer & Amara 2018)"

    @property
    def params(self):
        return params_light.multi_gaussian_params(self.options.n_components)

    def surface_brightness(self, x, y, center_x=0.0, center_y=0.0, **params):
        x, y = _broadcast(x, y)
        n = self.options.n_components
        expected = {f"amp_{i}" for i in range(n)} | {f"sigma_{i}" for i in range(n)}
        if set(params) - expected:
            raise TypeError(f"MULTI_GAUSSIAN (n_components={n}) got unexpected parameter(s) "
                            f"{sorted(set(params) - expected)}")
        dx, dy = x - center_x, y - center_y
        r2 = dx * dx + dy * dy
        total = jnp.zeros_like(r2)
        for i in range(n):
            total = total + gaussian(r2, params.get(f"amp_{i}", 0.0), params[f"sigma_{i}"])
        return total


@dataclass(frozen=True)
class ShapeletOptions:
    n_max: int = field(default=params_light.SHAPELETS_DEFAULT_N_MAX,
                       metadata={"help": "maximum order n1 + n2 of the shapelets (≥ 0); "
                                         "(n_max+1)(n_max+2)/2 amplitudes"})

    def __post_init__(self):
        _check_count("n_max", self.n_max, 0)


class Shapelets(LightProfile):
    """Cartesian shapelets up to order n_max (lenstronomy's SHAPELETS; ``amp_i`` = its
    ``amp[i]``); flux/arcsec², arcsec."""

    Options = ShapeletOptions
    reference = ("Refregier (2003), MNRAS 338, 35; lenstronomy's SHAPELETS convention and basis "
                 "order (Birrer et al. 2015)")

    @property
    def params(self):
        return params_light.shapelet_params(self.options.n_max)

    def surface_brightness(self, x, y, beta=1.0, center_x=0.0, center_y=0.0, **amps):
        x, y = _broadcast(x, y)
        k = params_light.n_shapelets(self.options.n_max)
        unknown = set(amps) - {f"amp_{i}" for i in range(k)}
        if unknown:
            raise TypeError(f"SHAPELETS (n_max={self.options.n_max}) got unexpected "
                            f"parameter(s) {sorted(unknown)}")
        coefficients = [amps.get(f"amp_{i}", 0.0) for i in range(k)]
        return shapelets(x, y, coefficients, beta, center_x, center_y, self.options.n_max)
