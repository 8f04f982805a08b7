"""Navarro–Frenk–White lenses: the spherical NFW and the elliptical NFW_ELLIPSE_CSE.

Parameters and units (lenstronomy's): ``Rs`` the scale radius and ``alpha_Rs`` the deflection at
projected radius Rs, both in arcsec; centre (center_x, center_y) in arcsec. With x = r/Rs and the
normalisation k = alpha_Rs / (1 − ln 2) (arcsec; so that |α(Rs)| = alpha_Rs),

    κ = k F(x) / (2 Rs),  |α| = k g(x) / x,  ψ = k Rs h(x) / 2,  γ = k [2 g(x)/x² − F(x)] / (2 Rs),

the spherical NFW of Bartelmann (1996), Wright & Brainerd (2000, ApJ 534, 34) and Golse & Kneib
(2002, A&A 390, 821), with (lenstronomy's F, g, h)

    F(x) = (1 − A(x)) / (x² − 1),    g(x) = ln(x/2) + A(x),    h(x) = ln²(x/2) − (1 − x²) A(x)²,
    A(x) = artanh(√(1−x²)) / √(1−x²)  (x < 1),   arctan(√(x²−1)) / √(x²−1)  (x > 1),   1 (x = 1).

Numerics. Written this way A is one analytic function of u = 1 − x², A = Σ uⁿ/(2n+1), and the three
places where the textbook forms lose digits are handled as follows:

* x → 1: F = (A − 1)/u is 0/0. Inside |u| < 0.25 A and F come from their Taylor series in u
  (26 terms: the first omitted term is < 1e-17), outside it the closed form has lost at most
  ε/|u| ≈ 1e-15 relative. (lenstronomy's κ, evaluated as written, has relative error ~ε/|x − 1|²
  there: 1e-5 at |x − 1| = 1e-6, tens of per cent within 1e-8.)
* x → 0: ln(x/2) + A cancels to O(x² ln x) (lenstronomy loses ~ε/x² relative here, 1e-6 at
  x = 1e-5). With s = √((1−x)(1+x)), L = ln(2/x) and m = log1p(−x²/(2(1+s))) one has exactly
  artanh(s) = L + m, hence  g = L x²/(s(1+s)) + m/s  and  h = −m (2L + m),  sums of same-sign terms.
  The deflection uses g/x², written out so that it stays exact down to x = 1e-100, where x is
  floored (x² must not underflow).
* r = 0: the radius is floored at 1e-12 arcsec (κ there is the finite value at that radius, the true
  κ diverges like ln(1/x)); the deflection is exactly 0, ψ(0) = 0.

Each branch is evaluated on inputs moved to a harmless value where it is not selected (the
"double-where" trick), so no NaN or inf from an unused branch reaches a gradient; in particular
∂/∂Rs is finite everywhere (JAXtronomy 0.1.5's NFW gives NaN for it in reverse mode).

Elliptical NFW (NFW_ELLIPSE_CSE; lenstronomy's convention): the convergence is the spherical one
evaluated at the product-average elliptical radius, κ(x, y) ≈ κ_NFW(√(q x'² + y'²/q)), approximated
as in Oguri (2021, PASP 133, 074504) by a sum of 44 cored steep ellipsoids (CSE; Keeton & Kochanek
1998), κ_i = a_i / (2 (s_i² + ξ²)^{3/2}) with ξ² = q x'² + y'²/q in units of Rs and (s_i, a_i)
Oguri's Table 1, whose sum matches F(ξ)/2 to ~2e-5 relative for 1e-4 < ξ < 1e3. The potential of
one CSE in the product-average normalisation is ψ_i = (a_i / 2 s_i) ln(Φ/((1+q)² s_i²)), with Φ the
Keeton & Kochanek / Oguri function of the major-axis frame, rescaled to the product-average
radius. We rewrite Φ̃ = Φ (1+e)²/4 (e = |(e1, e2)|) without the rotation angle or q. With
d = (dx, dy)/Rs, r² = |d|², ξ² = dᵀMd, M = [[1 + e² − 2e1, −2e2], [−2e2, 1 + e² + 2e1]]/(1 − e²),
m = Md, S = √(s² + ξ²) and c₂ = (1 − e²)/2, it is exactly

    Φ̃ = c₂ (r²/2 + s S) + (1 + e²) s²/2,    ∇Φ̃ = c₂ (d + (s/S) m),

a sum of positive terms that involves e1, e2 only through M and e², so values and all derivatives
are smooth through e1 = e2 = 0 (a route through q and the position angle has no derivative there)
and no large cancellation occurs even at q = 0.2 (α and H agree with lenstronomy's rotated-frame
evaluation to 2e-15). Then, per component, with β = (a/s)/(2Φ̃),

    ψ_i = (a/2s) log1p(c₂ (r²/2 + s ξ²/(S + s)) / s²),     α_i = c₂ β (d + (s/S) m),
    κ_i = a / (2 S³),

so α = k (P d + R m) with P = c₂ Σβ, R = c₂ Σβ s/S per pixel, and the hessian follows from
∇r² = 2d, ∇ξ² = 2m: H = (k/Rs) [P I + R M + 2 (P_r d dᵀ + P_ξ (d mᵀ + m dᵀ) + R_ξ m mᵀ)], subscripts
denoting derivatives with respect to r² and ξ². Scaling: ψ = k Rs Σψ_i, α = k Σα_i, κ = (k/Rs) Σκ_i.
The core radii keep every term finite at the centre, so no floor is needed there. (P, R) carry a
hand-written derivative (a custom JVP) built from per-pixel sums over the components, so a
gradient never stores the pixels × 44 intermediates (value and gradient of α cost ~1.1× the
value; JAXtronomy's take ~25×).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.profile import MassProfile

from . import params_nfw
from .ellipse import safe_sqrt

_ONE_MINUS_LN2 = 1.0 - math.log(2.0)  # g(1): |α(Rs)| = k g(1), so k = alpha_Rs / (1 − ln 2)
_R_FLOOR = 1e-12  # arcsec: floor on the radius, keeps ln(Rs/r) and its gradient finite at r = 0
_U_WINDOW = 0.25  # |1 − x²| below which A and F come from their series in u = 1 − x²
_N_SERIES = 26  # 0.25**26 / 53 < 1e-17: the series is exact to round-off in the window
_X_FLOOR = 1e-100  # keeps x² > 0 in g/x² (only reached for Rs > 1e88 arcsec at the centre)


def _series(u, first):
    """Σ_{n ≥ first} u^(n − first) / (2n + 1), n < first + _N_SERIES, by Horner's rule."""
    acc = jnp.zeros_like(u)
    for n in range(first + _N_SERIES - 1, first - 1, -1):
        acc = acc * u + 1.0 / (2 * n + 1)
    return acc


def nfw_functions(x):
    """(F, g/x², h) of the spherical NFW at x = r/Rs > 0 (module docstring), accurate to a few ε
    for all x and differentiable everywhere (each branch sees only inputs it is defined on)."""
    x = jnp.maximum(x, _X_FLOOR)
    u = (1.0 - x) * (1.0 + x)  # 1 − x², exact near x = 1
    window = jnp.abs(u) < _U_WINDOW
    inner = (x < 1.0) & ~window
    outer = (x > 1.0) & ~window

    # x < 1 outside the window: artanh(s) = L + m without cancellation at small x
    xi = jnp.where(inner, x, 0.5)
    si = jnp.sqrt((1.0 - xi) * (1.0 + xi))
    big_l = jnp.log(2.0 / xi)
    t = 1.0 / (2.0 * (1.0 + si))
    m = jnp.log1p(-xi * xi * t)
    atanh_s = big_l + m
    f_in = (atanh_s / si - 1.0) / (si * si)
    # g/x² = L/(s(1+s)) + m/(x² s); m/x² = log1p(−x² t)/x² is evaluated as such (x² > 0 here)
    g2_in = big_l / (si * (1.0 + si)) + m / (xi * xi * si)
    h_in = -m * (2.0 * big_l + m)

    # x > 1 outside the window: arctan form
    xo = jnp.where(outer, x, 2.0)
    so = jnp.sqrt((xo - 1.0) * (xo + 1.0))
    atan_s = jnp.arctan(so)
    a_out = atan_s / so
    log_half = jnp.log(0.5 * xo)
    f_out = (1.0 - a_out) / (so * so)
    g2_out = (log_half + a_out) / (xo * xo)
    h_out = log_half * log_half + atan_s * atan_s

    # |1 − x²| < 0.25: series in u for A and for F = (A − 1)/u
    uw = jnp.where(window, u, 0.0)
    xw = jnp.where(window, x, 1.0)
    a_win = _series(uw, 0)
    f_win = _series(uw, 1)
    log_half_w = jnp.log(0.5 * xw)
    g2_win = (log_half_w + a_win) / (xw * xw)
    h_win = log_half_w * log_half_w - uw * a_win * a_win

    def pick(a, b, c):
        return jnp.where(window, c, jnp.where(x < 1.0, a, b))

    return pick(f_in, f_out, f_win), pick(g2_in, g2_out, g2_win), pick(h_in, h_out, h_win)


# The kernels below are jitted so that an eager call compiles one program instead of dispatching
# a few hundred small operations; inside a caller's jit, vmap or grad they are simply inlined.
def _nfw_setup(x, y, Rs, alpha_Rs, center_x, center_y):
    x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
    dx, dy = x - center_x, y - center_y
    r = safe_sqrt(dx * dx + dy * dy, _R_FLOOR)
    k = alpha_Rs / _ONE_MINUS_LN2
    return dx, dy, r, k


@jax.jit
def nfw_potential(x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
    """ψ = k Rs h(r/Rs) / 2, arcsec²."""
    _, _, r, k = _nfw_setup(x, y, Rs, alpha_Rs, center_x, center_y)
    _, _, h = nfw_functions(r / Rs)
    return 0.5 * k * Rs * h


@jax.jit
def nfw_deflection(x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
    """α = k (g/x²) (dx, dy) / Rs, arcsec; exactly 0 at the centre."""
    dx, dy, r, k = _nfw_setup(x, y, Rs, alpha_Rs, center_x, center_y)
    _, g2, _ = nfw_functions(r / Rs)
    scale = k * g2 / Rs
    return scale * dx, scale * dy


@jax.jit
def nfw_hessian(x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
    """(f_xx, f_xy, f_yx, f_yy) = κ ± γ1, γ2 with the tangential shear γ = k (2g/x² − F)/(2 Rs)."""
    dx, dy, r, k = _nfw_setup(x, y, Rs, alpha_Rs, center_x, center_y)
    f, g2, _ = nfw_functions(r / Rs)
    kappa = 0.5 * k * f / Rs
    gamma = 0.5 * k * (2.0 * g2 - f) / Rs
    r2 = r * r
    gamma1 = -gamma * (dx * dx - dy * dy) / r2
    gamma2 = -gamma * 2.0 * dx * dy / r2
    return kappa + gamma1, gamma2, gamma2, kappa - gamma1


@jax.jit
def nfw_convergence(x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
    """κ = k F(r/Rs) / (2 Rs), dimensionless."""
    _, _, r, k = _nfw_setup(x, y, Rs, alpha_Rs, center_x, center_y)
    f, _, _ = nfw_functions(r / Rs)
    return 0.5 * k * f / Rs


class NFW(MassProfile):
    """Spherical NFW lens (lenstronomy's NFW): Rs and alpha_Rs (deflection at Rs) in arcsec."""

    params = params_nfw.NFW
    reference = ("Wright & Brainerd (2000), ApJ 534, 34; Golse & Kneib (2002), A&A 390, 821 "
                 "(lenstronomy's Rs, alpha_Rs)")

    def potential(self, x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
        return nfw_potential(x, y, Rs, alpha_Rs, center_x, center_y)

    def deflection(self, x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
        return nfw_deflection(x, y, Rs, alpha_Rs, center_x, center_y)

    def hessian(self, x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
        return nfw_hessian(x, y, Rs, alpha_Rs, center_x, center_y)

    def convergence(self, x, y, Rs, alpha_Rs, center_x=0.0, center_y=0.0):
        return nfw_convergence(x, y, Rs, alpha_Rs, center_x, center_y)


# -- elliptical NFW as a sum of cored steep ellipsoids ------------------------------------------
# Oguri (2021), PASP 133, 074504, Table 1: (s_i, a_i) of the 44-CSE fit to the NFW convergence
# (fractional accuracy ~1e-4 for 1e-4 < r/Rs < 1e3), in units of Rs. Data from the paper (also
# distributed with Oguri's glafic); kept in the paper's order.
_CSE_TABLE = np.array([
    (1.082411e-06, 1.648988e-18), (8.786566e-06, 6.274458e-16), (3.292868e-06, 3.646620e-17),
    (1.860019e-05, 3.459206e-15), (3.274231e-05, 2.457389e-14), (6.232485e-05, 1.059319e-13),
    (9.256333e-05, 4.211597e-13), (1.546762e-04, 1.142832e-12), (2.097321e-04, 4.391215e-12),
    (3.391140e-04, 1.556500e-11), (5.178790e-04, 6.951271e-11), (8.636736e-04, 3.147466e-10),
    (1.405152e-03, 1.379109e-09), (2.193855e-03, 3.829778e-09), (3.179572e-03, 1.384858e-08),
    (4.970987e-03, 5.370951e-08), (7.631970e-03, 1.804384e-07), (1.119413e-02, 5.788608e-07),
    (1.827267e-02, 3.205256e-06), (2.945251e-02, 1.102422e-05), (4.562723e-02, 4.093971e-05),
    (6.782509e-02, 1.282206e-04), (1.596987e-01, 4.575541e-04), (1.127751e-01, 7.995270e-04),
    (2.169469e-01, 5.013701e-03), (3.423835e-01, 1.403508e-02), (5.194527e-01, 5.230727e-02),
    (8.623185e-01, 1.898907e-01), (1.382737e+00, 3.643448e-01), (2.034929e+00, 7.203734e-01),
    (3.402979e+00, 1.717667e+00), (5.594276e+00, 2.217566e+00), (8.052345e+00, 3.187447e+00),
    (1.349045e+01, 8.194898e+00), (2.603825e+01, 1.765210e+01), (4.736823e+01, 1.974319e+01),
    (6.559320e+01, 2.783688e+01), (1.087932e+02, 4.482311e+01), (1.477673e+02, 5.598897e+01),
    (2.495341e+02, 1.426485e+02), (4.305999e+02, 2.279833e+02), (7.760206e+02, 5.401335e+02),
    (2.143057e+03, 9.743682e+02), (1.935749e+03, 1.775124e+03),
])
CSE_S = _CSE_TABLE[:, 0]  # core radii s_i / Rs
CSE_A = _CSE_TABLE[:, 1]  # amplitudes a_i


def _cse_geometry(x, y, Rs, e1, e2, center_x, center_y):
    """Per pixel, in units of Rs: d = (X, Y), r², m = Md and ξ² = dᵀMd (module docstring), with
    M's entries and e² — all polynomial in (e1, e2) over 1 − e². ξ² is formed as |u|²/(1 − e²)
    with u = z − ε z̄ (z = X + iY, ε = e1 + i e2), a sum of squares."""
    x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
    X = (x - center_x) / Rs
    Y = (y - center_y) / Rs
    e_sq = e1 * e1 + e2 * e2
    inv = 1.0 / (1.0 - e_sq)
    u1 = (1.0 - e1) * X - e2 * Y
    u2 = (1.0 + e1) * Y - e2 * X
    mx = ((1.0 - e1) * u1 - e2 * u2) * inv  # M = [[1 + e² − 2e1, −2e2], [−2e2, 1 + e² + 2e1]]
    my = ((1.0 + e1) * u2 - e2 * u1) * inv  #     / (1 − e²) = Aᵀ A / (1 − e²)
    p = 1.0 + e_sq
    m = ((p - 2.0 * e1) * inv, -2.0 * e2 * inv, (p + 2.0 * e1) * inv)
    return dict(X=X, Y=Y, r2=X * X + Y * Y, mx=mx, my=my, xi2=(u1 * u1 + u2 * u2) * inv, m=m,
                e_sq=e_sq)


_SUMS = {"alpha": 2, "hessian": 6, "jvp": 8}


def _cse_sums(r2, xi2, e_sq, level):
    """Sums over the 44 components, with Φ̃_i = c₂ (r²/2 + s_i S_i) + (1 + e²) s_i²/2,
    β_i = (a_i/s_i) / (2 Φ̃_i), γ_i = β_i/Φ̃_i, σ_i = s_i/S_i, D_i = r²/2 + s_i ξ²/(S_i + s_i):
    U = Σβ, V = Σβσ; for the hessian also Σγ, Σγσ, Σγσ², Σβσ/S²; for the derivative of (P, R) also
    ΣγD, ΣγDσ. All terms are positive (no cancellation). One pass (a scan carrying the per-pixel
    sums, so nothing of size pixels × 44 is kept, for the values or for a gradient)."""
    c2 = 0.5 * (1.0 - e_sq)
    half_p = 0.5 * (1.0 + e_sq)
    shape = jnp.broadcast_shapes(jnp.shape(r2), jnp.shape(xi2), jnp.shape(e_sq))

    def body(carry, sa):
        s, a_s = sa
        S = jnp.sqrt(s * s + xi2)
        sigma = s / S
        phi = c2 * (0.5 * r2 + s * S) + half_p * s * s
        inv_phi = 1.0 / phi
        beta = 0.5 * a_s * inv_phi
        terms = (beta, beta * sigma)
        if level != "alpha":
            gamma = beta * inv_phi
            terms += (gamma, gamma * sigma, gamma * sigma * sigma, beta * sigma / (S * S))
        if level == "jvp":
            d = 0.5 * r2 + s * xi2 / (S + s)
            terms += (gamma * d, gamma * d * sigma)
        return tuple(c + t for c, t in zip(carry, terms)), None

    init = tuple(jnp.zeros(shape) for _ in range(_SUMS[level]))
    sums, _ = jax.lax.scan(body, init, (jnp.asarray(CSE_S), jnp.asarray(CSE_A / CSE_S)))
    return sums


@jax.custom_jvp
def _cse_pr(r2, xi2, e_sq):
    """(P, R) = c₂ (U, V): α = k (P d + R m) in units of Rs. Its derivative is written out, so that
    a gradient keeps eight per-pixel sums instead of every component's intermediates."""
    u, v = _cse_sums(r2, xi2, e_sq, "alpha")
    c2 = 0.5 * (1.0 - e_sq)
    return c2 * u, c2 * v


@_cse_pr.defjvp
def _cse_pr_jvp(primals, tangents):
    r2, xi2, e_sq = primals
    d_r2, d_xi2, d_e = tangents
    u, v, g0, g1, g2, w, gd0, gd1 = _cse_sums(r2, xi2, e_sq, "jvp")
    c2 = 0.5 * (1.0 - e_sq)
    # ∂Φ̃/∂r² = c₂/2, ∂Φ̃/∂ξ² = c₂σ/2 (σ = s/S), ∂Φ̃/∂e² = −D/2, ∂β/∂Φ̃ = −γ, ∂c₂/∂e² = −1/2
    p_r = -0.5 * c2 * c2 * g0
    p_xi = -0.5 * c2 * c2 * g1  # = ∂R/∂r²
    r_xi = -0.5 * c2 * (c2 * g2 + w)
    p_e = 0.5 * c2 * gd0 - 0.5 * u
    r_e = 0.5 * c2 * gd1 - 0.5 * v
    dp = p_r * d_r2 + p_xi * d_xi2 + p_e * d_e
    dr = p_xi * d_r2 + r_xi * d_xi2 + r_e * d_e
    return (c2 * u, c2 * v), (dp, dr)


def _normalisation(alpha_Rs):
    return jnp.asarray(alpha_Rs, float) / _ONE_MINUS_LN2


@jax.jit
def nfw_cse_potential(x, y, Rs, alpha_Rs, e1, e2, center_x=0.0, center_y=0.0):
    """ψ = k Rs Σ (a_i/2s_i) log1p((Φ̃_i − s_i²)/s_i²) in arcsec² (0 at the centre, as
    lenstronomy's), with Φ̃ − s² = c₂ (r²/2 + s ξ²/(S + s)) ≥ 0 formed without cancellation, so
    that ψ ~ r² keeps its relative accuracy near the centre."""
    g = _cse_geometry(x, y, Rs, e1, e2, center_x, center_y)
    r2, xi2, c2 = g["r2"], g["xi2"], 0.5 * (1.0 - g["e_sq"])

    def body(total, sa):
        s, half_a_s = sa
        S = jnp.sqrt(s * s + xi2)
        excess = c2 * (0.5 * r2 + s * xi2 / (S + s))
        return total + half_a_s * jnp.log1p(excess / (s * s)), None

    shape = jnp.broadcast_shapes(jnp.shape(xi2), jnp.shape(c2))
    total, _ = jax.lax.scan(body, jnp.zeros(shape),
                            (jnp.asarray(CSE_S), jnp.asarray(0.5 * CSE_A / CSE_S)))
    return _normalisation(alpha_Rs) * Rs * total


@jax.jit
def nfw_cse_deflection(x, y, Rs, alpha_Rs, e1, e2, center_x=0.0, center_y=0.0):
    """(α_x, α_y) = k (P d + R m), arcsec."""
    g = _cse_geometry(x, y, Rs, e1, e2, center_x, center_y)
    p, r = _cse_pr(g["r2"], g["xi2"], g["e_sq"])
    k = _normalisation(alpha_Rs)
    return k * (p * g["X"] + r * g["mx"]), k * (p * g["Y"] + r * g["my"])


@jax.jit
def nfw_cse_hessian(x, y, Rs, alpha_Rs, e1, e2, center_x=0.0, center_y=0.0):
    """(f_xx, f_xy, f_yx, f_yy), dimensionless: the derivative of α = k (P d + R m), with
    ∇r² = 2d and ∇ξ² = 2m,
        H = (k/Rs) [P I + R M + 2 (P_r d dᵀ + P_ξ (d mᵀ + m dᵀ) + R_ξ m mᵀ)]
    (symmetric because ∂R/∂r² = ∂P/∂ξ²)."""
    g = _cse_geometry(x, y, Rs, e1, e2, center_x, center_y)
    u, v, g0, g1, g2, w = _cse_sums(g["r2"], g["xi2"], g["e_sq"], "hessian")
    c2 = 0.5 * (1.0 - g["e_sq"])
    p, r = c2 * u, c2 * v
    p_r, p_xi, r_xi = -c2 * c2 * g0, -c2 * c2 * g1, -c2 * (c2 * g2 + w)  # twice the derivatives
    m_xx, m_xy, m_yy = g["m"]
    X, Y, mx, my = g["X"], g["Y"], g["mx"], g["my"]

    def entry(delta, m_jk, dj, dk, mj, mk):
        return p * delta + r * m_jk + p_r * dj * dk + p_xi * (dj * mk + mj * dk) + r_xi * mj * mk

    scale = _normalisation(alpha_Rs) / Rs
    f_xx = scale * entry(1.0, m_xx, X, X, mx, mx)
    f_xy = scale * entry(0.0, m_xy, X, Y, mx, my)
    f_yy = scale * entry(1.0, m_yy, Y, Y, my, my)
    return f_xx, f_xy, f_xy, f_yy


@jax.jit
def nfw_cse_convergence(x, y, Rs, alpha_Rs, e1, e2, center_x=0.0, center_y=0.0):
    """κ = (k/Rs) Σ a_i / (2 (s_i² + ξ²)^{3/2}), dimensionless."""
    g = _cse_geometry(x, y, Rs, e1, e2, center_x, center_y)
    xi2 = g["xi2"]

    def body(total, sa):
        s, half_a = sa
        S2 = s * s + xi2
        return total + half_a / (S2 * jnp.sqrt(S2)), None

    total, _ = jax.lax.scan(body, jnp.zeros(jnp.shape(xi2)),
                            (jnp.asarray(CSE_S), jnp.asarray(0.5 * CSE_A)))
    return _normalisation(alpha_Rs) / Rs * total


class NFWEllipseCSE(MassProfile):
    """Elliptical NFW (lenstronomy's NFW_ELLIPSE_CSE): κ = κ_NFW at the product-average radius
    √(q x'² + y'²/q), as Oguri's 44 cored steep ellipsoids; Rs, alpha_Rs in arcsec as for NFW."""

    params = params_nfw.NFW_ELLIPSE_CSE
    reference = "Oguri (2021), PASP 133, 074504 (Table 1); Keeton & Kochanek (1998)"

    def potential(self, x, y, Rs, alpha_Rs, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        return nfw_cse_potential(x, y, Rs, alpha_Rs, e1, e2, center_x, center_y)

    def deflection(self, x, y, Rs, alpha_Rs, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        return nfw_cse_deflection(x, y, Rs, alpha_Rs, e1, e2, center_x, center_y)

    def hessian(self, x, y, Rs, alpha_Rs, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        return nfw_cse_hessian(x, y, Rs, alpha_Rs, e1, e2, center_x, center_y)

    def convergence(self, x, y, Rs, alpha_Rs, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        return nfw_cse_convergence(x, y, Rs, alpha_Rs, e1, e2, center_x, center_y)
