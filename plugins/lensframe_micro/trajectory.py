"""Source trajectories: where the source is, in units of θ_E, at each epoch.

Rectilinear motion (the conventions of ``../shared/design/microlensing.md``, VBMicrolensing's and
MulensModel 3's), with τ = (t − t0)/tE:

    y1 = u0 sin α − τ cos α,      y2 = −u0 cos α − τ sin α.

The source passes closest to the origin (the binary's centre of mass) at t0, at signed distance u0;
α is the angle between the lens axis (lens 1 → lens 2, the +y1 direction) and the source's velocity
reversed, counter-clockwise. microJAX and Skowron et al. (2011, ApJ 738, 87) write the same
trajectory with α' = α + π and the same (t0, u0, tE): to compare with them, use α = α' − π.

Times are days on the data's axis (HJD − 2450000, see ``photometry.py``); angles in radians.
Reference: Paczyński (1986, ApJ 304, 1) for the point-lens parametrisation; Skowron et al. (2011)
for the binary-lens frame.
"""

from __future__ import annotations

import jax.numpy as jnp
from lensframe.profile import Profile

from .params_trajectory import RECTILINEAR


def rectilinear(t, t0, u0, tE, alpha):
    """Source position (y1, y2) in θ_E at times ``t`` (days) for a straight trajectory.

    Args:
        t: epochs, days (any shape).
        t0: time of closest approach, days. u0: impact parameter, θ_E. tE: Einstein time, days
            (> 0). alpha: trajectory angle, radians (VBMicrolensing convention).

    Returns:
        (y1, y2), each of the shape of ``t``.
    """
    tau = (jnp.asarray(t) - t0) / tE
    sin_a, cos_a = jnp.sin(alpha), jnp.cos(alpha)
    return u0 * sin_a - tau * cos_a, -u0 * cos_a - tau * sin_a


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
