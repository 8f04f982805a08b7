"""Elliptical Sérsic surface brightness (Sérsic 1963), in lenstronomy's convention:

    I(R) = amp · exp(−b_n [(R / R_sersic)^(1/n) − 1]),   b_n = 1.9992 n − 0.3271,
    R = √(q x'² + y'²/q),

so ``amp`` is the brightness at R_sersic and R_sersic is the product-average half-light radius.
R is floored at 1e-4 arcsec so the centre has a finite value and gradient, and the light is zero
beyond 1000 R_sersic; both exactly as lenstronomy's SERSIC_ELLIPSE does (its default
``max_R_frac=1000``), so images agree with it to round-off.
"""

import math

import jax.numpy as jnp
from lensframe.profile import LightProfile

from . import params
from .ellipse import elliptical_radius_squared

_R_FLOOR = 1e-4  # arcsec
_MAX_R_FRAC = 1000.0  # truncation radius in units of R_sersic
_LOG_MAX_R_FRAC = math.log(_MAX_R_FRAC)


def b_n(n_sersic):
    """Ciotti & Bertin (1999)-style linear approximation used by lenstronomy."""
    return 1.9992 * n_sersic - 0.3271


def sersic_ellipse(x, y, amp, R_sersic, n_sersic, e1, e2, center_x, center_y):
    r2 = elliptical_radius_squared(x - center_x, y - center_y, e1, e2)
    # (R/R_sersic)^(1/n) as one exp of a log taken straight from R²: no square root, no division
    # per pixel (this kernel runs on every sub-pixel of every evaluation)
    # R_sersic is floored like R (as lenstronomy does), so R_sersic = 0 stays finite
    log_frac = (0.5 * jnp.log(jnp.maximum(r2, _R_FLOOR * _R_FLOOR))
                - jnp.log(jnp.maximum(R_sersic, _R_FLOOR)))
    inside = log_frac <= _LOG_MAX_R_FRAC
    log_frac = jnp.where(inside, log_frac, 0.0)
    scaled = jnp.exp(log_frac / n_sersic)
    return jnp.where(inside, amp * jnp.exp(-b_n(n_sersic) * (scaled - 1.0)), 0.0)


class SersicEllipse(LightProfile):
    """Elliptical Sérsic profile; ``surface_brightness`` in flux/arcsec², coordinates in arcsec."""

    params = params.SERSIC_ELLIPSE
    reference = "Sérsic (1963); lenstronomy's SERSIC_ELLIPSE convention (Birrer & Amara 2018)"

    def surface_brightness(self, x, y, amp=1.0, R_sersic=1.0, n_sersic=4.0, e1=0.0, e2=0.0,
                           center_x=0.0, center_y=0.0):
        return sersic_ellipse(x, y, amp, R_sersic, n_sersic, e1, e2, center_x, center_y)
