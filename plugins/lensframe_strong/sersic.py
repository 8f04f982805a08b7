"""Elliptical Sérsic surface brightness (Sérsic 1963), in lenstronomy's convention:

    I(R) = amp · exp(−b_n [(R / R_sersic)^(1/n) − 1]),   b_n = 1.9992 n − 0.3271,
    R = √(q x'² + y'²/q),

so ``amp`` is the brightness at R_sersic and R_sersic is the product-average half-light radius.
R is floored at 1e-4 arcsec so the centre has a finite value and gradient, and the light is zero
beyond 100 R_sersic; both exactly as lenstronomy does, so images agree with it to round-off.
"""

import jax.numpy as jnp
from lensframe.profile import LightProfile

from . import params
from .ellipse import elliptical_radius_squared, safe_sqrt

_R_FLOOR = 1e-4  # arcsec
_MAX_R_FRAC = 100.0  # truncation radius in units of R_sersic


def b_n(n_sersic):
    """Ciotti & Bertin (1999)-style linear approximation used by lenstronomy."""
    return 1.9992 * n_sersic - 0.3271


def sersic_ellipse(x, y, amp, R_sersic, n_sersic, e1, e2, center_x, center_y):
    r2 = elliptical_radius_squared(x - center_x, y - center_y, e1, e2)
    radius = safe_sqrt(r2, _R_FLOOR)
    frac = radius / R_sersic
    inside = frac <= _MAX_R_FRAC
    frac = jnp.where(inside, frac, 1.0)
    return jnp.where(inside, amp * jnp.exp(-b_n(n_sersic) * (frac ** (1.0 / n_sersic) - 1.0)), 0.0)


class SersicEllipse(LightProfile):
    """Elliptical Sérsic profile; ``surface_brightness`` in flux/arcsec², coordinates in arcsec."""

    params = params.SERSIC_ELLIPSE
    reference = "Sérsic (1963); lenstronomy's SERSIC_ELLIPSE convention (Birrer & Amara 2018)"

    def surface_brightness(self, x, y, amp=1.0, R_sersic=1.0, n_sersic=4.0, e1=0.0, e2=0.0,
                           center_x=0.0, center_y=0.0):
        return sersic_ellipse(x, y, amp, R_sersic, n_sersic, e1, e2, center_x, center_y)
