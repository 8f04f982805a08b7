"""Point-source images and magnification of n point lenses, with exact derivatives.

Lens equation (Witt & Mao 1995; units of θ_E of the total mass): F(z) = z − w − Σ_k m_k / conj(z − z_k) = 0.
Images are the roots of the degree n²+1 polynomial of ``polynomial.py`` (Ehrlich–Aberth, ``roots.py``)
that also solve F = 0.

False roots. With g(z) = Σ_k m_k / conj(z − z_k)², the Jacobian determinant is det J = 1 − |g|² and
the Newton step of the lens equation is δ(z) = (−F + g F̄)/(1 − |g|²). Roots of the polynomial near
a light lens are ill-conditioned (errors up to ~1e-3 θ_E even in the lightest lens's frame when two
lenses are light), so a residual threshold alone misclassifies them. Instead every root takes
``polish_steps(n)`` Newton steps on the lens equation (4 for one or two lenses, 6 for more; for
more than two, in a form without the nearest lens's pole: ``_newton_step``): a true image
converges quadratically to itself; a false root either does not converge or lands on a true image
already reached by a root that started closer (smaller initial |δ|). Images = converged and not
duplicates. Converged: the last |δ| is below ``CONVERGED_TOL`` (1 + |z|) = 1e-9 θ_E, or the lens-equation residual |F| is below ``RESIDUAL_TOL``
(1e-13) times the size of its terms (1 + |z| + |w| + Σ m_k/|z − z_k|) — near a critical curve
δ = F/det J magnifies F's rounding (|δ| ~ 1e-8 with |F| ~ 1e-16 at det J ~ 1e-8), so a step test
alone drops one image of a close pair and the pair's images stop appearing and vanishing together.
Duplicate: within ``DUPLICATE_TOL`` (1 + |z|) = 1e-8 θ_E of a root with a smaller initial |δ| *and of
the same parity*: the two images of a fold pair, however close, have opposite parities.

Divergence. On a caustic det J → 0: each image contributes min(1/|det J|, ``MAX_IMAGE_MAGNIFICATION``)
(1e10), so every position, including one exactly on a caustic, gives a finite value (never NaN or
inf). For ε ≥ 1e-6 θ_E from a fold the cap is never reached (A ~ ε^{-1/2}). A source exactly on
a lens makes the polynomial's leading coefficient vanish (a root at infinity); the remaining roots
still give the magnification, continuous with the source's neighbourhood (``lens_starts``).

Derivatives. The roots are found without derivatives; each image is then moved by one Newton step of
the lens equation evaluated with the (traced) w, z, m. At a solution F = 0, so the value is that of
the polished image while the tangent is the implicit derivative dz/dp = (−F_p + g F̄_p)/(1 − |g|²),
exact (implicit function theorem applied to the lens equation). False roots, and images with
|det J| < 1/``MAX_IMAGE_MAGNIFICATION`` (on a caustic, where the derivative diverges), carry no
derivative, so gradients stay finite everywhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .polynomial import lens_polynomial
from .roots import N_ITER, initial_guesses, polynomial_roots

#: Newton steps (``_newton_step``) given to every root before classifying it, by number of lenses
#: (the last entry serves any larger number). Measured: 40000 binaries (q 1e-6–10, 40 % within
#: 1e-6–1e-2 θ_E of a caustic) agree with 12 steps to double precision's eps·A from 3 steps on;
#: triples with two planets (q, q3 1e-5–1e-4, sources where the primary's minor image meets a
#: planet: roots up to ~1e-3 θ_E off) lose a faint image after 4 pole-free steps (2 % low) and
#: agree with VBMicrolensing to 2.4e-12 after 5, 6, 8, 16 or 30 (1600 points); one step is kept
#: beyond the fewest that sufficed
N_POLISH = {1: 4, 2: 4, 3: 6}
#: a root has converged to an image when its last Newton step is below CONVERGED_TOL (1 + |z|) θ_E
CONVERGED_TOL = 1e-9
#: ... or when its lens-equation residual is below RESIDUAL_TOL times the size of the equation's terms
RESIDUAL_TOL = 1e-13
#: two polished roots of one parity closer than DUPLICATE_TOL (1 + |z|) θ_E reached the same image
DUPLICATE_TOL = 1e-8
#: cap of one image's magnification 1/|det J| (reached only within ~1e-20 θ_E of a fold caustic)
MAX_IMAGE_MAGNIFICATION = 1e10
#: source positions per vmapped block in batched evaluations (``in_blocks``)
BLOCK = 16


def polish_steps(n_lenses: int) -> int:
    """``N_POLISH`` for ``n_lenses`` lenses."""
    return N_POLISH[min(n_lenses, max(N_POLISH))]


def abs2(c):
    """|c|² of complex ``c``."""
    return c.real * c.real + c.imag * c.imag


def lens_sums(zi, z, m):
    """(Σ_k m_k / conj(zi − z_k), Σ_k m_k / conj(zi − z_k)²) at ``zi`` (complex, any shape), in real
    arithmetic: each 1/conj(d) is d/|d|². XLA's complex division on a CPU is Smith's guarded method,
    several times the work; with the Aberth step written the same way (roots._aberth_step) a
    batch of 10^4 binary magnifications took 1.45× less time (same process, interleaved runs).
    For the root polishing, which is not differentiated (see ``complex_shear``)."""
    xr, xi = zi.real[..., None], zi.imag[..., None]
    dr, di = xr - z.real, xi - z.imag
    d2 = dr * dr + di * di
    ur, ui = m * dr / d2, m * di / d2
    u = jax.lax.complex(jnp.sum(ur, axis=-1), jnp.sum(ui, axis=-1))
    g = jax.lax.complex(jnp.sum((ur * dr - ui * di) / d2, axis=-1),
                        jnp.sum((ur * di + ui * dr) / d2, axis=-1))
    return u, g


def complex_shear(zi, z, m):
    """g(zi) = Σ_k m_k / conj(zi − z_k)²  (zi may have any shape). Complex arithmetic: this is on
    the differentiated path (implicit derivatives, the contour's area), where the real-arithmetic
    form of ``lens_sums`` made the reverse pass slower (a 1000-epoch light curve's ln L + gradient
    0.99 → 1.11 s, quiet machine, same window)."""
    d = jnp.conj(zi[..., None] - z)
    return jnp.sum(m / (d * d), axis=-1)


def _residual(zi, w, z, m):
    """F(zi) = zi − w − Σ_k m_k / conj(zi − z_k) (complex arithmetic, see ``complex_shear``)."""
    return zi - w - jnp.sum(m / jnp.conj(zi[..., None] - z), axis=-1)


def jacobian_determinant(zi, z, m):
    """det J = 1 − |Σ_k m_k / conj(zi − z_k)²|² of the lens mapping at image-plane points ``zi``
    (complex, any shape); z complex (n,) lens positions, m real (n,) masses."""
    g = complex_shear(jnp.asarray(zi, complex), jnp.asarray(z, complex), jnp.asarray(m, float))
    return 1.0 - abs2(g)


def _newton_step(zi, w, z, m):
    """Newton step towards an image from ``zi``: ``_pole_free_newton_step`` for three or more
    lenses; for one or two the plain step (−F + g F̄)/(1 − |g|²), F the lens equation and
    g = Σ_k m_k / conj(z − z_k)². With two lenses the polynomial is solved in the lighter lens's
    frame (``image_positions``), so no root is ill-conditioned near a light lens and the plain step
    converges (40000 binaries, q down to 1e-6, agree with 12 steps of either form); it costs ~10 %
    less of a binary's magnification than the other form."""
    if z.shape[0] >= 3:
        return _pole_free_newton_step(zi, w, z, m)
    u, g = lens_sums(zi, z, m)
    return jax.lax.complex(*_plain_step(zi.real - w.real - u.real, zi.imag - w.imag - u.imag,
                                        g.real, g.imag))


def _plain_step(fr, fi, gr, gi):
    """(real, imaginary) parts of δ = (−F + g F̄)/(1 − |g|²) from those of F and g."""
    det = 1.0 - gr * gr - gi * gi
    det = jnp.where(det == 0, 1e-300, det)
    return (-fr + gr * fr + gi * fi) / det, (-fi + gi * fr - gr * fi) / det


def _pole_free_newton_step(zi, w, z, m):
    """Newton step towards an image from ``zi``: within the nearest lens's Einstein radius
    (|zi − z_k|² < m_k), for the lens equation multiplied by conj(zi − z_k):

        G(z) = conj(z − z_k) E(z) − m_k,   E(z) = z − w − Σ_{j≠k} m_j / conj(z − z_j),

    which has the lens equation's roots and no pole at z_k. G depends on z and z̄, so the step
    solves G + a δ + b δ̄ = 0 with a = ∂G/∂z = conj(z − z_k) and b = ∂G/∂z̄ = E + conj(z − z_k)
    Σ_{j≠k} m_j / conj(z − z_j)²: δ = (b Ḡ − ā G)/(|a|² − |b|²); elsewhere the ordinary step
    (−F + g F̄)/(1 − |g|²), F the lens equation and g = Σ_k m_k / conj(z − z_k)². Close to a
    light lens, where F's pole makes Newton's basin smaller than the polynomial root's error (a
    triple with two planets: roots ~1e-4–1e-3 θ_E off a faint image 2e-4 θ_E from a planet of mass
    1.5e-5, which the plain step never reached, even in 30 steps), G is nearly linear and the step
    converges. Real arithmetic, as in ``lens_sums``."""
    xr, xi = zi.real[..., None], zi.imag[..., None]
    dr, di = xr - z.real, xi - z.imag                       # z − z_j
    d2 = dr * dr + di * di
    nearest = jnp.arange(z.shape[0]) == jnp.argmin(d2, axis=-1)[..., None]
    safe = jnp.where(d2 > 0, d2, 1.0)
    ur, ui = m * dr / safe, m * di / safe                    # m_j / conj(z − z_j)
    gr, gi = (ur * dr - ui * di) / safe, (ur * di + ui * dr) / safe   # m_j / conj(z − z_j)²

    def nearest_term(x):
        return jnp.sum(jnp.where(nearest, x, 0.0), axis=-1)

    def other_terms(x):
        return jnp.sum(jnp.where(nearest, 0.0, x), axis=-1)
    ukr, uki, gkr, gki = (nearest_term(x) for x in (ur, ui, gr, gi))
    ur, ui, gr, gi = (other_terms(x) for x in (ur, ui, gr, gi))
    kr, ki, mk = nearest_term(dr), nearest_term(di), nearest_term(m)
    er, ei = zi.real - w.real - ur, zi.imag - w.imag - ui   # E = z − w − Σ_{j≠k} m_j/conj(z − z_j)
    # the pole-free form: a = conj(z − z_k), G = a E − m_k, b = E + a g_rest
    ar, ai = kr, -ki
    Gr, Gi = ar * er - ai * ei - mk, ar * ei + ai * er
    br, bi = er + ar * gr - ai * gi, ei + ar * gi + ai * gr
    den = ar * ar + ai * ai - br * br - bi * bi
    den = jnp.where(den == 0, 1e-300, den)
    nr = (br * Gr + bi * Gi) - (ar * Gr + ai * Gi)          # δ = (b Ḡ − ā G) / den
    ni = (bi * Gr - br * Gi) - (ar * Gi - ai * Gr)
    # a root exactly on a lens (a false root when the source sits on that lens) is no image: its
    # step is NaN, as the lens equation's own pole makes it, so it stays put and fails to converge
    on_lens = ar * ar + ai * ai == 0
    pole_free_r, pole_free_i = jnp.where(on_lens, jnp.nan, nr / den), ni / den
    plain_r, plain_i = _plain_step(er - ukr, ei - uki, gr + gkr, gi + gki)   # F = E − u_k
    # beyond the lens's Einstein radius the two forms agree near images, but far out (a root near
    # infinity when the source is on a lens) |a|² − |b|² cancels catastrophically: plain step there
    inside = ar * ar + ai * ai < mk
    return jax.lax.complex(jnp.where(inside, pole_free_r, plain_r),
                           jnp.where(inside, pole_free_i, plain_i))


def _classify(roots, w, z, m):
    """True-image mask and polished positions of the polynomial's roots (see the module docstring).

    Every root takes ``polish_steps(n)`` Newton steps on the lens equation. A root is an image when
    it has converged (last step or residual small, see the module docstring) to a point that no root
    of the same parity with a smaller initial Newton distance also reached (a false root polished
    onto a true image is a duplicate)."""
    # squared moduli where only comparisons need them, sqrt(re² + im²) elsewhere: jnp.abs of a
    # complex number is an overflow-guarded hypot, several times the work under vmap
    initial = abs2(_newton_step(roots, w, z, m))

    polished = roots
    for _ in range(polish_steps(z.shape[0]) - 1):   # unrolled: fused, not a loop of small kernels
        step = _newton_step(polished, w, z, m)
        polished = polished + jnp.where(jnp.isfinite(step), step, 0.0)
    last = _newton_step(polished, w, z, m)
    polished = polished + jnp.where(jnp.isfinite(last), last, 0.0)
    scale = 1.0 + jnp.sqrt(abs2(polished))
    size = scale + jnp.sqrt(abs2(w)) + jnp.sum(m / jnp.sqrt(abs2(polished[:, None] - z)), axis=1)
    u, g = lens_sums(polished, z, m)   # not differentiated: real arithmetic (see lens_sums)
    residual2 = abs2(polished - w - u)
    converged = jnp.isfinite(last) & ((abs2(last) < (CONVERGED_TOL * scale) ** 2)
                                      | (residual2 < (RESIDUAL_TOL * size) ** 2))
    deg = roots.shape[0]
    index = jnp.arange(deg)
    parity = 1.0 - abs2(g) >= 0
    same = ((abs2(polished[:, None] - polished[None, :]) < (DUPLICATE_TOL * scale[:, None]) ** 2)
            & (parity[:, None] == parity[None, :]))
    earlier = (initial[None, :] < initial[:, None]) | (
        (initial[None, :] == initial[:, None]) & (index[None, :] < index[:, None]))
    duplicate = jnp.any(same & earlier & converged[None, :], axis=1)
    return converged & ~duplicate, polished


def lens_starts(coeffs, w, z, m):
    """Starting points for the Aberth iterations of the n² + 1 roots: the two images each lens
    would make alone (Paczyński: z_k + d (1 ± √(1 + 4 m_k/|d|²))/2, d = w − z_k), and the
    remaining (n − 1)² — for a binary the fifth where the roots' sum −a₄/a₅ (Vieta) puts it
    given the other four; otherwise on a circle about the lenses' centre of mass, 0.5 θ_E beyond
    the farthest lens. Every start is nudged by 1e-3 (1 + |z|) in its own direction, off any
    symmetry axis (real coefficients keep real starts real).

    On 10^4 random binaries (the benchmark's draws) a block of 16 needs 11.5 iterations on
    average against 17.1 from Aberth's circle (``roots.initial_guesses``), on 10^4 sources on the
    lens axis 10.5 against 17.6; for a triple 16.0 against 15.2, so triples keep the circle
    except near a lens. There the leading coefficient vanishes (a source exactly on a lens puts a
    root at infinity), the circle's radius |P(c)/a_n|^{1/n} explodes, and the iterations ended
    before converging: every image was lost and the magnification came out 0 (binaries on a
    lens; triples within ~1e-6 θ_E of one). These starts find the finite roots there."""
    n = z.shape[0]
    d = w - z
    d = jnp.where(abs2(d) > 0, d, 1e-12)   # a source on a lens: any direction
    root = jnp.sqrt(1.0 + 4.0 * m / abs2(d))
    images = jnp.concatenate([z + 0.5 * d * (1.0 + root), z + 0.5 * d * (1.0 - root)])
    if n == 2:
        extra = (-coeffs[1] / coeffs[0] - jnp.sum(images))[None]
        extra = jnp.where(jnp.isfinite(extra), extra, 1e8)   # a₅ = 0: that root is at infinity
    else:
        k = (n - 1) ** 2
        centre = jnp.sum(m * z) / jnp.sum(m)
        radius = 0.5 + jnp.max(jnp.sqrt(abs2(z - centre)))
        extra = centre + radius * jnp.exp(1j * (2.0 * jnp.pi * jnp.arange(k) / k + 0.4))
    x = jnp.concatenate([images, extra])
    return x + 1e-3 * (1.0 + jnp.sqrt(abs2(x))) * jnp.exp(1j * (0.4 + 2.1 * jnp.arange(x.shape[0])))


#: a source closer than this (θ_E) to a lens gets ``lens_starts`` whatever the number of lenses
NEAR_LENS = 1e-3


def image_positions(w, z, m, n_iter: int = N_ITER):
    """All roots of the lens polynomial and which of them are true images.

    Args:
        w: complex source position (θ_E). z: complex (n,) lens positions. m: real (n,) masses, sum 1.
        n_iter: Ehrlich–Aberth iterations (static).

    Returns:
        (images, is_image): complex (n²+1,) roots — true images polished on the lens equation and
        differentiable (implicit derivatives), false roots without derivative — and bool (n²+1,).
    """
    w = jnp.asarray(w, complex)
    z = jnp.asarray(z, complex)
    m = jnp.asarray(m, float)
    ws, zs, ms = (jax.lax.stop_gradient(v) for v in (w, z, m))
    # roots clustered near a light lens (a planet's images) are ill-conditioned unless the origin is
    # there: low-order coefficients carry full relative precision, so solve in that lens's frame
    origin = zs[jnp.argmin(ms)]
    coeffs = lens_polynomial(ws - origin, zs - origin, ms)
    start = lens_starts(coeffs, ws - origin, zs - origin, ms)
    if zs.shape[0] > 2:
        near = jnp.min(abs2(ws - zs)) < NEAR_LENS ** 2
        start = jnp.where(near, start, initial_guesses(coeffs))
    roots = polynomial_roots(coeffs, n_iter, start=start) + origin
    is_image, polished = _classify(roots, ws, zs, ms)
    polished = jnp.where(is_image, polished, roots)
    return with_implicit_derivatives(polished, is_image, w, z, m), is_image


def with_implicit_derivatives(images, is_image, w, z, m):
    """Solved image positions (values kept) given exact derivatives in w, z, m.

    One more Newton step of the lens equation with traced parameters: at a solution F = 0, so the
    value is unchanged while the tangent is the implicit derivative. Images within the magnification
    cap of a critical curve (|det J| < 1/MAX) and false roots get no derivative: dz/dp ∝ 1/det J
    diverges there."""
    images = jax.lax.stop_gradient(images)
    zs, ms = jax.lax.stop_gradient(z), jax.lax.stop_gradient(m)
    steep = jnp.abs(1.0 - abs2(lens_sums(images, zs, ms)[1])) < 1.0 / MAX_IMAGE_MAGNIFICATION
    differentiable = is_image & ~steep
    # evaluated far from every lens where no derivative is taken: a false root can sit exactly
    # on a lens (a source on a lens), where F and g are infinite and would poison the gradient
    at = jnp.where(differentiable, images, jax.lax.stop_gradient(w) + 1e3)
    f = _residual(at, w, z, m)
    g = complex_shear(at, z, m)
    det = jnp.where(differentiable, 1.0 - abs2(g), 1.0)
    implicit = (-f + g * jnp.conj(f)) / det
    return images + jnp.where(differentiable, implicit, 0.0)


def images(w, z, m, n_iter: int = N_ITER):
    """Image positions and parities: (roots complex (n²+1,), parity float (n²+1,)) with parity
    sign(det J) (+1 or −1) for true images and 0 for false roots."""
    zi, is_image = image_positions(w, z, m, n_iter)
    parity = jnp.sign(jacobian_determinant(zi, z, m))
    return zi, jnp.where(is_image, parity, 0.0)


def point_magnification(w, z, m, n_iter: int = N_ITER):
    """Point-source magnification Σ_images 1/|det J| (each term capped at
    ``MAX_IMAGE_MAGNIFICATION``), differentiable in w, z and m."""
    zi, is_image = image_positions(w, z, m, n_iter)
    det = jnp.abs(jacobian_determinant(zi, z, m))
    det = jnp.where(is_image, det, 1.0)
    per_image = 1.0 / jnp.maximum(det, 1.0 / MAX_IMAGE_MAGNIFICATION)
    return jnp.sum(jnp.where(is_image, per_image, 0.0))


def point_lens_magnification(u):
    """Paczyński (1986, ApJ 304, 1) single-lens magnification A(u) = (u² + 2)/(u √(u² + 4)), u in
    θ_E; at u = 0 it returns the cap ``MAX_IMAGE_MAGNIFICATION`` × 2 instead of inf."""
    u = jnp.asarray(u, float)
    safe = jnp.where(u > 0, u, 1.0)
    a = (safe**2 + 2.0) / (safe * jnp.sqrt(safe**2 + 4.0))
    return jnp.where(u > 0, jnp.minimum(a, 2 * MAX_IMAGE_MAGNIFICATION), 2 * MAX_IMAGE_MAGNIFICATION)


def in_blocks(fn, *args, block: int = BLOCK):
    """``fn`` over the leading axis of ``args`` (arrays or pytrees), vmapped within blocks of
    ``block`` points that run one after another (``lax.map``). Under a plain ``vmap`` the Aberth
    loop runs until the slowest of *all* points converges (7–13 iterations typical, up to 22 on
    10^4 random binaries); in blocks, until the slowest of each block. Measured on 10^4 binary
    magnifications, same process, under load: blocks of 16–50 took ~1.3× less time than one vmap,
    200 none; on a quiet machine the two were within 2× of each other either way round
    (docs/performance.md)."""
    return jax.lax.map(lambda a: fn(*a), args, batch_size=block)

