"""The cored isothermal sphere (a softened, non-singular isothermal sphere).

Convergence, with r measured from (center_x, center_y) and all angles in arcsec:

    κ(r) = θ_E / (2 √(r² + r_c²)),

which tends to the singular isothermal sphere κ = θ_E / (2r) for r ≫ r_c (or r_c → 0), and is flat,
κ(0) = θ_E / (2 r_c), inside the core. The enclosed-mass integral (2/r) ∫₀ʳ κ(r') r' dr' gives the
radial deflection

    α(r) = θ_E (√(r² + r_c²) − r_c) / r,

and the potential, with ψ(0) = 0, is

    ψ(r) = θ_E [ √(r² + r_c²) − r_c − r_c ln((r_c + √(r² + r_c²)) / (2 r_c)) ].

Check: dψ/dr = θ_E [r/s − r_c r / (s (r_c + s))] = θ_E r / (r_c + s) with s = √(r² + r_c²), and
multiplying numerator and denominator of α by (s + r_c) gives the same θ_E r / (r_c + s). That last
form is the one evaluated here: α = θ_E (x, y) / (r_c + s). It has no 0/0 at r = 0 (α(0) = 0) and no
cancellation between s and r_c at small r, so values and gradients are finite everywhere, including
with respect to r_c. For r_c = 0 it reduces to the SIS, α = θ_E r̂; a floor on s keeps that limit
finite at the centre as well.

Note that θ_E is not the Einstein radius once r_c > 0: the critical curve is where α(r) = r, i.e.
r_E² = θ_E² − 2 θ_E r_c (and there is none when r_c ≥ θ_E / 2).

References: Hinshaw & Krauss (1987), ApJ 320, 468 ("Gravitational lensing by isothermal spheres with
finite core radii"); Keeton (2001), "A catalog of mass models for gravitational lensing",
astro-ph/0102341, softened isothermal sphere (his eq. for the isothermal model with core s, q = 1).
"""

import jax.numpy as jnp
from lensframe.profile import MassProfile

from . import params

_TINY = 1e-12  # arcsec: floor on √(r² + r_c²), used only when r_c = 0 at the centre


def _soft_radius(dx, dy, r_core):
    """√(dx² + dy² + r_c²), floored at _TINY (finite value and gradient when everything is 0)."""
    return jnp.sqrt(jnp.maximum(dx * dx + dy * dy + r_core * r_core, _TINY * _TINY))


class CoredIsothermal(MassProfile):
    """Cored isothermal sphere: κ = θ_E / (2√(r² + r_core²)) (see the module docstring)."""

    params = params.CORED_ISOTHERMAL
    reference = ("Hinshaw & Krauss (1987), ApJ 320, 468; Keeton (2001), astro-ph/0102341 "
                 "(softened isothermal sphere)")

    def deflection(self, x, y, theta_E, r_core=0.1, center_x=0.0, center_y=0.0):
        x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
        dx, dy = x - center_x, y - center_y
        scale = theta_E / (r_core + _soft_radius(dx, dy, r_core))
        return scale * dx, scale * dy

    def potential(self, x, y, theta_E, r_core=0.1, center_x=0.0, center_y=0.0):
        x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
        dx, dy = x - center_x, y - center_y
        s = _soft_radius(dx, dy, r_core)
        # r_c ln((r_c + s) / 2r_c) → 0 as r_c → 0; the guarded ratio keeps it finite there
        ratio = (r_core + s) / jnp.maximum(2.0 * r_core, _TINY)
        return theta_E * (s - r_core - r_core * jnp.log(ratio))

    def convergence(self, x, y, theta_E, r_core=0.1, center_x=0.0, center_y=0.0):
        x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
        return 0.5 * theta_E / _soft_radius(x - center_x, y - center_y, r_core)
