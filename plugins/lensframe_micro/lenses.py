"""Lens configurations: positions and masses of binary and triple point-mass lenses.

Conventions of ``../shared/design/microlensing.md`` (VBMicrolensing's): lengths in units of θ_E of the
total lens mass, masses normalised to sum 1, positions complex (x + i y).
"""

from __future__ import annotations

import jax.numpy as jnp


def binary_lenses(s, q):
    """Positions and masses of a binary lens, origin at the centre of mass.

    Args:
        s: separation of the two lenses (θ_E). q: mass ratio m2/m1 (> 0, may exceed 1).

    Returns:
        (z, m): complex (2,) positions — lens 1 (mass 1/(1+q)) at −s q/(1+q), lens 2 (mass q/(1+q))
        at +s/(1+q) on the real axis — and real (2,) masses summing to 1.
    """
    s, q = jnp.asarray(s, float), jnp.asarray(q, float)
    m1 = 1.0 / (1.0 + q)
    m2 = q / (1.0 + q)
    z = jnp.stack([-s * m2, s * m1]).astype(complex)
    return z, jnp.stack([m1, m2])


def triple_lenses(s, q, s13, q3, psi):
    """Positions and masses of a triple lens.

    Lenses 1 and 2 as in :func:`binary_lenses` (origin at the centre of mass of lenses 1 and 2
    only); lens 3 at z1 + s13·e^{iψ}, ψ (rad) counter-clockwise from the 1→2 axis. Masses in the
    ratio 1 : q : q3, normalised to sum 1.

    Returns:
        (z, m): complex (3,) positions and real (3,) masses.
    """
    s, q, s13, q3, psi = (jnp.asarray(v, float) for v in (s, q, s13, q3, psi))
    z12, _ = binary_lenses(s, q)
    z3 = z12[0] + s13 * jnp.exp(1j * psi)
    total = 1.0 + q + q3
    m = jnp.stack([1.0, q, q3]) / total
    return jnp.concatenate([z12, z3[None]]), m
