"""External shear: ψ = ½ γ1 (x² − y²) + γ2 x y about (ra_0, dec_0) (lenstronomy's SHEAR)."""

import jax.numpy as jnp
from lensframe.profile import MassProfile

from . import params


class Shear(MassProfile):
    """External shear; γ1 = γ cos 2ψ_ext, γ2 = γ sin 2ψ_ext (dimensionless, angles in arcsec)."""

    params = params.SHEAR
    reference = "e.g. Schneider, Ehlers & Falco (1992), §8.2 (quadratic tidal potential)"

    def potential(self, x, y, gamma1, gamma2, ra_0=0.0, dec_0=0.0):
        dx, dy = x - ra_0, y - dec_0
        return 0.5 * gamma1 * (dx * dx - dy * dy) + gamma2 * dx * dy

    def deflection(self, x, y, gamma1, gamma2, ra_0=0.0, dec_0=0.0):
        dx, dy = x - ra_0, y - dec_0
        return gamma1 * dx + gamma2 * dy, gamma2 * dx - gamma1 * dy

    def hessian(self, x, y, gamma1, gamma2, ra_0=0.0, dec_0=0.0):
        one = jnp.ones_like(jnp.asarray(x - ra_0 + 0.0 * (y - dec_0), float))
        return gamma1 * one, gamma2 * one, gamma2 * one, -gamma1 * one

    def convergence(self, x, y, gamma1, gamma2, ra_0=0.0, dec_0=0.0):
        return jnp.zeros_like(jnp.asarray(x - ra_0 + 0.0 * (y - dec_0), float))
