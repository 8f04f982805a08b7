"""Mass sheet and polar external shear (lenstronomy's CONVERGENCE and SHEAR_GAMMA_PSI).

CONVERGENCE: a uniform sheet of convergence κ about (ra_0, dec_0) (arcsec),
    ψ = κ r² / 2,   α = κ (x − ra_0, y − dec_0),   H = diag(κ, κ).
SHEAR_GAMMA_PSI: the external shear of ``shear.py`` with strength γ = gamma_ext and angle
ψ_ext = psi_ext (radians, counter-clockwise from +x), γ1 = γ cos 2ψ_ext, γ2 = γ sin 2ψ_ext; every
quantity is the Cartesian shear's, evaluated at those (γ1, γ2).
"""

import jax.numpy as jnp
from lensframe.profile import MassProfile

from . import params_nfw
from .shear import Shear

_CARTESIAN = Shear()


def _ones(x, y, ra_0, dec_0):
    return jnp.ones_like(jnp.asarray(x - ra_0 + 0.0 * (y - dec_0), float))


class Convergence(MassProfile):
    """Uniform mass sheet: ψ = κ r²/2 about (ra_0, dec_0); κ dimensionless, angles in arcsec."""

    params = params_nfw.CONVERGENCE
    reference = "e.g. Falco, Gorenstein & Shapiro (1985), ApJ 289, L1 (mass-sheet degeneracy)"

    def potential(self, x, y, kappa, ra_0=0.0, dec_0=0.0):
        dx, dy = x - ra_0, y - dec_0
        return 0.5 * kappa * (dx * dx + dy * dy)

    def deflection(self, x, y, kappa, ra_0=0.0, dec_0=0.0):
        return kappa * (x - ra_0), kappa * (y - dec_0)

    def hessian(self, x, y, kappa, ra_0=0.0, dec_0=0.0):
        diag = kappa * _ones(x, y, ra_0, dec_0)
        zero = 0.0 * diag  # keeps the dtype, shape and the (zero) dependence on every input
        return diag, zero, zero, diag

    def convergence(self, x, y, kappa, ra_0=0.0, dec_0=0.0):
        return kappa * _ones(x, y, ra_0, dec_0)


def polar_to_cartesian(gamma_ext, psi_ext):
    """(γ1, γ2) = γ (cos 2ψ, sin 2ψ): smooth in (γ, ψ), also at γ = 0."""
    return gamma_ext * jnp.cos(2.0 * psi_ext), gamma_ext * jnp.sin(2.0 * psi_ext)


class ShearGammaPsi(MassProfile):
    """External shear in polar form: strength gamma_ext, angle psi_ext (rad), origin (ra_0, dec_0)
    in arcsec; the Cartesian SHEAR at γ1 = γ cos 2ψ, γ2 = γ sin 2ψ."""

    params = params_nfw.SHEAR_GAMMA_PSI
    reference = "e.g. Schneider, Ehlers & Falco (1992), §8.2; lenstronomy's SHEAR_GAMMA_PSI"

    def potential(self, x, y, gamma_ext, psi_ext, ra_0=0.0, dec_0=0.0):
        return _CARTESIAN.potential(x, y, *polar_to_cartesian(gamma_ext, psi_ext), ra_0, dec_0)

    def deflection(self, x, y, gamma_ext, psi_ext, ra_0=0.0, dec_0=0.0):
        return _CARTESIAN.deflection(x, y, *polar_to_cartesian(gamma_ext, psi_ext), ra_0, dec_0)

    def hessian(self, x, y, gamma_ext, psi_ext, ra_0=0.0, dec_0=0.0):
        return _CARTESIAN.hessian(x, y, *polar_to_cartesian(gamma_ext, psi_ext), ra_0, dec_0)

    def convergence(self, x, y, gamma_ext, psi_ext, ra_0=0.0, dec_0=0.0):
        return _CARTESIAN.convergence(x, y, *polar_to_cartesian(gamma_ext, psi_ext), ra_0, dec_0)
