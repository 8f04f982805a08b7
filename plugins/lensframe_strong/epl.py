"""Elliptical power law (EPL) lens, Tessore & Metcalf (2015), A&A 580, A79 (arXiv:1507.01819).

Convention (lenstronomy's ``EPL``): angles in arcsec; with x' along the major axis, q ≤ 1 the axis
ratio, t = γ − 1 the slope of the convergence (γ the 3D slope, 2 = isothermal),
    κ = (2 − t)/2 · (θ_E / √(q x'² + y'²/q))^t,
so θ_E is the circularised Einstein radius; b = θ_E √q and R = √(q² x'² + y'²) in TM15's notation
(their eqs. 2 and 5). Parameters: theta_E (arcsec), gamma, e1, e2 (lenstronomy ellipticity), centre.

Deflection (TM15 eqs. 22-23): α = 2b/(1+q) (b/R)^(t−1) e^{iφ} F(−f e^{2iφ}), f = (1−q)/(1+q),
F(w) = ₂F₁(1, t/2; 2 − t/2; w), complex notation α = α_x + i α_y in the frame of the ellipse.

Written without q, angles or |e|. With z = Δx + iΔy, ε = e1 + i e2 (so |ε| = f) and
    u = z − ε z*   (a polynomial in e1, e2, Δx, Δy),
the rotated elliptical coordinate is e^{iφ0}(q x' + i y') = (1+q)/2 · u, and since
2√q/(1+q) = √(1−|ε|²) the deflection in the sky frame becomes
    α = (θ_E s / |u|)^t · u · F(w),   s² = 1 − e1² − e2²,   w = −ε* u / u* = −ε* u² / |u|².
Everything except F is a polynomial in (e1, e2) or a power of |u|² and s², so values and all
derivatives are smooth through e1 = e2 = 0: the axis angle φ0 = ½ arg ε and q never appear, and no
near-round branch (like the SIE's series in e) is needed; at ε = 0, w = 0 and F = 1 exactly.
Also κ = (2 − t)/2 (θ_E s/|u|)^t (|u|² = (1−|ε|²) (q x'² + y'²/q)).

F without an adaptive series. TM15 sum the Taylor series of F by a recurrence (their eq. 29); its
terms fall like |w|^n = f^n, so a fixed length is either long (q = 0.2, f = 2/3: ~55 terms for
1e-10 at γ → 3, measured) or inaccurate, and an adaptive length does not batch or differentiate
well. But F is a Stieltjes function (for 0 < t < 2,
    F(w) = ∫₀¹ dμ(s)/(1 − w s),  dμ ∝ s^{t/2−1} (1−s)^{1−t} ds > 0),
so its Gauss continued fraction
    F(w) = 1/(1 − g₁w/(1 − g₂w/(1 − g₃w/ …))),
    g₁ = t/(4−t),  g_{2n+1} = (c+n)(b+n)/((c+2n)(c+2n+1)),  g_{2n} = n(c+n−b)/((c+2n−1)(c+2n)),
    b = t/2, c = 1 − t/2  (all g > 0),
converges in the whole plane cut along [1, ∞), and its convergents (the [m/m] Padé approximants)
converge geometrically at a rate set by the distance to the cut, not by |w|: each level gains a
factor ρ = (1 − √(1−|w|))/(1 + √(1−|w|)) at worst (w = +f, the minor axis), ρ = 0.27 at q = 0.2.
Depth 20, i.e. the [10/10] approximant B(w)/A(w), is measured (against mpmath) at ≤ 2e-12 relative
for q ≥ 0.2 and every t ∈ [0, 2] (1.3e-10 at q = 0.14, 6e-9 at q = 0.1); the Taylor series would
need ~60 terms for the same. A and B are built once per parameter set from the g's (scalar work),
so each pixel pays two degree-10 complex Horner sweeps and one complex division, with a fixed
cost that `vmap` and `grad` see as plain arithmetic. (Their zeros lie on the cut, so neither
vanishes for |w| < 1; the monomial form loses ~1e-13 to round-off at q = 0.2, measured.)

Potential (TM15 eq. 15): ψ is homogeneous of degree 2 − t, so ψ = (Δx α_x + Δy α_y)/(2 − t)
(infinite at γ = 3, the point-mass limit, where only the deflection stays finite).
Hessian (TM15 eq. 17, corrected version): α is homogeneous of degree 1 − t, so Euler's relation
z ∂α/∂z + z* ∂α/∂z* = (1 − t) α together with ψ_xx + ψ_yy = 2κ gives the shear
    γ₁ + iγ₂ = ((1 − t) α − κ z) / z*,   ψ_xx = κ + γ₁, ψ_yy = κ − γ₁, ψ_xy = γ₂,
in any frame, exact and at the cost of the deflection.

Centre: |u| and r are floored at 1e-12 arcsec (as the SIE floors r; 1e-6 in float32, where the
derivatives at 1e-12 would overflow), so at Δx = Δy = 0 the deflection is 0 (u = 0), the potential
0, κ and the hessian finite (huge for γ near 3), and every parameter gradient finite; those with
respect to θ_E, γ, e1, e2 are exactly 0 there.
Domain: 1 ≤ γ ≤ 3 (γ = 1: uniform sheet κ = 1; γ = 3: point-mass deflection, κ = 0, ψ infinite)
and |e| < 1; accuracy as above for q ≥ 0.2 (|e| ≤ 2/3), degrading slowly below.
The arithmetic is complex (jnp complex dtype), which fuses into fewer XLA loops than real pairs.
"""

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.profile import MassProfile

from . import params_epl

_TINY = 1e-12  # floor on |u| and r, arcsec (float64): avoids 0/0 at the centre
# in float32 the derivatives at the floor (∝ |u|^-4 and |u|^(−t−2), up to 1e48 at 1e-12) would
# overflow; at 1e-6 they stay below 1e24
_TINY_FLOAT32 = 1e-6
_DEPTH = 20  # continued-fraction depth = [10/10] Padé approximant (module docstring)
_LOG_FLOOR = 1e-300  # floor on θ_E² s², so that θ_E = 0 gives α = 0 rather than NaN


def _cf_coefficients(t, depth=_DEPTH):
    """g₁ … g_depth of the Gauss continued fraction of ₂F₁(1, t/2; 2 − t/2; w), stacked on a
    leading axis; all > 0 for 0 ≤ t ≤ 2 (g₁ is written as t/(4−t) so that it stays finite at
    t = 2, where c = 0). Array arithmetic, so that the traced program stays small."""
    b, c = 0.5 * t, 1.0 - 0.5 * t
    n = np.arange(1, depth // 2 + 1, dtype=float).reshape((-1,) + (1,) * np.ndim(t))
    even = n * (c + n - b) / ((c + 2 * n - 1) * (c + 2 * n))  # g_{2n}, n = 1 … depth/2
    n = n[:-1]
    odd = (c + n) * (b + n) / ((c + 2 * n) * (c + 2 * n + 1))  # g_{2n+1}, n = 1 … depth/2 − 1
    pairs = jnp.stack([even[:-1], odd], axis=1).reshape((-1,) + jnp.shape(t))
    return jnp.concatenate([(t / (4.0 - t))[None], pairs, even[-1:]])


def pade_coefficients(t, depth=_DEPTH):
    """Coefficients (low order first, on a leading axis of length depth/2 + 1, then t's shape) of
    the numerator B and denominator A of the depth-th convergent B(w)/A(w) of
    F(w) = ₂F₁(1, t/2; 2 − t/2; w).

    Wallis' recurrence for 1 + a₁/(1 + a₂/(1 + …)) with a_j = −g_j w, applied to coefficient
    vectors: A_j = A_{j−1} − g_j w A_{j−2} (A_{−1} = A_0 = 1), the same for B (B_{−1} = 0,
    B_0 = 1); that continued fraction is 1/F, so F = B/A.

    This is scalar work, once per parameter set, and it runs as a fixed-length ``lax.scan``: the
    same arithmetic unrolled made the compiled program 3× slower to build (measured: deflection
    2.8 → 1.0 s, its gradient 6.5 → 2.4 s) for no difference at run time. No loop touches the
    pixels."""
    t = jnp.asarray(t, float)
    g = _cf_coefficients(t, depth)
    size = depth // 2 + 1
    unit = jnp.zeros((2, size) + t.shape).at[:, 0].set(1.0)
    pad = jnp.zeros((2, 1) + t.shape)

    def step(state, g_j):
        prev, cur = state  # rows (A, B) at j − 2 and j − 1
        shifted = jnp.concatenate([pad, prev[:, :-1]], axis=1)  # w · (A_{j−2}, B_{j−2})
        return (cur, cur - g_j * shifted), None

    # (A_{−1}, B_{−1}) = (1, 0), (A_0, B_0) = (1, 1)
    (_, cur), _ = jax.lax.scan(step, (unit.at[1, 0].set(0.0), unit), g)
    return cur[1], cur[0]


def _horner(c, w):
    """Σ_j c_j w^j for real coefficients c (leading axis, low order first) and complex w."""
    p = c[-1] * w + c[-2]
    for j in range(len(c) - 3, -1, -1):
        p = p * w + c[j]
    return p


def _horner_with_derivative(c, w):
    """(p(w), p'(w)) for p(w) = Σ_j c_j w^j: Horner's rule for both together."""
    p, q = c[-1] * w + c[-2], c[-1]
    for j in range(len(c) - 3, -1, -1):
        p, q = p * w + c[j], q * w + p
    return p, q


@jax.custom_jvp
def hyp2f1_pade(t, w):
    """F(w) = ₂F₁(1, t/2; 2 − t/2; w) as its [10/10] Padé approximant N(w)/D(w), w complex.

    The derivative rule is analytic (below), so reverse mode stores F' and ∂F/∂t per pixel instead
    of every Horner step (measured: value_and_grad of the deflection ~3× faster than autodiff
    through the sweeps)."""
    num, den = pade_coefficients(t)
    return _horner(num, w) / _horner(den, w)


@hyp2f1_pade.defjvp
def _hyp2f1_pade_jvp(primals, tangents):
    # F = N/D: Ḟ = ∂F/∂t ṫ + F'(w) ẇ with ∂F/∂t = (N_t − F D_t)/D and F' = (N' − F D')/D, where
    # N_t, D_t are the polynomials whose coefficients are ∂/∂t of N's and D's (scalar work, pushed
    # forward once per parameter set). Both factors are computed here, outside the tangent, so
    # the linear map that reverse mode transposes is two multiplications with stored arrays.
    t, w = primals
    t_dot, w_dot = tangents
    (num, den), (num_t, den_t) = jax.jvp(pade_coefficients, (t,), (jnp.ones_like(t),))
    n, n_w = _horner_with_derivative(num, w)
    d, d_w = _horner_with_derivative(den, w)
    inv_d = 1.0 / d
    f = n * inv_d
    f_t = (_horner(num_t, w) - f * _horner(den_t, w)) * inv_d
    f_w = (n_w - f * d_w) * inv_d
    return f, f_t * t_dot + f_w * w_dot


def _floor_squared(x):
    """The squared radius floor for x's precision."""
    tiny = _TINY if jnp.finfo(jnp.result_type(x)).bits == 64 else _TINY_FLOAT32
    return tiny * tiny


def _deflection_and_power(dx, dy, theta_E, t, e1, e2):
    """Complex deflection α = α_x + i α_y and P = (θ_E s / |u|)^t, so that κ = (2 − t)/2 · P
    (module docstring).

    Complex arithmetic: besides being the paper's notation, it measured ~25% faster under ``vmap``
    than the same sums written in real pairs (XLA fuses the complex ops into fewer loops)."""
    z = dx + 1j * dy
    eps = e1 + 1j * e2
    # u = z − ε z*: the major-axis-stretched position, rotated back to the sky
    u = z - eps * jnp.conj(z)
    rho2 = jnp.maximum(jnp.real(u) ** 2 + jnp.imag(u) ** 2, _floor_squared(dx))
    # one log and one exp per pixel for the power law; the parameter part is a scalar
    log_b2 = jnp.log(jnp.maximum(theta_E * theta_E * (1.0 - e1 * e1 - e2 * e2), _LOG_FLOOR))
    power = jnp.exp(0.5 * t * (log_b2 - jnp.log(rho2)))
    # w = −ε* u²/|u|² (|w| = |ε|; 0 at the centre, where u = 0). Not via u·rsqrt(|u|²), which
    # would avoid |u|^-4 in the derivatives but made the whole deflection ~2× slower on XLA CPU
    w = -jnp.conj(eps) * (u * u) * (1.0 / rho2)
    return power * u * hyp2f1_pade(t, w), power


def _epl_shear(dx, dy, t, alpha, kappa):
    """TM15 eq. 17 (Euler's relation, module docstring): γ₁ + iγ₂ = ((1 − t) α − κ z)/z*
    = ((1 − t) α z − κ z²)/|z|², |z| floored (0 at the centre)."""
    z = dx + 1j * dy
    inv_r2 = 1.0 / jnp.maximum(dx * dx + dy * dy, _floor_squared(dx))
    return ((1.0 - t) * alpha - kappa * z) * z * inv_r2


def _prepare(x, y, center_x, center_y):
    x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
    return x - center_x, y - center_y


def epl_deflection(x, y, theta_E, gamma, e1, e2, center_x, center_y):
    """EPL deflection (α_x, α_y) in arcsec."""
    dx, dy = _prepare(x, y, center_x, center_y)
    alpha, _ = _deflection_and_power(dx, dy, theta_E, gamma - 1.0, e1, e2)
    return jnp.real(alpha), jnp.imag(alpha)


class EPL(MassProfile):
    """Elliptical power law (Tessore & Metcalf 2015), lenstronomy's θ_E, γ, e1, e2 (arcsec);
    κ = (3−γ)/2 (θ_E/√(q x'² + y'²/q))^(γ−1). See the module docstring for the method."""

    params = params_epl.EPL
    reference = "Tessore & Metcalf (2015), A&A 580, A79, eqs. 2, 5, 15, 17, 22-23"

    def deflection(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        return epl_deflection(x, y, theta_E, gamma, e1, e2, center_x, center_y)

    def potential(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        dx, dy = _prepare(x, y, center_x, center_y)
        t = gamma - 1.0
        alpha, _ = _deflection_and_power(dx, dy, theta_E, t, e1, e2)
        # TM15 eq. 15: ψ is homogeneous of degree 2 − t, so ψ = Δx·α / (2 − t)
        return (dx * jnp.real(alpha) + dy * jnp.imag(alpha)) / (2.0 - t)

    def convergence(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        dx, dy = _prepare(x, y, center_x, center_y)
        t = gamma - 1.0
        # |u|² = (1 − |ε|²)(q x'² + y'²/q) as a polynomial in e1, e2 (module docstring)
        ux = (1.0 - e1) * dx - e2 * dy
        uy = (1.0 + e1) * dy - e2 * dx
        rho2 = jnp.maximum(ux * ux + uy * uy, _floor_squared(dx))
        b2 = jnp.maximum(theta_E * theta_E * (1.0 - e1 * e1 - e2 * e2), _LOG_FLOOR)
        return 0.5 * (2.0 - t) * jnp.exp(0.5 * t * (jnp.log(b2) - jnp.log(rho2)))

    def hessian(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0):
        dx, dy = _prepare(x, y, center_x, center_y)
        t = gamma - 1.0
        alpha, power = _deflection_and_power(dx, dy, theta_E, t, e1, e2)
        kappa = 0.5 * (2.0 - t) * power
        shear = _epl_shear(dx, dy, t, alpha, kappa)
        return kappa + jnp.real(shear), jnp.imag(shear), jnp.imag(shear), kappa - jnp.real(shear)


# -- EPL + circular m = 3 and m = 4 multipoles (lenstronomy's EPL_MULTIPOLE_M3M4) ----------------
def _axis_angle_and_scale(theta_E, e1, e2):
    """lenstronomy's φ = ½ atan2(e2, e1) and θ_E/√q, with finite gradients at e1 = e2 = 0.

    The multipoles are oriented relative to the EPL's major axis, an angle that is undefined at
    e = 0 (lenstronomy then takes φ = 0, q = 1). Double where: the angle and |e| are evaluated on
    (1, 0) there, so no NaN from atan2 or √ at the origin leaks into the gradient, which is 0 there
    (the convention itself, not the code, makes the orientation jump across e = 0)."""
    e_sq = e1 * e1 + e2 * e2
    round_ = e_sq == 0.0
    safe_e1 = jnp.where(round_, 1.0, e1)
    safe_e2 = jnp.where(round_, 0.0, e2)
    phi = jnp.where(round_, 0.0, 0.5 * jnp.arctan2(safe_e2, safe_e1))
    e = jnp.where(round_, 0.0, jnp.sqrt(safe_e1 * safe_e1 + safe_e2 * safe_e2))
    # θ_E/√q, q = (1 − e)/(1 + e)
    return phi, theta_E * jnp.sqrt((1.0 + e) / (1.0 - e))


def _multipole(z_hat, inv_r, r, m, a_m, phi_m):
    """Isothermal circular multipole of order m ≥ 2 (Xu et al. 2013, eq. B12; lenstronomy's
    ``MULTIPOLE`` with r_E = 1): ψ = a_m r cos(m(θ − φ_m))/(1 − m²).

    With ẑ = e^{iθ} and e^{im(θ−φ_m)} = C + iS: ψ = A r C (A = a_m/(1 − m²)),
    α = A ẑ (C − i m S), ψ_xx = a_m C sin²θ / r, ψ_yy = a_m C cos²θ / r, ψ_xy = −a_m C sinθ cosθ / r
    (the radial second derivative vanishes: ψ is homogeneous of degree one), κ = a_m C/(2r).
    Returns (ψ, α complex, (f_xx, f_xy, f_yy), κ); ẑ = 0 at the centre, so all are 0 there."""
    z_m = z_hat * z_hat * z_hat if m == 3 else (z_hat * z_hat) * (z_hat * z_hat)
    rot = z_m * (jnp.cos(m * phi_m) - 1j * jnp.sin(m * phi_m))
    c, s = jnp.real(rot), jnp.imag(rot)
    amp = a_m / (1.0 - m * m)
    cos_t, sin_t = jnp.real(z_hat), jnp.imag(z_hat)
    curvature = a_m * c * inv_r
    hess = (curvature * sin_t * sin_t, -curvature * sin_t * cos_t, curvature * cos_t * cos_t)
    return amp * r * c, amp * z_hat * (c - 1j * m * s), hess, 0.5 * curvature


class EPLMultipoleM3M4(MassProfile):
    """EPL plus circular isothermal multipoles of order 3 and 4, lenstronomy's
    ``EPL_MULTIPOLE_M3M4`` (Van de Vyvere et al. 2022, A&A 659, A127): the multipole amplitudes
    are a_m = a{m}_a · θ_E/√q and their angles φ_m = φ + delta_phi_m{m}, φ the EPL's major axis
    angle (radians, counter-clockwise from +x). Angles in arcsec. Exact as written only for q = 1
    (the multipoles are circular), as in lenstronomy; at e1 = e2 = 0 the orientation is φ = 0."""

    params = params_epl.EPL_MULTIPOLE_M3M4
    reference = ("Tessore & Metcalf (2015), A&A 580, A79 (EPL); Xu et al. (2013), "
                 "arXiv:1307.4220, eq. B12 (multipoles); "
                 "Van de Vyvere et al. (2022), A&A 659, A127")

    def _parts(self, x, y, theta_E, gamma, e1, e2, center_x, center_y, a3_a, delta_phi_m3,
               a4_a, delta_phi_m4):
        dx, dy = _prepare(x, y, center_x, center_y)
        t = gamma - 1.0
        alpha, power = _deflection_and_power(dx, dy, theta_E, t, e1, e2)
        phi, rescale = _axis_angle_and_scale(theta_E, e1, e2)
        r = jnp.sqrt(jnp.maximum(dx * dx + dy * dy, _floor_squared(dx)))
        inv_r = 1.0 / r
        z_hat = (dx + 1j * dy) * inv_r
        m3 = _multipole(z_hat, inv_r, r, 3, a3_a * rescale, phi + delta_phi_m3)
        m4 = _multipole(z_hat, inv_r, r, 4, a4_a * rescale, phi + delta_phi_m4)
        return dx, dy, t, alpha, power, m3, m4

    def deflection(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0,
                   a3_a=0.0, delta_phi_m3=0.0, a4_a=0.0, delta_phi_m4=0.0):
        _, _, _, alpha, _, m3, m4 = self._parts(x, y, theta_E, gamma, e1, e2, center_x,
                                                      center_y, a3_a, delta_phi_m3, a4_a,
                                                      delta_phi_m4)
        total = alpha + m3[1] + m4[1]
        return jnp.real(total), jnp.imag(total)

    def potential(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0,
                  a3_a=0.0, delta_phi_m3=0.0, a4_a=0.0, delta_phi_m4=0.0):
        dx, dy, t, alpha, _, m3, m4 = self._parts(x, y, theta_E, gamma, e1, e2, center_x,
                                                        center_y, a3_a, delta_phi_m3, a4_a,
                                                        delta_phi_m4)
        epl = (dx * jnp.real(alpha) + dy * jnp.imag(alpha)) / (2.0 - t)
        return epl + m3[0] + m4[0]

    def convergence(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0,
                    a3_a=0.0, delta_phi_m3=0.0, a4_a=0.0, delta_phi_m4=0.0):
        _, _, t, _, power, m3, m4 = self._parts(x, y, theta_E, gamma, e1, e2, center_x,
                                                      center_y, a3_a, delta_phi_m3, a4_a,
                                                      delta_phi_m4)
        return 0.5 * (2.0 - t) * power + m3[3] + m4[3]

    def hessian(self, x, y, theta_E, gamma, e1=0.0, e2=0.0, center_x=0.0, center_y=0.0,
                a3_a=0.0, delta_phi_m3=0.0, a4_a=0.0, delta_phi_m4=0.0):
        dx, dy, t, alpha, power, m3, m4 = self._parts(
            x, y, theta_E, gamma, e1, e2, center_x, center_y, a3_a, delta_phi_m3, a4_a,
            delta_phi_m4)
        kappa = 0.5 * (2.0 - t) * power
        shear = _epl_shear(dx, dy, t, alpha, kappa)
        fxx = kappa + jnp.real(shear) + m3[2][0] + m4[2][0]
        fxy = jnp.imag(shear) + m3[2][1] + m4[2][1]
        fyy = kappa - jnp.real(shear) + m3[2][2] + m4[2][2]
        return fxx, fxy, fxy, fyy
