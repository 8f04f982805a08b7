"""Point-source images and magnification of n point lenses, with exact derivatives.

Lens equation (Witt & Mao 1995; units of θ_E of the total mass): F(z) = z − w − Σ_k m_k / conj(z − z_k) = 0.
Images are the roots of the degree n²+1 polynomial of ``polynomial.py`` (Ehrlich–Aberth, ``roots.py``)
that also solve F = 0.

False roots. With g(z) = Σ_k m_k / conj(z − z_k)², the Jacobian determinant is det J = 1 − |g|² and
the Newton step of the lens equation is δ(z) = (−F + g F̄)/(1 − |g|²), the linearised distance
from a root to the nearest solution. We sort the roots by |δ|: the n + 1 smallest are always images
(every n-point lens has at least n + 1), and the others are accepted in pairs (images appear and
vanish in pairs at caustics), a pair being images when the larger |δ| of the two is below
``IMAGE_TOL`` × (1 + |z|) θ_E. Near a fold caustic at distance ε outside, the false pair has
|δ| ~ √ε, inside the true pair has |δ| ~ 1e-16/√ε, so the threshold 1e-6 separates them for
ε ≳ 1e-12 θ_E. Closer still the classification may drop the pair; the result stays finite.

Divergence. On a caustic det J → 0: each image contributes min(1/|det J|, ``MAX_IMAGE_MAGNIFICATION``)
(1e10), so every position, including one exactly on a caustic, gives a finite value (never NaN or
inf). For ε ≥ 1e-6 θ_E from a fold the cap is never reached (A ~ ε^{-1/2}).

Derivatives. The roots are found without derivatives; each image is then moved by one Newton step of
the lens equation evaluated with the (traced) w, z, m. At a solution F = 0, so the value is that of
the polished image while the tangent is the implicit derivative dz/dp = (−F_p + g F̄_p)/(1 − |g|²),
exact (implicit function theorem applied to the lens equation). False roots carry no derivative.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .polynomial import lens_polynomial
from .roots import N_ITER, polynomial_roots

#: a pair of roots is accepted as images when their Newton distance is below IMAGE_TOL (1 + |z|) θ_E
IMAGE_TOL = 1e-6
#: cap of one image's magnification 1/|det J| (reached only within ~1e-20 θ_E of a fold caustic)
MAX_IMAGE_MAGNIFICATION = 1e10


def _shear(zi, z, m):
    """g(zi) = Σ_k m_k / conj(zi − z_k)²  (zi may have any shape)."""
    d = jnp.conj(zi[..., None] - z)
    return jnp.sum(m / (d * d), axis=-1)


def _residual(zi, w, z, m):
    """F(zi) = zi − w − Σ_k m_k / conj(zi − z_k)."""
    return zi - w - jnp.sum(m / jnp.conj(zi[..., None] - z), axis=-1)


def jacobian_determinant(zi, z, m):
    """det J = 1 − |Σ_k m_k / conj(zi − z_k)²|² of the lens mapping at image-plane points ``zi``
    (complex, any shape); z complex (n,) lens positions, m real (n,) masses."""
    g = _shear(jnp.asarray(zi, complex), jnp.asarray(z, complex), jnp.asarray(m, float))
    return 1.0 - jnp.abs(g) ** 2


def _newton_step(zi, w, z, m):
    f = _residual(zi, w, z, m)
    g = _shear(zi, z, m)
    det = 1.0 - jnp.abs(g) ** 2
    det = jnp.where(det == 0, 1e-300, det)
    return (-f + g * jnp.conj(f)) / det


def _classify(distance, zi, n_lenses):
    """True-image mask from the Newton distances (see the module docstring)."""
    deg = distance.shape[0]
    order = jnp.argsort(distance)
    scaled = (distance / (1.0 + jnp.abs(zi)))[order]
    rank_ok = jnp.arange(deg) < n_lenses + 1
    # pair j occupies sorted places n+1+2j, n+2+2j; accepted when its worse member passes
    extra = jnp.arange(deg) - (n_lenses + 1)
    partner = jnp.clip(n_lenses + 1 + 2 * (extra // 2) + 1, 0, deg - 1)
    pair_ok = (extra >= 0) & (scaled[partner] < IMAGE_TOL)
    sorted_ok = rank_ok | pair_ok
    return jnp.zeros(deg, bool).at[order].set(sorted_ok)


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
    n = z.shape[0]
    ws, zs, ms = (jax.lax.stop_gradient(v) for v in (w, z, m))
    # roots clustered near a light lens (a planet's images) are ill-conditioned unless the origin is
    # there: low-order coefficients carry full relative precision, so solve in that lens's frame
    origin = zs[jnp.argmin(ms)]
    roots = polynomial_roots(lens_polynomial(ws - origin, zs - origin, ms), n_iter) + origin
    step = _newton_step(roots, ws, zs, ms)
    is_image = _classify(jnp.abs(step), roots, n)
    polished = jnp.where(is_image, roots + step, roots)
    polished = jax.lax.stop_gradient(polished)
    # one more Newton step with traced parameters: value ≈ unchanged, tangent = implicit derivative
    implicit = _newton_step(polished, w, z, m)
    images = polished + jnp.where(is_image, implicit, 0.0)
    return images, is_image


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
    per_image = jnp.minimum(1.0 / jnp.maximum(det, 1e-300), MAX_IMAGE_MAGNIFICATION)
    return jnp.sum(jnp.where(is_image, per_image, 0.0))


def point_lens_magnification(u):
    """Paczyński (1986, ApJ 304, 1) single-lens magnification A(u) = (u² + 2)/(u √(u² + 4)), u in
    θ_E; at u = 0 it returns the cap ``MAX_IMAGE_MAGNIFICATION`` × 2 instead of inf."""
    u = jnp.asarray(u, float)
    safe = jnp.where(u > 0, u, 1.0)
    a = (safe**2 + 2.0) / (safe * jnp.sqrt(safe**2 + 4.0))
    return jnp.where(u > 0, jnp.minimum(a, 2 * MAX_IMAGE_MAGNIFICATION), 2 * MAX_IMAGE_MAGNIFICATION)
