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
factor 50 is empirical, so this is a set of guards, not a proof. ``magnification_batch`` solves at
the 32 limb points only for disks that may reach a caustic (``far_from_caustics``: the caustics
sampled once per call); elsewhere the count cannot change over the disk and the check is skipped
(13 solves per point instead of 45, the same decisions).

Cost under ``vmap``: ``magnification`` decides per point with ``lax.cond``; under ``vmap`` that becomes
a select and every point pays for the full integral. For many points (a light curve) call
``magnification_batch``: it evaluates the multipole for all points, then the full integral only for
the points that fail the test, in chunks of ``settings.chunk`` (a ``while_loop`` that stops after the
last such chunk, with a custom VJP that revisits those chunks) — no cap: every point that needs the
integral gets it, the cost grows with their number (rounded up to a chunk). Vmapped over parameter
sets (a swarm, chains, L-BFGS starts), the loop runs for the member with the most such points.

On a caustic: every point gives a finite value (the point-source part caps 1/|det J|, the contour's
tangents use a floored det J); ``unresolved`` in the batch info flags contours whose image linking
stayed ambiguous after refinement.

Units: w, z in θ_E of the total lens mass; rho in θ_E; magnifications dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .contour import area_on_ring, sample_ring
from .caustics import caustics
from .multipole import limb_counts_agree, multipole
from .point import in_blocks, point_magnification


@dataclass(frozen=True)
class FiniteSettings:
    """Static (hashable) accuracy/speed knob of the finite-source magnification.

    Attributes:
        tol: relative accuracy aimed at (the accuracy/speed knob): decides multipole vs full
            integral, and each contour is refined until its estimated error is below tol × area.
        n_limb: uniform limb samples each contour starts from: enough to see the images; the
            refinement places the rest.
        n_rounds, n_refine: adaptive rounds, each bisecting the n_refine worst limb intervals;
            n_rounds always, then more until the error estimate meets tol, up to max_rounds.
        n_rings: Gauss–Legendre circles for limb darkening (besides the limb). Measured near
            caustics (ρ = 1e-3, a1 = 0.5, 100 points): 32 give p99 1.4e-4 vs VBMicrolensing, 24 give
            2.6e-4, 12 give 7.9e-4 and 6 give 3.0e-3, at 136 / 111 / 52 / 34 ms per point with the
            earlier third-order contours; the fifth-order ones halved the time per circle, the
            accuracy (set by the circles) did not change (docs/performance.md).
        chunk: points per full-integral chunk in ``magnification_batch``.
        ghost_factor: the multipole is refused when a false root's lens-equation residual is below
            ghost_factor × rho (a caustic is near; see the module docstring).
    """

    tol: float = 1e-4
    n_limb: int = 48
    n_rounds: int = 1
    max_rounds: int = 64
    n_refine: int = 8
    n_rings: int = 32
    chunk: int = 8
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

#: φ steps of each critical curve sampled by ``far_from_caustics``
N_CAUSTIC_PHI = 512


def _ring_quadrature(n_rings):
    mu, weight = np.polynomial.legendre.leggauss(n_rings)
    return jnp.asarray(0.5 * (mu + 1.0)), jnp.asarray(0.5 * weight)


def _radii(rho, settings):
    """The limb, then the Gauss–Legendre circles of the limb-darkening integral."""
    mu, _ = _ring_quadrature(settings.n_rings)
    return jnp.concatenate([rho[None], rho * jnp.sqrt(1.0 - mu**2)])


def _disk_magnification(areas, bad, rho, a1, settings):
    """Magnification from the image areas of the circles of ``_radii`` (module docstring).

    An inner circle whose contour stayed unresolved (``bad``; linking failures are rare, but with
    32 circles one in a few hundred near-caustic disks meets one, off by up to a factor 3.5) takes
    the mean magnification S(r)/(π r²) interpolated linearly in r between the nearest resolved
    circles on either side (the limb counts as resolved, so every circle has a larger resolved
    neighbour), since that mean varies smoothly with r. Returns (magnification, the limb's flag)."""
    _, weight = _ring_quadrature(settings.n_rings)
    radii = _radii(rho, settings)
    n = radii.shape[0]
    good = ~bad.at[0].set(False)
    index = jnp.arange(n)
    # radii decrease with the index: "left" is the nearest resolved larger circle
    left = jax.lax.cummax(jnp.where(good, index, -1))
    right = jax.lax.cummin(jnp.where(good, index, n), reverse=True)
    mean = areas / (jnp.pi * radii**2)
    r_l, r_r = radii[left], radii[jnp.minimum(right, n - 1)]
    m_l, m_r = mean[left], mean[jnp.minimum(right, n - 1)]
    # (a resolved circle is its own neighbour on both sides: no division by r_l − r_r = 0 there,
    # whose NaN would reach the gradient through the unused branch)
    both = (right < n) & (left < right)
    fraction = jnp.where(both, (r_l - radii) / jnp.where(both, r_l - r_r, 1.0), 0.0)
    filled = m_l + fraction * (m_r - m_l)   # the innermost circles, with no smaller one: m_l
    areas = jnp.where(good, areas, filled * jnp.pi * radii**2)
    flux = (1.0 - a1) * areas[0] + a1 * jnp.sum(weight * areas[1:])
    return flux / (jnp.pi * rho**2 * (1.0 - a1 / 3.0)), bad[0]


def _sample(w, radius, z, m, settings):
    return sample_ring(w, radius, z, m, settings.n_limb, settings.n_rounds, settings.max_rounds,
                       settings.n_refine, settings.tol)


def _sample_rings(w, z, m, rho, a1, settings):
    """Full-integral magnification by adaptive contours (not differentiable: see ``_on_rings``).

    Returns (magnification, unresolved as 0/1, the limb's ring). Only the limb's ring is kept: a
    batch stores one per point for its backward pass, and the limb-darkening circles would multiply
    that memory by n_rings + 1 (for a uniform source too, both branches sharing one shape); a
    limb-darkened source samples its inner circles again in the backward pass instead."""
    def uniform(_):
        ring, limb, _, bad = _sample(w, rho, z, m, settings)
        return limb / (jnp.pi * rho**2), bad.astype(float), ring

    def darkened(_):
        rings, areas, _, bad = jax.vmap(lambda r: _sample(w, r, z, m, settings))(
            _radii(rho, settings))
        limb = jax.tree_util.tree_map(lambda x: x[0], rings)
        value, unresolved = _disk_magnification(areas, bad, rho, a1, settings)
        return value, unresolved.astype(float), limb

    return jax.lax.cond(a1 == 0, uniform, darkened, None)


def _on_rings(ring, w, z, m, rho, a1, settings):
    """The magnification of ``_sample_rings`` with the limb angles held fixed (``ring``, and the
    inner circles' angles sampled again without derivative): differentiable in w, z, m, rho, a1
    (the derivative the custom VJP of ``_full_where_needed`` gives)."""
    def uniform(_):
        return area_on_ring(ring, w, rho, z, m) / (jnp.pi * rho**2)

    def darkened(_):
        radii = _radii(rho, settings)
        fixed = [jax.lax.stop_gradient(x) for x in (w, radii, z, m)]
        inner, _, _, bad = jax.vmap(lambda r: _sample(fixed[0], r, fixed[2], fixed[3], settings))(
            fixed[1][1:])
        rings = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), ring, inner)
        areas = jax.vmap(area_on_ring, in_axes=(0, None, 0, None, None))(rings, w, radii, z, m)
        return _disk_magnification(areas, jnp.concatenate([jnp.zeros(1, bool), bad]), rho, a1,
                                   settings)[0]

    return jax.lax.cond(a1 == 0, uniform, darkened, None)


def full_magnification(w, z, m, rho, a1, settings: FiniteSettings = DEFAULT):
    """Full-integral magnification of a disk (uniform when a1 = 0, else linear limb darkening).

    Returns (magnification, unresolved flag). Reverse-mode derivatives are those of the integral on
    the final limb angles (``_on_rings``, through the batch's custom VJP with a batch of one);
    forward mode is not available."""
    values, bad = _full_where_needed(jnp.asarray(w, complex)[None], z, m, rho, a1,
                                     jnp.ones(1, bool), settings)
    return values[0], bad[0] > 0


def _multipole_ok(multi, rho, settings):
    return (multi["same_images"] & (multi["hexa_term"] <= settings.tol * multi["hexadecapole"])
            & (multi["ghost"] > settings.ghost_factor * rho))


def _needs_full(multi, rho, settings):
    return (rho > 0) & ~_multipole_ok(multi, rho, settings)


def far_from_caustics(w, z, m, rho, n_phi: int = N_CAUSTIC_PHI):
    """(N,) True where a disk of radius ``rho`` centred at ``w`` (N,) cannot reach a caustic.

    The caustics are sampled (``caustics.caustics``, ``n_phi`` steps of each critical curve); a
    disk is far when its centre is more than rho + g from every sample, g the longest step between
    consecutive samples of one curve: the caustic between two samples stays within g of them (near
    a cusp, the tip lies within a fraction of the neighbouring steps). The samples are checked to be
    critical points (|Σ m_k/(x − z_k)²| = 1 to 1e-6); if they are not, no point is called far.
    No derivative (a decision only)."""
    w, z, m, rho = (jax.lax.stop_gradient(jnp.asarray(x)) for x in (w, z, m, rho))
    critical, caustic = caustics(z, m, n_phi)
    shear = jnp.sum(m / (critical[..., None] - z) ** 2, axis=-1)
    valid = jnp.all(jnp.abs(jnp.abs(shear) - 1.0) < 1e-6)
    gap = jnp.max(jnp.abs(jnp.diff(caustic, axis=0)))
    samples = caustic[:-1].ravel()
    distance = jax.lax.map(lambda x: jnp.min(jnp.abs(x - samples)), w, batch_size=64)
    return valid & (distance > rho + gap)


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
    if w.shape[0] == 0:
        return jnp.zeros(0), {"full": jnp.zeros(0, bool), "unresolved": jnp.zeros(0, bool)}
    safe_rho = jnp.where(rho > 0, rho, 1e-3)
    # in blocks: each block's root solves stop with its slowest member (point.in_blocks)
    multi = in_blocks(lambda wi: multipole(wi, z, m, safe_rho, a1, limb_check=False), w,
                      block=settings.chunk)
    # the limb's image counts (multipole's limb_check) only where the caustics are near enough
    # to matter and the rest of the test passes: far disks cannot have a caustic on the limb
    ok = jax.vmap(_multipole_ok, in_axes=(0, None, None))(multi, safe_rho, settings)
    check = (rho > 0) & ok & ~far_from_caustics(w, z, m, safe_rho)
    ok = ok & _limb_counts_where(check, w, z, m, safe_rho, multi["count"], settings)
    need = (rho > 0) & ~ok
    full_values, full_bad = _full_where_needed(w, z, m, safe_rho, a1, need, settings)
    value = jnp.where(need, full_values, multi["hexadecapole"])
    value = jnp.where(rho > 0, value, multi["point"])
    return value, {"full": need, "unresolved": need & (full_bad > 0)}


def _chunks(need, chunk):
    """Indices of the points that need the full integral first, padded to whole chunks with the
    out-of-range index N (a dummy slot), and how many points need it."""
    n = need.shape[0]
    n_chunks = -(-n // chunk)
    order = jnp.argsort(~need, stable=True)
    order = jnp.concatenate([order, jnp.full(n_chunks * chunk - n, n, order.dtype)])
    return order, jnp.sum(need)


def _chunk_loop(need, settings, body, init):
    """``body(index, carry)`` over the chunks of points that need the full integral, in a
    ``while_loop`` that stops after the last of them: under ``vmap`` (a batch of parameter sets, as
    population samplers and L-BFGS starts evaluate) the loop runs as long as its busiest member,
    where a ``lax.cond`` per chunk would have become a select paying every chunk for every member
    (measured: 8x the cost of one unbatched light curve for a batch of one)."""
    chunk = min(settings.chunk, need.shape[0])
    order, n_need = _chunks(need, chunk)

    def step(state):
        c, carry = state
        return c + 1, body(jax.lax.dynamic_slice(order, (c * chunk,), (chunk,)), carry)

    return jax.lax.while_loop(lambda state: state[0] * chunk < n_need, step, (0, init))[1]


def _limb_counts_where(check, w, z, m, rho, count, settings):
    """``multipole.limb_counts_agree`` at the points where ``check`` (True elsewhere), in the
    chunked loop of the full integrals."""
    w, z, m, rho, count = (jax.lax.stop_gradient(x) for x in (w, z, m, rho, count))
    agree = jax.vmap(limb_counts_agree, in_axes=(0, None, None, None, 0))
    w_pad, count_pad = _padded(w), _padded(count)

    def body(index, ok):
        return ok.at[index].set(agree(w_pad[index], z, m, rho, count_pad[index]))

    return _chunk_loop(check, settings, body, jnp.ones(w.shape[0] + 1, bool))[:-1]


def _padded(x):
    # one dummy slot at index N for the padding of the last chunk
    return jnp.concatenate([x, x[-1:]])


@partial(jax.custom_vjp, nondiff_argnums=(6,))
def _full_where_needed(w, z, m, rho, a1, need, settings):
    """``_full`` at the points where ``need`` (zeros elsewhere), as ((N,) values, (N,) 0/1
    unresolved flags). The forward pass keeps each point's rings; the backward pass revisits the
    same chunks and differentiates ``_on_rings`` there."""
    return _full_where_needed_fwd(w, z, m, rho, a1, need, settings)[0]


def _full_where_needed_fwd(w, z, m, rho, a1, need, settings):
    n = w.shape[0]
    w_pad = _padded(w)
    many = jax.vmap(_sample_rings, in_axes=(0, None, None, None, None, None))
    shapes = jax.eval_shape(lambda *x: _sample_rings(*x, settings), w[0], z, m, rho, a1)[2]
    rings = jax.tree_util.tree_map(lambda s: jnp.zeros((n + 1, *s.shape), s.dtype), shapes)

    def body(index, carry):
        values, bad, rings = carry
        v, b, r = many(w_pad[index], z, m, rho, a1, settings)
        return (values.at[index].set(v), bad.at[index].set(b),
                jax.tree_util.tree_map(lambda buf, x: buf.at[index].set(x), rings, r))

    values, bad, rings = _chunk_loop(need, settings, body,
                                     (jnp.zeros(n + 1), jnp.zeros(n + 1), rings))
    return (values[:n], bad[:n]), (rings, w, z, m, rho, a1, need)


def _full_where_needed_bwd(settings, saved, cotangents):
    rings, w, z, m, rho, a1, need = saved
    w_pad = _padded(w)
    g_pad = _padded(jnp.where(need, cotangents[0], 0.0)).at[-1].set(0.0)
    many = jax.vmap(_on_rings, in_axes=(0, 0, None, None, None, None, None))

    def body(index, grads):
        g_w, g_shared = grads
        ring = jax.tree_util.tree_map(lambda buf: buf[index], rings)
        _, pullback = jax.vjp(lambda wc, *shared: many(ring, wc, *shared, settings),
                              w_pad[index], z, m, rho, a1)
        d_w, *d_shared = pullback(g_pad[index])
        return (g_w.at[index].add(d_w),
                jax.tree_util.tree_map(jnp.add, g_shared, tuple(d_shared)))

    zeros = tuple(jnp.zeros_like(x) for x in (z, m, rho, a1))
    g_w, g_shared = _chunk_loop(need, settings, body, (jnp.zeros_like(w_pad), zeros))
    return (g_w[:-1], *g_shared, None)


_full_where_needed.defvjp(_full_where_needed_fwd, _full_where_needed_bwd)
