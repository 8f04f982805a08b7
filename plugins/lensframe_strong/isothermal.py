"""Isothermal lenses: SIS and SIE.

Convention (lenstronomy): κ = θ_E / (2 √(q x'² + y'²/q)), x' along the major axis, so θ_E is the
circularised (product-average) Einstein radius, b = θ_E √q in Tessore & Metcalf (2015).

SIE deflection in the frame of the ellipse (Kormann, Schneider & Bartelmann 1994, A&A 284, 285;
Keeton 2001, astro-ph/0102341, eq. for s = 0), with ψ = √(q² x'² + y'²) and s' = √(1 − q²):
    α_x' = (b / s') arctan(s' x' / ψ),   α_y' = (b / s') artanh(s' y' / ψ).
The potential of an isothermal profile is homogeneous of degree one, so ψ_lens = x·α.

Near the round limit the axis angle is undefined while the deflection is smooth in (e1, e2). For
|e| < 1e-5 the deflection is taken from the second-order expansion in ellipticity (solve
F + F'' = 2rκ/θ_E harmonic by harmonic for ψ = θ_E r F(φ)), with φ_0 the major-axis angle,
    ψ ≈ θ_E r [1 − e²/4 − (e/3) cos 2(φ − φ_0) − (e²/20) cos 4(φ − φ_0)],
    e cos 2(φ − φ_0) = e1 cos 2φ + e2 sin 2φ,
    e² cos 4(φ − φ_0) = (e1² − e2²) cos 4φ + 2 e1 e2 sin 4φ,
whose neglected terms are O(e³) < 1e-15 relative (and O(e²) < 1e-10 for the derivatives with
respect to e1, e2), so values and gradients are finite at e1 = e2 = 0 and continuous to round-off
across |e| = 1e-5. (A first-order expansion would leave a 1e-5 relative error in ∂α/∂e there.)
"""

import jax.numpy as jnp
from lensframe.profile import MassProfile

from . import params
from .ellipse import branch_on_roundness, elliptical_radius_squared, safe_sqrt

_ROUND = 1e-5  # below this |e| the second-order expansion is exact to < 1e-15
_TINY = 1e-12  # floor on radii, arcsec: avoids 0/0 at the centre


def _sis_deflection(dx, dy, theta_E):
    r = safe_sqrt(dx * dx + dy * dy, _TINY)
    return theta_E * dx / r, theta_E * dy / r


def _near_round_deflection(dx, dy, theta_E, e1, e2):
    """Gradient of θ_E r F(φ), F to second order in (e1, e2) (module docstring):
    α = θ_E (F r̂ + F'(φ) φ̂), written in cos/sin of 2φ and 4φ so that no power of r appears."""
    r = safe_sqrt(dx * dx + dy * dy, _TINY)
    u, v = dx / r, dy / r  # cos φ, sin φ (both 0 at the centre, where α = 0)
    c2, s2 = u * u - v * v, 2.0 * u * v
    c4, s4 = c2 * c2 - s2 * s2, 2.0 * c2 * s2
    m2, n2 = e1 * e1 - e2 * e2, 2.0 * e1 * e2  # e² cos 4φ_0, e² sin 4φ_0
    f = (1.0 - 0.25 * (e1 * e1 + e2 * e2) - (e1 * c2 + e2 * s2) / 3.0
         - (m2 * c4 + n2 * s4) / 20.0)
    df = 2.0 * (e1 * s2 - e2 * c2) / 3.0 + (m2 * s4 - n2 * c4) / 5.0
    return theta_E * (f * u - df * v), theta_E * (f * v + df * u)


def _elliptical_deflection(dx, dy, theta_E, e1, e2):
    e = jnp.sqrt(e1 * e1 + e2 * e2)
    q = (1.0 - e) / (1.0 + e)
    phi = 0.5 * jnp.arctan2(e2, e1)
    c, s = jnp.cos(phi), jnp.sin(phi)
    xp = c * dx + s * dy
    yp = -s * dx + c * dy
    b = theta_E * jnp.sqrt(q)
    psi = safe_sqrt(q * q * xp * xp + yp * yp, _TINY)
    sq = jnp.sqrt(1.0 - q * q)
    axp = b / sq * jnp.arctan(sq * xp / psi)
    ayp = b / sq * jnp.arctanh(sq * yp / psi)
    return c * axp - s * ayp, s * axp + c * ayp


def sie_deflection(x, y, theta_E, e1, e2, center_x, center_y):
    """SIE deflection (α_x, α_y) in arcsec."""
    dx, dy = x - center_x, y - center_y
    return branch_on_roundness(
        e1, e2, _ROUND,
        lambda a, b: _elliptical_deflection(dx, dy, theta_E, a, b),
        lambda a, b: _near_round_deflection(dx, dy, theta_E, a, b))


class SIS(MassProfile):
    """Singular isothermal sphere: κ = θ_E / (2r), α = θ_E r̂, ψ = θ_E r (angles in arcsec)."""

    params = params.SIS
    reference = "e.g. Schneider, Ehlers & Falco (1992), Gravitational Lenses, §8.1"

    def deflection(self, x, y, theta_E, center_x=0.0, center_y=0.0):
        return _sis_deflection(x - center_x, y - center_y, theta_E)

    def potential(self, x, y, theta_E, center_x=0.0, center_y=0.0):
        dx, dy = x - center_x, y - center_y
        return theta_E * safe_sqrt(dx * dx + dy * dy, _TINY)

    def convergence(self, x, y, theta_E, center_x=0.0, center_y=0.0):
        dx, dy = x - center_x, y - center_y
        return 0.5 * theta_E / safe_sqrt(dx * dx + dy * dy, _TINY)


class SIE(MassProfile):
    """Singular isothermal ellipsoid (angles in arcsec; lenstronomy's θ_E, e1, e2)."""

    params = params.SIE
    reference = "Kormann, Schneider & Bartelmann (1994), A&A 284, 285; Keeton (2001)"

    def deflection(self, x, y, theta_E, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
        return sie_deflection(x, y, theta_E, e1, e2, center_x, center_y)

    def potential(self, x, y, theta_E, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        ax, ay = self.deflection(x, y, theta_E, e1, e2, center_x, center_y)
        return (x - center_x) * ax + (y - center_y) * ay

    def convergence(self, x, y, theta_E, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        r2 = elliptical_radius_squared(x - center_x, y - center_y, e1, e2)
        return 0.5 * theta_E / safe_sqrt(r2, _TINY)

