"""Multipole (quadrupole + hexadecapole) finite-source magnification and its error estimate.

Gould (2008, ApJ 681, 1593): the magnification averaged over a small source disk follows from the
point-source magnification A at 13 points — the centre, 4 points on a "+" at radius ρ/2 and 8 points
("+" and "×") at radius ρ. With A_+(r), A_×(r) the means over the "+"/"×" points at radius r,

    a2 ρ² = [16 (A_+(ρ/2) − A0) − (A_+(ρ) − A0)] / 3          (= ρ² ∇²A / 4)
    a4 ρ⁴ = [A_+(ρ) + A_×(ρ)] / 2 − A0 − a2 ρ²                (= ρ⁴ ∇⁴A / 64)

and the disk mean is A0 + a2 ⟨r²⟩ + a4 ⟨r⁴⟩ with the moments of the brightness profile. For linear limb
darkening I(r) ∝ 1 − a1 (1 − √(1 − r²/ρ²)) (our a1; Gould's Γ = 2 a1 / (3 − a1)):
⟨r²⟩/ρ² = (15 − 7 a1) / (30 − 10 a1) and ⟨r⁴⟩/ρ⁴ = (35 − 19 a1) / (105 − 35 a1)
(1/2 and 1/3 for a uniform disk).

Units: w, z in θ_E of the total lens mass; rho in θ_E; magnifications dimensionless.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .point import MAX_IMAGE_MAGNIFICATION, images, jacobian_determinant

_UNIT = jnp.exp(0.5j * jnp.pi * jnp.arange(4))  # the "+" directions
_DIAG = jnp.exp(0.25j * jnp.pi) * _UNIT  # the "×" directions
#: extra limb points whose image counts are checked (not used in the multipole sum): a caustic that
#: slips between the 8 stencil points on the limb changes the count at one of these
N_LIMB_CHECK = 32
_CHECK = jnp.exp(2j * jnp.pi * (jnp.arange(N_LIMB_CHECK) + 0.5) / N_LIMB_CHECK)


def disk_moments(a1):
    """(⟨r²⟩/ρ², ⟨r⁴⟩/ρ⁴) of a linearly limb-darkened disk (a1 = 0: uniform)."""
    r2 = (15.0 - 7.0 * a1) / (30.0 - 10.0 * a1)
    r4 = (35.0 - 19.0 * a1) / (105.0 - 35.0 * a1)
    return r2, r4


def _magnification_and_count(w, z, m):
    zi, parity = images(w, z, m)
    inverse = jnp.abs(jacobian_determinant(zi, z, m))
    # same per-image cap as point.point_magnification (finite on a caustic)
    per_image = jnp.minimum(1.0 / jnp.maximum(inverse, 1e-300), MAX_IMAGE_MAGNIFICATION)
    # lens-equation residual of the false roots ("ghost images", Bozza et al. 2018, MNRAS 479,
    # 5157): small when a pair of images is about to appear, i.e. a caustic is near
    residual = jnp.abs(zi - w - jnp.sum(m / jnp.conj(zi[:, None] - z), axis=1))
    ghost = jnp.min(jnp.where(parity != 0, jnp.inf, residual))
    return jnp.sum(jnp.where(parity != 0, per_image, 0.0)), jnp.sum(parity != 0), ghost


def multipole(w, z, m, rho, a1, limb_check: bool = True):
    """Hexadecapole magnification of a disk and the data to judge it.

    Args:
        w: complex source centre. z, m: lens positions (complex (n,)) and masses (real (n,), sum 1).
        rho: source radius (θ_E). a1: linear limb-darkening coefficient (0 = uniform).
        limb_check: also solve at the ``N_LIMB_CHECK`` limb points (static); without it
            ``same_images`` covers the 13 stencil points only (see ``limb_counts_agree``).

    Returns:
        dict with ``point`` (A0), ``quadrupole`` (A0 + a2⟨r²⟩), ``hexadecapole`` (+ a4⟨r⁴⟩),
        ``hexa_term`` (|a4 ⟨r⁴⟩|, the size of the last term kept), ``count`` (the centre's image
        count), ``same_images`` (True when the 13 stencil points — and the ``N_LIMB_CHECK`` more limb
        points, with ``limb_check`` — all have the centre's image count: no caustic crosses the limb
        between them) and ``ghost`` (the smallest lens-equation residual
        |z − w − Σ m_k/conj(z − z_k)| of a false root at the centre, θ_E; inf when every root is an
        image).
    """
    # one batched solve for the centre, the 12 stencil points (and the limb checks): one trace
    offsets = [jnp.zeros(1), 0.5 * rho * _UNIT, rho * _UNIT, rho * _DIAG]
    offsets = jnp.concatenate(offsets + [rho * _CHECK] if limb_check else offsets)
    a_all, n_all, ghost = jax.vmap(_magnification_and_count, in_axes=(0, None, None))(
        w + offsets, z, m)
    a0, n0, a_ring, n_ring = a_all[0], n_all[0], a_all[1:13], n_all[1:]
    half_plus, full_plus, full_cross = a_ring[:4].mean(), a_ring[4:8].mean(), a_ring[8:].mean()
    a2 = (16.0 * (half_plus - a0) - (full_plus - a0)) / 3.0
    a4 = 0.5 * (full_plus + full_cross) - a0 - a2
    r2, r4 = disk_moments(a1)
    quad = a0 + a2 * r2
    return {
        "point": a0,
        "quadrupole": quad,
        "hexadecapole": quad + a4 * r4,
        "hexa_term": jnp.abs(a4 * r4),
        "count": n0,
        "same_images": jnp.all(n_ring == n0),
        "ghost": ghost[0],
    }


def limb_counts_agree(w, z, m, rho, count):
    """True when all ``N_LIMB_CHECK`` limb points of the disk see ``count`` images (the centre's):
    the check ``multipole(..., limb_check=True)`` folds into ``same_images``, on its own for the
    points that need it. Image counts only: no derivative."""
    _, n_limb, _ = jax.vmap(_magnification_and_count, in_axes=(0, None, None))(
        jax.lax.stop_gradient(w + rho * _CHECK), z, m)
    return jnp.all(n_limb == count)
