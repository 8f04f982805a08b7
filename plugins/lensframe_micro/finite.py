"""Finite-source magnification of n point lenses: the entry point ``magnification``.

Per point, one of (all under jit/vmap/grad):

- rho = 0: the point-source magnification (``point.point_magnification``);
- the hexadecapole approximation (``multipole.py``; Gould 2008, ApJ 681, 1593) when the test below
  passes;
- otherwise the full integral: the image area of the disk by contour integration (``contour.py``;
  Dominik 1998; Bozza 2010) divided by π ρ². Linear limb darkening I(r) ∝ 1 − a1 (1 − √(1 − r²/ρ²))
  uses concentric circles: integrating F = ∫ I dS(r) (S(r) the image area of the disk of radius r)
  by parts with μ = √(1 − r²/ρ²) gives F = (1 − a1) S(ρ) + a1 ∫₀¹ S(ρ √(1 − μ²)) dμ, evaluated by
  Gauss–Legendre quadrature in μ (``n_rings`` circles; the kind of annulus scheme of Bozza 2010 §5,
  with fixed instead of adaptive annuli), over the flux π ρ² (1 − a1/3).

The multipole test (per point): the 13 stencil points of Gould's hexadecapole and 32 more points on
the limb have the same image count as the centre (no caustic crosses the limb between them), the
hexadecapole term |a4 ⟨r⁴⟩| is below ``settings.tol`` × A (the neglected terms are of higher order in
ρ), and no "ghost image" is near: every false root of the centre's polynomial has a lens-equation
residual above ``ghost_factor`` × ρ (after Bozza et al. 2018's ghost-image test; the residual shrinks
as the source nears a caustic where that false pair becomes images). Each guard was added after a
measured failure of the others: the stencil alone let a cusp inside the disk pass (0.5 % error at
ρ = 1e-2, s = 0.9, q = 0.05, residual 12.5 ρ); stencil + ghost test still accepted 4 of 300 points
within 1.5 ρ of that lens's caustic at ρ = 1e-3 with errors of 8–32 % (residuals 58–239 ρ, a caustic
crossing the limb between two of the stencil's 8 limb points), which the 32 limb checks catch. The
factor 50 is empirical, so this is a set of guards, not a proof.

Cost under ``vmap``: ``magnification`` decides per point with ``lax.cond``; under ``vmap`` that becomes
a select and every point pays for the full integral. For many points (a light curve) call
``magnification_batch``: it evaluates the multipole for all points, then the full integral only for
the points that fail the test, in chunks of ``settings.chunk`` (a ``lax.scan`` whose empty chunks are
skipped by ``lax.cond``) — no cap: every point that needs the integral gets it, the cost grows with
their number (rounded up to a chunk).

On a caustic: every point gives a finite value (the point-source part caps 1/|det J|, the contour's
tangents use a floored det J); ``unresolved`` in the batch info flags contours whose image linking
stayed ambiguous after refinement.

Units: w, z in θ_E of the total lens mass; rho in θ_E; magnifications dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .contour import image_area
from .multipole import multipole
from .point import point_magnification


@dataclass(frozen=True)
class FiniteSettings:
    """Static (hashable) accuracy/speed knob of the finite-source magnification.

    Attributes:
        tol: relative accuracy aimed at; decides multipole vs full integral.
        n_limb: uniform limb samples of each contour (the main accuracy/speed knob).
        n_rounds, n_refine: adaptive rounds, each bisecting the n_refine worst limb intervals;
            n_rounds always, then more until the error estimate meets tol, up to max_rounds.
        n_rings: Gauss–Legendre circles for limb darkening (besides the limb).
        chunk: points per full-integral chunk in ``magnification_batch``.
        ghost_factor: the multipole is refused when a false root's lens-equation residual is below
            ghost_factor × rho (a caustic is near; see the module docstring).
    """

    tol: float = 1e-4
    n_limb: int = 96
    n_rounds: int = 8
    max_rounds: int = 40
    n_refine: int = 16
    n_rings: int = 6
    chunk: int = 16
    ghost_factor: float = 50.0

    def __post_init__(self):
        for name in ("n_limb", "n_rounds", "max_rounds", "n_refine", "n_rings", "chunk"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"FiniteSettings.{name} must be a positive integer, "
                                 f"got {getattr(self, name)!r}")
        if self.n_refine > self.n_limb:
            raise ValueError(f"FiniteSettings.n_refine ({self.n_refine}) must not exceed "
                             f"n_limb ({self.n_limb})")
        if self.max_rounds < self.n_rounds:
            raise ValueError(f"FiniteSettings.max_rounds ({self.max_rounds}) must not be below "
                             f"n_rounds ({self.n_rounds})")
        if not 0 < self.tol < 1:
            raise ValueError(f"FiniteSettings.tol must be in (0, 1), got {self.tol!r}")


DEFAULT = FiniteSettings()

#: the contour's summed error estimate (|Hermite corrections|, ``contour.py``) overstates the error
#: of the corrected area by 10²–10⁵ (measured near caustics); refinement stops at ESTIMATE_RATIO × tol
ESTIMATE_RATIO = 100.0


def _area(w, radius, z, m, settings):
    return image_area(w, radius, z, m, settings.n_limb, settings.n_rounds, settings.max_rounds,
                      settings.n_refine, ESTIMATE_RATIO * settings.tol)


def _ring_quadrature(n_rings):
    mu, weight = np.polynomial.legendre.leggauss(n_rings)
    return jnp.asarray(0.5 * (mu + 1.0)), jnp.asarray(0.5 * weight)


def full_magnification(w, z, m, rho, a1, settings: FiniteSettings = DEFAULT):
    """Full-integral magnification of a disk (uniform when a1 = 0, else linear limb darkening).

    Returns (magnification, unresolved flag)."""
    disk = jnp.pi * rho**2

    def uniform(_):
        area, _, bad = _area(w, rho, z, m, settings)
        return area / disk, bad

    def darkened(_):
        mu, weight = _ring_quadrature(settings.n_rings)
        radii = jnp.concatenate([rho[None], rho * jnp.sqrt(1.0 - mu**2)])
        areas, _, bad = jax.vmap(lambda r: _area(w, r, z, m, settings))(radii)
        flux = (1.0 - a1) * areas[0] + a1 * jnp.sum(weight * areas[1:])
        return flux / (disk * (1.0 - a1 / 3.0)), jnp.any(bad)

    return jax.lax.cond(a1 == 0, uniform, darkened, None)


def _needs_full(multi, rho, settings):
    ok = (multi["same_images"] & (multi["hexa_term"] <= settings.tol * multi["hexadecapole"])
          & (multi["ghost"] > settings.ghost_factor * rho))
    return (rho > 0) & ~ok


def magnification(w, z, m, rho, a1=0.0, settings: FiniteSettings = DEFAULT):
    """Magnification of a disk source of radius ``rho`` (θ_E, ≥ 0) centred at complex ``w``.

    Args:
        w: complex source centre (θ_E). z: complex (n,) lens positions. m: real (n,) masses, sum 1.
        rho: source radius (θ_E); 0 gives the point-source magnification.
        a1: linear limb-darkening coefficient in [0, 1] (0: uniform disk).
        settings: static ``FiniteSettings``.

    Returns:
        The magnification (float). See the module docstring for the method chosen per point.
    """
    w = jnp.asarray(w, complex)
    rho = jnp.asarray(rho, float)
    a1 = jnp.asarray(a1, float)
    safe_rho = jnp.where(rho > 0, rho, 1e-3)
    multi = multipole(w, z, m, safe_rho, a1)
    full = _needs_full(multi, rho, settings)
    value = jax.lax.cond(full, lambda: full_magnification(w, z, m, safe_rho, a1, settings)[0],
                         lambda: multi["hexadecapole"])
    return jnp.where(rho > 0, value, multi["point"])


def magnification_batch(w, z, m, rho, a1=0.0, settings: FiniteSettings = DEFAULT):
    """Magnifications of many source positions sharing z, m, rho, a1, paying the full integral only
    where needed (see the module docstring).

    Args:
        w: complex (N,) source centres; others as in ``magnification`` (scalars).

    Returns:
        (magnification (N,), info) with info a dict of (N,) arrays: ``full`` (the full integral was
        used) and ``unresolved`` (its contour linking stayed ambiguous).
    """
    w = jnp.asarray(w, complex)
    rho = jnp.asarray(rho, float)
    a1 = jnp.asarray(a1, float)
    n = w.shape[0]
    safe_rho = jnp.where(rho > 0, rho, 1e-3)
    multi = jax.vmap(multipole, in_axes=(0, None, None, None, None))(w, z, m, safe_rho, a1)
    need = jax.vmap(_needs_full, in_axes=(0, None, None))(multi, rho, settings)
    n_need = jnp.sum(need)
    chunk = min(settings.chunk, n)
    n_chunks = -(-n // chunk)
    order = jnp.argsort(~need, stable=True)
    order = jnp.concatenate([order, jnp.zeros(n_chunks * chunk - n, order.dtype)])
    many = jax.vmap(full_magnification, in_axes=(0, None, None, None, None, None))

    def step(_, c):
        index = jax.lax.dynamic_slice(order, (c * chunk,), (chunk,))
        values, bad = jax.lax.cond(
            c * chunk < n_need,
            lambda: many(w[index], z, m, safe_rho, a1, settings),
            lambda: (jnp.zeros(chunk), jnp.zeros(chunk, bool)))
        return None, (index, values, bad)

    _, (index, values, bad) = jax.lax.scan(step, None, jnp.arange(n_chunks))
    index, values, bad = index.ravel(), values.ravel(), bad.ravel()
    # padding entries repeat index 0 with value 0 and come last: keep the first write per index
    valid = jnp.arange(index.shape[0]) < n
    full_values = jnp.zeros(n).at[jnp.where(valid, index, n)].set(values, mode="drop")
    full_bad = jnp.zeros(n, bool).at[jnp.where(valid, index, n)].set(bad, mode="drop")
    value = jnp.where(need, full_values, multi["hexadecapole"])
    value = jnp.where(rho > 0, value, multi["point"])
    return value, {"full": need, "unresolved": need & full_bad}
