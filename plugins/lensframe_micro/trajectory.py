"""Source trajectories: where the source is, in units of θ_E, at each epoch.

Rectilinear motion (the conventions of ``../shared/design/microlensing.md``, VBMicrolensing's and
MulensModel 3's), with τ = (t − t0)/tE:

    y1 = u0 sin α − τ cos α,      y2 = −u0 cos α − τ sin α.

The source passes closest to the origin (the binary's centre of mass) at t0, at signed distance u0;
α is the angle between the lens axis (lens 1 → lens 2, the +y1 direction) and the source's velocity
reversed, counter-clockwise. microJAX and Skowron et al. (2011, ApJ 738, 87) write the same
trajectory with α' = α + π and the same (t0, u0, tE): to compare with them, use α = α' − π.

With annual parallax (``rectilinear_parallax``), τ and u0 are shifted by
Δτ = π_E,N ΔN + π_E,E ΔE and Δβ = π_E,N ΔE − π_E,E ΔN, where (ΔN, ΔE) (AU) is the Sun's projected
offset from its path extrapolated linearly from t0_par (Gould 2004, ApJ 606, 319; computed on the
host by ``parallax.sun_offsets`` and passed as data). These signs reproduce VBMicrolensing's
``BinaryLightCurveParallax`` with ``parallaxsystem = 1`` (checked in the tests).

Times are days on the data's axis (HJD − 2450000, see ``photometry.py``); angles in radians.
Reference: Paczyński (1986, ApJ 304, 1) for the point-lens parametrisation; Skowron et al. (2011)
for the binary-lens frame.
"""

from __future__ import annotations

import jax.numpy as jnp
from lensframe.profile import Profile

from .params_trajectory import RECTILINEAR, RECTILINEAR_PARALLAX


def rectilinear(t, t0, u0, tE, alpha, dtau=0.0, dbeta=0.0):
    """Source position (y1, y2) in θ_E at times ``t`` (days) for a straight trajectory.

    Args:
        t: epochs, days (any shape).
        t0: time of closest approach, days. u0: impact parameter, θ_E. tE: Einstein time, days
            (> 0). alpha: trajectory angle, radians (VBMicrolensing convention).
        dtau, dbeta: shifts of τ and of the impact parameter (parallax; 0 without).

    Returns:
        (y1, y2), each of the shape of ``t``.
    """
    tau = (jnp.asarray(t) - t0) / tE + dtau
    beta = u0 + dbeta
    sin_a, cos_a = jnp.sin(alpha), jnp.cos(alpha)
    return beta * sin_a - tau * cos_a, -beta * cos_a - tau * sin_a


def parallax_shift(offsets, piEN, piEE):
    """(Δτ, Δβ) from the Sun's projected offsets ``offsets`` (..., 2) = (ΔN, ΔE) in AU."""
    d_n, d_e = offsets[..., 0], offsets[..., 1]
    return piEN * d_n + piEE * d_e, piEN * d_e - piEE * d_n


def alpha_from_skowron(alpha_skowron):
    """α in this convention from microJAX's / Skowron et al. (2011)'s α' (radians): α = α' − π."""
    return alpha_skowron - jnp.pi


class Rectilinear(Profile):
    """The trajectory component of a light-curve model: parameters t0, u0, tE, alpha (see the module
    docstring). Registered with kind ``microlens`` (profiles are mass, light or microlens), but it
    has ``source_position`` instead of ``magnification``: it says where the source is, the lens
    component says how much it is magnified there."""

    kind = "microlens"
    params = RECTILINEAR
    reference = "Paczyński (1986), ApJ 304, 1; Skowron et al. (2011), ApJ 738, 87 (alpha + pi)"

    def source_position(self, t, **params):
        """(y1, y2) in θ_E at epochs ``t`` (days, HJD − 2450000)."""
        return rectilinear(t, params["t0"], params["u0"], params["tE"], params["alpha"])


class RectilinearParallax(Rectilinear):
    """A rectilinear trajectory seen from the orbiting Earth: parameters t0, u0, tE, alpha, piEN,
    piEE. The light-curve likelihood computes the Sun's offsets from ``data.coords`` and
    ``data.t0_par`` on the host and passes them as ``offsets``."""

    params = RECTILINEAR_PARALLAX
    reference = "Gould (2004), ApJ 606, 319; " + Rectilinear.reference
    needs_sun_offsets = True

    def source_position(self, t, offsets=None, **params):
        """(y1, y2) in θ_E at epochs ``t``; ``offsets`` (len(t), 2) from
        ``parallax.sun_offsets`` (AU)."""
        if offsets is None:
            raise ValueError("rectilinear_parallax needs the Sun's offsets (data.coords and "
                             "data.t0_par)")
        dtau, dbeta = parallax_shift(offsets, params["piEN"], params["piEE"])
        return rectilinear(t, params["t0"], params["u0"], params["tE"], params["alpha"],
                           dtau, dbeta)
