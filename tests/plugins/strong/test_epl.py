"""EPL against lenstronomy's ``EPL`` and JAXtronomy's ``EPL`` (computed here, at test time), against
mpmath's ₂F₁, against its own second-order expansion in (e1, e2), against lensframe's SIE at γ = 2,
and against itself (potential gradient, autodiff hessian, finite differences of the gradients);
EPL_MULTIPOLE_M3M4 against lenstronomy's.

lenstronomy's EPL evaluates ₂F₁ with scipy's complex ``hyp2f1``, measured here at ≤ 3e-15 relative
to mpmath over |w| ≤ 2/3, and its hessian with the same closed form (TM15 eq. 17), so it is a
round-off-level reference off the centre: the tolerances below are set by lensframe's Padé
approximant (measured ≤ 2e-12 at q = 0.2) with a ~50× margin. lenstronomy floors R at 1e-9 (α) and
1e-8 (κ) arcsec and zeroes non-finite values, so the centre itself is tested on lensframe alone.

Parameters are passed as (draws, 1) columns and coordinates as (draws, points) arrays, so one
compiled call evaluates every parameter draw on its own points.
"""

from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe.testing import parameter_jvps  # noqa: E402
from lensframe.testing import ellipticity, reference_quantities  # noqa: E402
from lensframe.testing import param_columns as column  # noqa: E402
from lensframe.testing import points_around  # noqa: E402
from lensframe.testing import param_row as row  # noqa: E402
from lensframe.testing import profile_quantities as lensframe_eval  # noqa: E402
from lenstronomy.LensModel.lens_model import LensModel  # noqa: E402

from lensframe_strong.epl import hyp2f1_pade  # noqa: E402

EPL_PARAMS = ("theta_E", "gamma", "e1", "e2", "center_x", "center_y")
Q_MIN = 0.2
E_MAX = (1 - Q_MIN) / (1 + Q_MIN)
GAMMA_RANGE = (1.2, 2.9)  # where the accuracy requirement is stated
GAMMA_BOUNDS = (1.0, 3.0)  # the ParamSpec's range
ALPHA_RTOL = 1e-10  # relative deflection error allowed (requirement 1e-8; measured 2e-12)


@pytest.fixture(scope="module")
def epl():
    return lensframe.get_profile("EPL")


# -- helpers -------------------------------------------------------------------------------------
def draw_epl(rng, n):
    """n parameter sets, θ_E ∈ [0.3, 3], γ ∈ [1.2, 2.9], q ∈ [0.2, 1], random angle and centre.
    The first 12 are at q = 0.2 (γ cycling through 1.2, 2.0, 2.9); the next 4 round (e = 0);
    the next 8 at the γ bounds of the accuracy range."""
    q = rng.uniform(Q_MIN, 1.0, n)
    gamma = rng.uniform(*GAMMA_RANGE, n)
    q[:12] = Q_MIN
    gamma[:12] = np.resize([GAMMA_RANGE[0], 2.0, GAMMA_RANGE[1]], 12)
    q[12:16] = 1.0
    gamma[16:24] = np.resize(GAMMA_RANGE, 8)
    e1, e2 = ellipticity(q, rng.uniform(0.0, np.pi, n))
    return {"theta_E": rng.uniform(0.3, 3.0, n), "gamma": gamma, "e1": e1, "e2": e2,
            "center_x": rng.uniform(-0.5, 0.5, n), "center_y": rng.uniform(-0.5, 0.5, n)}


def draw_at(rng, gammas, es, angles):
    """One draw per (γ, |e|, angle) combination, θ_E and centre random."""
    g, e, a = (m.ravel() for m in np.meshgrid(gammas, es, angles, indexing="ij"))
    n = len(g)
    return {"theta_E": rng.uniform(0.3, 3.0, n), "gamma": g, "e1": e * np.cos(a),
            "e2": e * np.sin(a), "center_x": rng.uniform(-0.5, 0.5, n),
            "center_y": rng.uniform(-0.5, 0.5, n)}


def awkward_points(draws):
    """Per draw: exactly its centre, then 16 points from r = 1e-3 to 4 arcsec, including both
    axes of the ellipse (where w = ±|e|, the slowest and fastest convergence of the series)."""
    phi0 = 0.5 * np.arctan2(draws["e2"], draws["e1"])[:, None]
    t = np.concatenate([phi0 + np.array([0.0, 0.5 * np.pi, np.pi, 1.5 * np.pi]),
                        np.broadcast_to(np.linspace(0.2, 6.0, 12), (len(phi0), 12))], axis=1)
    r = np.concatenate([[1.0, 0.7, 1e-3, 4.0], np.geomspace(1e-3, 4.0, 12)])
    x = draws["center_x"][:, None] + r * np.cos(t)
    y = draws["center_y"][:, None] + r * np.sin(t)
    return (np.concatenate([draws["center_x"][:, None], x], 1),
            np.concatenate([draws["center_y"][:, None], y], 1))


def lenstronomy_eval(x, y, draws):
    """potential, (α_x, α_y), hessian (4, draws, points) and kappa from lenstronomy's EPL."""
    with np.errstate(all="ignore"):
        return reference_quantities(LensModel(["EPL"]), x, y, draws)


def rel_alpha_error(ours, ref):
    return np.hypot(*(ours["alpha"] - ref["alpha"])) / np.hypot(*ref["alpha"])


def near_round_deflection(dx, dy, theta_E, gamma, e1, e2):
    """Second-order expansion of the EPL deflection in (e1, e2), derived independently of the
    Padé/hypergeometric route (numpy).

    ψ = r^(2−t) G(φ) with ∇²ψ = 2κ gives (2−t)² G + G'' = (2−t) θ_E^t S^(−t/2), where
    κ = (2−t)/2 θ_E^t r^(−t) S^(−t/2) and S = (1 + e² − 2ε)/(1 − e²), ε = e1 cos 2φ + e2 sin 2φ.
    To second order S^(−t/2) = 1 + t(t−2)e²/4 + t ε + t(t+2)/4 · E4, E4 = (e1² − e2²) cos 4φ +
    2 e1 e2 sin 4φ; solving harmonic by harmonic (G_k = a_k (2−t)/((2−t)² − k²)):
    G/θ_E^t = 1/(2−t) − t e²/4 − (2−t)/(4−t) ε − t(2−t)/(4(6−t)) E4. At t = 1 this is the SIE's
    expansion in isothermal.py. α = r^(1−t) [(2−t) G r̂ + G'(φ) φ̂]; error O(e³).
    """
    t = gamma - 1.0
    r = np.hypot(dx, dy)
    u, v = dx / r, dy / r
    c2, s2 = u * u - v * v, 2 * u * v
    c4, s4 = c2 * c2 - s2 * s2, 2 * c2 * s2
    m2, n2 = e1 * e1 - e2 * e2, 2 * e1 * e2
    g2 = -(2 - t) / (4 - t)
    g4 = -t * (2 - t) / (4 * (6 - t))
    # (2 − t) G, written without dividing by 2 − t (finite at γ = 3)
    g_times = (1 - (2 - t) * t * (e1 * e1 + e2 * e2) / 4
               + (2 - t) * (g2 * (e1 * c2 + e2 * s2) + g4 * (m2 * c4 + n2 * s4)))
    d_g = g2 * 2 * (e2 * c2 - e1 * s2) + g4 * 4 * (n2 * c4 - m2 * s4)
    scale = theta_E**t * r ** (1 - t)
    radial, tangential = scale * g_times, scale * d_g
    return radial * u - tangential * v, radial * v + tangential * u


# -- the ₂F₁ approximant itself -----------------------------------------------------------------
def test_pade_approximant_matches_mpmath():
    """F(w) = ₂F₁(1, t/2; 2 − t/2; w) on |w| = 2/3 (q = 0.2) for t over the whole domain [0, 2],
    including w = +2/3 (the minor axis, slowest convergence); measured ≤ 2e-12."""
    t = np.array([0.0, 0.2, 0.5, 1.0, 1.3, 1.7, 1.9, 1.99, 2.0])
    chi = np.linspace(0.0, np.pi, 13)
    w = E_MAX * np.exp(1j * chi)
    tt, ww = np.meshgrid(t, w, indexing="ij")
    exact = np.array([[complex(mpmath.hyp2f1(1, a / 2, 2 - a / 2, z)) for a, z in zip(ta, wa)]
                      for ta, wa in zip(tt, ww)])
    ours = np.asarray(jax.jit(hyp2f1_pade)(jnp.asarray(t)[:, None], jnp.asarray(ww)))
    err = np.abs(ours - exact) / np.abs(exact)
    assert err.max() < 1e-11, err.max()


def test_pade_derivatives_match_mpmath():
    """The custom derivative rule: F'(w) = (t/2)/(2 − t/2) ₂F₁(2, 1 + t/2; 3 − t/2; w) and ∂F/∂t
    (mpmath's numerical derivative) at q = 0.2; holomorphic, so ∂F/∂wr = F' and ∂F/∂wi = i F'."""
    t = np.array([0.3, 1.0, 1.8])
    w = E_MAX * np.exp(1j * np.array([0.0, 1.0, 2.5, np.pi]))
    tt, ww = (a.ravel() for a in np.meshgrid(t, w, indexing="ij"))

    @jax.jit
    def partials(t, w):
        one, zero = jnp.ones_like(t), jnp.zeros_like(t)
        return [jax.jvp(hyp2f1_pade, (t, w), tangent)[1]
                for tangent in ((zero, one + 0j), (zero, 1j * one), (one, zero + 0j))]

    d_wr, d_wi, d_t = map(np.asarray, partials(jnp.asarray(tt), jnp.asarray(ww)))
    fprime = np.array([complex((a / 2) / (2 - a / 2) * mpmath.hyp2f1(2, 1 + a / 2, 3 - a / 2, z))
                       for a, z in zip(tt, ww)])
    f_t = np.array([complex(mpmath.diff(lambda s: mpmath.hyp2f1(1, s / 2, 2 - s / 2, z), a))
                    for a, z in zip(tt, ww)])
    np.testing.assert_allclose(d_wr, fprime, rtol=1e-10)
    np.testing.assert_allclose(d_wi, 1j * fprime, rtol=1e-10)
    assert np.max(np.abs(d_t - f_t) / np.maximum(np.abs(f_t), 1.0)) < 1e-10


def test_reference_hypergeometric_is_accurate():
    """The reference itself: lenstronomy's EPL calls scipy.special.hyp2f1 on complex arguments;
    against mpmath on |w| ≤ 2/3 it is at round-off (measured ≤ 3e-15), so the comparisons below
    measure lensframe's error, not lenstronomy's."""
    from scipy.special import hyp2f1

    rng = np.random.default_rng(2)
    t = rng.uniform(0.2, 1.9, 200)
    w = rng.uniform(0.0, E_MAX, 200) * np.exp(1j * rng.uniform(0.0, 2 * np.pi, 200))
    w[:50] = E_MAX * np.exp(1j * rng.uniform(0.0, 2 * np.pi, 50))
    exact = np.array([complex(mpmath.hyp2f1(1, a / 2, 2 - a / 2, z)) for a, z in zip(t, w)])
    err = np.abs(hyp2f1(1, t / 2, 2 - t / 2, w) - exact) / np.abs(exact)
    assert err.max() < 1e-13, err.max()


# -- EPL against lenstronomy at random draws -------------------------------------------------------
@pytest.fixture(scope="module")
def epl_random(epl):
    rng = np.random.default_rng(20261123)
    draws = draw_epl(rng, 250)
    x, y = points_around(rng, draws, 24, 1e-3, 5.0)
    return draws, x, y, lensframe_eval(epl, x, y, draws), lenstronomy_eval(x, y, draws)


def test_deflection_matches_lenstronomy(epl_random):
    draws, _, _, ours, ref = epl_random
    err = rel_alpha_error(ours, ref)
    assert err.max() < ALPHA_RTOL, err.max()
    # the most elongated draws (q = 0.2) included, at both ends of the γ range
    assert err[:12].max() < ALPHA_RTOL


def test_potential_matches_lenstronomy(epl_random):
    _, _, _, ours, ref = epl_random
    np.testing.assert_allclose(ours["pot"], ref["pot"], rtol=ALPHA_RTOL, atol=0)


def test_hessian_and_convergence_match_lenstronomy(epl_random):
    draws, x, y, ours, ref = epl_random
    np.testing.assert_allclose(ours["kappa"], ref["kappa"], rtol=1e-12, atol=0)
    # lenstronomy's hessian is the same closed form (TM15 eq. 17) in the frame of the ellipse;
    # relative to the hessian's scale |α|/r (κ alone is only (2 − t)/2 of it: 0.05 at γ = 2.9)
    r = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])
    scale = np.hypot(*ref["alpha"]) / r
    assert np.max(np.abs(ours["hess"] - ref["hess"]) / scale) < ALPHA_RTOL


def test_convergence_is_half_trace_and_hessian_symmetric(epl_random):
    _, _, _, ours, _ = epl_random
    fxx, fxy, fyx, fyy = ours["hess"]
    np.testing.assert_allclose(ours["kappa"], 0.5 * (fxx + fyy), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(fxy, fyx)


def test_deflection_matches_jaxtronomy(epl):
    """JAXtronomy's adaptive series (up to 500 terms) against the fixed [10/10] approximant."""
    from jaxtronomy.LensModel.lens_model import LensModel as JaxLensModel

    rng = np.random.default_rng(8)
    draws = draw_epl(rng, 48)
    x, y = points_around(rng, draws, 24, 1e-3, 5.0)
    model = JaxLensModel(["EPL"])
    alpha = jax.jit(lambda kw, xx, yy: jnp.stack(model.alpha(xx, yy, [kw])))
    ref = np.array([alpha(row(draws, i), x[i], y[i]) for i in range(len(x))])
    ours = lensframe_eval(epl, x, y, draws)
    err = rel_alpha_error(ours, {"alpha": np.moveaxis(ref, 1, 0)})
    assert err.max() < ALPHA_RTOL, err.max()


def test_large_radii(epl):
    rng = np.random.default_rng(4)
    draws = draw_at(rng, [1.2, 2.0, 2.9], [0.0, 0.3, E_MAX], [0.4])
    x, y = points_around(rng, draws, 12, 1e2, 1e4)
    ours = lensframe_eval(epl, x, y, draws)
    ref = lenstronomy_eval(x, y, draws)
    assert rel_alpha_error(ours, ref).max() < ALPHA_RTOL
    np.testing.assert_allclose(ours["pot"], ref["pot"], rtol=ALPHA_RTOL)
    np.testing.assert_allclose(ours["kappa"], ref["kappa"], rtol=1e-12)
    assert np.max(np.abs(ours["hess"] - ref["hess"]) / ref["kappa"]) < ALPHA_RTOL


# -- the awkward places: r = 0, e1 = e2 = 0, q = 0.2, γ at its bounds ----------------------------
AWKWARD_GAMMA = (GAMMA_BOUNDS[0], GAMMA_RANGE[0], 2.0, GAMMA_RANGE[1], GAMMA_BOUNDS[1])
AWKWARD_E = (0.0, 1e-9, 0.3, E_MAX)
AWKWARD_ANGLES = (0.0, 0.7, 2.3)


@pytest.fixture(scope="module")
def epl_awkward(epl):
    draws = draw_at(np.random.default_rng(7), AWKWARD_GAMMA, AWKWARD_E, AWKWARD_ANGLES)
    x, y = awkward_points(draws)
    return draws, x, y, lensframe_eval(epl, x, y, draws), lenstronomy_eval(x, y, draws)


def test_awkward_values_match_lenstronomy_off_the_centre(epl_awkward):
    draws, x, y, ours, ref = epl_awkward
    ours, ref = ({k: v[..., 1:] for k, v in out.items()} for out in (ours, ref))  # off the centre
    err = rel_alpha_error(ours, ref)
    assert err.max() < ALPHA_RTOL, err.max()
    np.testing.assert_allclose(ours["kappa"], ref["kappa"], rtol=1e-12)
    # the hessian relative to |α|/r, its scale also at γ = 3 (point-mass limit, κ = 0)
    r = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])[:, 1:]
    scale = np.hypot(*ref["alpha"]) / r
    assert np.max(np.abs(ours["hess"] - ref["hess"]) / scale) < ALPHA_RTOL
    below_3 = draws["gamma"] < 3.0  # the potential is infinite at γ = 3
    np.testing.assert_allclose(ours["pot"][below_3], ref["pot"][below_3], rtol=ALPHA_RTOL)


def test_values_at_the_centre(epl_awkward):
    draws, _, _, ours, _ = epl_awkward
    # α = 0 exactly at the centre (u = 0): the only finite choice by symmetry
    np.testing.assert_array_equal(ours["alpha"][:, :, 0], 0.0)
    below_3 = draws["gamma"] < 3.0
    np.testing.assert_array_equal(ours["pot"][below_3, 0], 0.0)
    assert np.all(np.isfinite(ours["hess"][:, :, 0])) and np.all(np.isfinite(ours["kappa"][:, 0]))
    # κ ∝ |u|^(1−γ) with |u| floored at 1e-12 arcsec: finite, and the largest value of the draw
    # for 1 < γ < 3 (γ = 1: κ = 1 everywhere; γ = 3: κ = 0 everywhere)
    gamma = draws["gamma"]
    inner = (gamma > 1.0) & (gamma < 3.0)
    assert np.all(ours["kappa"][inner, 0] > np.max(ours["kappa"][inner, 1:], axis=1))
    np.testing.assert_allclose(ours["kappa"][gamma == 1.0], 1.0, rtol=1e-14)
    np.testing.assert_array_equal(ours["kappa"][gamma == 3.0], 0.0)


def test_deflection_is_gradient_of_potential_and_hessian_its_jacobian(epl):
    """The closed-form potential and hessian against autodiff of the deflection and potential."""
    rng = np.random.default_rng(11)
    draws = draw_epl(rng, 60)
    x, y = points_around(rng, draws, 8, 1e-2, 5.0)
    params, xj, yj = column(draws), jnp.asarray(x), jnp.asarray(y)

    @jax.jit
    def check(params, xj, yj):
        alpha = jnp.stack(epl.deflection(xj, yj, **params))
        grad_psi = jnp.stack(jax.grad(lambda a, b: jnp.sum(epl.potential(a, b, **params)),
                                      (0, 1))(xj, yj))
        closed = jnp.stack(epl.hessian(xj, yj, **params))
        auto = jnp.stack(lensframe.profile.MassProfile.hessian(epl, xj, yj, **params))
        return alpha, grad_psi, closed, auto

    alpha, grad_psi, closed, auto = map(np.asarray, check(params, xj, yj))
    # ∇ψ = ∇(Δx·α)/(2 − t) = (α + Jᵀ Δx)/(2 − t): autodiff of the approximant, divided by 2 − t
    # (0.1 at γ = 2.9), so a 1e-12 error in the Jacobian shows as 1e-11; measured 6e-11
    assert np.max(np.hypot(*(grad_psi - alpha)) / np.hypot(*alpha)) < 3e-10
    # the hessian's scale is |α|/r (κ alone → 0 as γ → 3); the closed form is exact for the
    # approximant's α (Euler's relation holds exactly: w does not change with r), autodiff
    # differentiates the approximant's error, ~10× F's; measured 4e-11
    r = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])
    err = np.abs(closed - auto) / (np.hypot(*alpha) / r)
    assert err.max() < 3e-10, err.max()


# -- derivatives: every helper below is used at one shape, 60 draws × 17 points, so that each
# compiles once for the whole file ----------------------------------------------------------------
N_DRAWS, N_POINTS = 60, 17


@partial(jax.jit, static_argnums=0)
def _deflection(profile, params, x, y):
    return jnp.stack(profile.deflection(x, y, **params))


@partial(jax.jit, static_argnums=0)
def _deflection_jvps(profile, params, x, y):
    """∂α/∂p for every parameter p (in the profile's order), stacked on a leading axis: one
    compiled forward-mode pass; the draws are independent, so a tangent of ones gives each its
    own."""
    names = profile.param_names
    return parameter_jvps(lambda p: _deflection(profile, p, x, y), params, names)


@partial(jax.jit, static_argnums=0)
def _weighted_deflection_grad(profile, params, weights, x, y):
    return jax.grad(lambda p: jnp.sum(weights * _deflection(profile, p, x, y)))(params)


def autodiff(profile, draws, x, y):
    """{name: ∂α/∂name (2, draws, points)} in forward mode, with reverse mode checked against it
    through Σ w·α (random w)."""
    assert np.shape(x) == (N_DRAWS, N_POINTS)
    params, x, y = column(draws), jnp.asarray(x), jnp.asarray(y)
    weights = jnp.asarray(np.random.default_rng(0).normal(size=(2, *x.shape)))
    grads = _weighted_deflection_grad(profile, params, weights, x, y)
    jvps = np.asarray(_deflection_jvps(profile, params, x, y))
    out = {}
    for i, name in enumerate(profile.param_names):
        out[name] = jvps[i]
        assert np.all(np.isfinite(out[name])), f"forward-mode d/d{name} not finite"
        assert np.all(np.isfinite(np.asarray(grads[name]))), f"reverse-mode d/d{name} not finite"
        want = np.sum(np.asarray(weights) * out[name], axis=(0, 2))[:, None]
        # 1e-8 as for the SIE comparison: seen 2026-12-06 (jax 0.10.2), reverse and forward
        # mode differ by 4.6e-9 at one draw with |e| ~ 1e-5, next to the near-round series
        np.testing.assert_allclose(grads[name], want, rtol=1e-8,
                                   atol=1e-12 * np.max(np.abs(want)), err_msg=f"d/d{name}")
    return out


def central_differences(profile, draws, x, y, h=1e-6, h_center=1e-7):
    """{name: (α(p + h) − α(p − h)) / 2h}. The centre's step is smaller: points lie down to
    r = 1e-3, where the truncation error goes like (h/r)² (1e-7 balances it against round-off)."""
    params, xj, yj = column(draws), jnp.asarray(x), jnp.asarray(y)
    out = {}
    for name in profile.param_names:
        step = h_center if name.startswith("center") else h
        up = dict(params, **{name: params[name] + step})
        down = dict(params, **{name: params[name] - step})
        fd = _deflection(profile, up, xj, yj) - _deflection(profile, down, xj, yj)
        out[name] = np.asarray(fd) / (2 * step)
    return out


def derivative_errors(profile, draws, x, y, columns=slice(None)):
    """Per parameter and draw: max |autodiff − central difference| over the given point columns and
    both components, relative to the largest of that draw's derivatives and deflections (a
    derivative may vanish identically, e.g. ∂α_y/∂center_x at e2 = 0 or ∂α/∂e at γ = 3, where
    both sides are round-off)."""
    ad = autodiff(profile, draws, x, y)
    fd = central_differences(profile, draws, x, y)
    alpha = np.asarray(_deflection(profile, column(draws), jnp.asarray(x), jnp.asarray(y)))
    alpha = np.max(np.abs(alpha[:, :, columns]), axis=(0, 2))
    errors = {}
    for name in profile.param_names:
        a, f = ad[name][:, :, columns], fd[name][:, :, columns]
        scale = np.maximum(np.max(np.abs(f), axis=(0, 2)), alpha)
        errors[name] = np.max(np.abs(a - f), axis=(0, 2)) / scale
    return errors, ad, fd


def test_gradients_match_finite_differences(epl):
    """Random draws (the first 12 at q = 0.2, at γ = 1.2, 2, 2.9), points from 0.05 to 4 arcsec;
    measured ≤ 2e-7, the differences' own round-off and truncation."""
    rng = np.random.default_rng(21)
    draws = draw_epl(rng, N_DRAWS)
    x, y = points_around(rng, draws, N_POINTS, 5e-2, 4.0)
    errors, _, _ = derivative_errors(epl, draws, x, y)
    for name, err in errors.items():
        assert err.max() < 1e-6, f"d/d{name}: autodiff and finite differences differ by {err.max()}"


@pytest.fixture(scope="module")
def awkward_derivatives(epl):
    """γ ∈ {1, 1.2, 2, 2.9, 3} × |e| ∈ {0, 1e-9, 0.3, 2/3 (q = 0.2)} × three angles, on the centre
    and on points from 1e-3 to 4 arcsec along both axes: autodiff and central differences."""
    draws = draw_at(np.random.default_rng(23), AWKWARD_GAMMA, AWKWARD_E, AWKWARD_ANGLES)
    x, y = awkward_points(draws)
    errors, ad, fd = derivative_errors(epl, draws, x, y, columns=slice(1, None))
    return draws, x, y, errors, ad, fd


def test_gradients_at_awkward_places(awkward_derivatives):
    """Off the centre, autodiff = central differences: a step of 1e-6 in γ or e crosses nothing,
    as the formula is analytic in (e1, e2) through 0 and in γ through both bounds (measured ≤ 2e-7,
    set by the differences' round-off)."""
    errors = awkward_derivatives[3]
    for name, err in errors.items():
        assert err.max() < 1e-6, f"d/d{name}: autodiff and finite differences differ by {err.max()}"


def test_gradients_at_the_centre(epl, awkward_derivatives):
    """At Δx = Δy = 0 every derivative is finite in both modes (checked in autodiff()); α stays 0
    whatever θ_E, γ, e1, e2 are, so those derivatives are exactly 0, as the differences say.
    (∂α/∂centre there is a derivative of a field that diverges at the centre for γ > 2: only
    finiteness is asked of it.) The hessian's and κ's gradients are finite there too."""
    draws, x, y, _, ad, fd = awkward_derivatives
    for name in ("theta_E", "gamma", "e1", "e2"):
        np.testing.assert_array_equal(ad[name][:, :, 0], 0.0, err_msg=name)
        np.testing.assert_array_equal(fd[name][:, :, 0], 0.0, err_msg=name)

    @jax.jit
    def grads(params, x, y):
        def total(p):
            return jnp.sum(jnp.stack(epl.hessian(x, y, **p))) + jnp.sum(epl.convergence(x, y, **p))

        return jax.grad(total)(params)

    centre = grads(column(draws), jnp.asarray(x[:, :1]), jnp.asarray(y[:, :1]))
    assert all(np.all(np.isfinite(np.asarray(v))) for v in centre.values())


# -- near round: no switch, and the right derivatives at e = 0 -----------------------------------
def test_near_round_matches_second_order_expansion(epl):
    """α(e) − α_expansion(e) = O(e³): at |e| ≤ 1e-3 the difference is ≤ ~e³ relative (with a
    round-off floor), at every γ; at e = 0 both are the circular power law."""
    rng = np.random.default_rng(12)
    draws = draw_at(rng, AWKWARD_GAMMA, [0.0, 1e-6, 1e-4, 1e-3], rng.uniform(0, np.pi, 3))
    x, y = points_around(rng, draws, N_POINTS, 1e-2, 4.0)
    ax, ay = np.asarray(_deflection(epl, column(draws), jnp.asarray(x), jnp.asarray(y)))
    p = {k: v[:, None] for k, v in draws.items()}
    bx, by = near_round_deflection(x - p["center_x"], y - p["center_y"], p["theta_E"],
                                   p["gamma"], p["e1"], p["e2"])
    err = np.hypot(ax - bx, ay - by) / np.hypot(bx, by)
    e = np.hypot(draws["e1"], draws["e2"])[:, None]
    assert np.all(err <= 5 * e**3 + 1e-14), np.max(err / (5 * e**3 + 1e-14))


def test_ellipticity_gradient_at_round_equals_first_order_term(epl):
    """∂α/∂e1 and ∂α/∂e2 at e1 = e2 = 0 against the expansion's linear term (a central difference
    of the quadratic expansion, exact because its second-order terms are even in e)."""
    rng = np.random.default_rng(13)
    draws = draw_at(rng, AWKWARD_GAMMA, [0.0], np.zeros(N_DRAWS // len(AWKWARD_GAMMA)))
    x, y = points_around(rng, draws, N_POINTS, 1e-3, 4.0)
    ad = autodiff(epl, draws, x, y)
    p = {k: v[:, None] for k, v in draws.items()}

    def expansion(q):
        return np.array(near_round_deflection(x - q["center_x"], y - q["center_y"], q["theta_E"],
                                              q["gamma"], q["e1"], q["e2"]))

    h = 1e-4
    # relative to |α| as well: at γ = 3 (point mass) α does not depend on e at all
    alpha = np.max(np.abs(expansion(p)), axis=(0, 2), keepdims=True)
    for name in ("e1", "e2"):
        want = (expansion(dict(p, **{name: p[name] + h}))
                - expansion(dict(p, **{name: p[name] - h}))) / (2 * h)
        scale = np.maximum(np.max(np.abs(want), axis=(0, 2), keepdims=True), alpha)
        assert np.max(np.abs(ad[name] - want) / scale) < 1e-9, name


def test_smooth_through_round(epl):
    """No near-round switch exists: α and ∂α/∂e1 move smoothly from e = 0 to 1e-3 (changes bounded
    by O(e), no jump at any |e|), at each γ."""
    rng = np.random.default_rng(33)
    es = np.array([0.0, 1e-15, 1e-14, 1e-12, 1e-10, 1e-8, 1e-7, 1e-6, 1e-5, 3e-5, 1e-4, 1e-3])
    draws = draw_at(rng, AWKWARD_GAMMA, es, [0.9])
    for k in ("theta_E", "center_x", "center_y"):  # within a γ, only e changes
        draws[k] = np.repeat(draws[k][:: len(es)], len(es))
    x, y = points_around(rng, draws, N_POINTS, 1e-2, 4.0)
    x = np.repeat(x[:: len(es)], len(es), 0)
    y = np.repeat(y[:: len(es)], len(es), 0)
    alpha = np.asarray(_deflection(epl, column(draws), jnp.asarray(x), jnp.asarray(y)))
    d_e1 = autodiff(epl, draws, x, y)["e1"]
    shape = (2, len(AWKWARD_GAMMA), len(es), N_POINTS)
    alpha, d_e1 = alpha.reshape(shape), d_e1.reshape(shape)
    a0, d0 = alpha[:, :, :1], d_e1[:, :, :1]  # e = 0 (axes: component, γ, e, point)
    da = np.max(np.hypot(*(alpha - a0)) / np.hypot(*a0), axis=-1)
    scale = np.maximum(np.max(np.hypot(*d0), axis=-1), np.max(np.hypot(*a0), axis=-1))  # (γ, 1)
    dd = np.max(np.hypot(*(d_e1 - d0)), axis=-1) / scale
    assert np.all(da <= 2 * es + 1e-15), da
    assert np.all(dd <= 5 * es + 1e-13), dd


# -- consistency with lensframe's SIE ------------------------------------------------------------
def test_isothermal_epl_equals_sie(epl):
    """γ = 2 against lensframe's SIE (exact arctan/artanh form, with its own near-round series below
    |e| = 1e-5, so the tiny ellipticities here exercise that too): values and parameter
    derivatives."""
    sie = lensframe.get_profile("SIE")
    rng = np.random.default_rng(31)
    es = [0.0, 1e-7, 9.99e-6, 1.001e-5, 2e-5, 1e-3, 0.05, 0.2, 0.5, E_MAX]
    draws = draw_at(rng, [2.0], es, rng.uniform(0.0, np.pi, N_DRAWS // len(es)))
    x, y = points_around(rng, draws, N_POINTS, 1e-3, 5.0)
    sie_draws = {k: v for k, v in draws.items() if k != "gamma"}
    ours = lensframe_eval(epl, x, y, draws)
    ref = lensframe_eval(sie, x, y, sie_draws)
    assert rel_alpha_error(ours, ref).max() < 1e-10
    np.testing.assert_allclose(ours["pot"], ref["pot"], rtol=1e-10)
    np.testing.assert_allclose(ours["kappa"], ref["kappa"], rtol=1e-12)
    assert np.max(np.abs(ours["hess"] - ref["hess"]) / ref["kappa"]) < 1e-10
    ours_d, ref_d = autodiff(epl, draws, x, y), autodiff(sie, sie_draws, x, y)
    for name in sie.param_names:
        scale = np.max(np.abs(ref_d[name]), axis=(0, 2), keepdims=True)
        assert np.max(np.abs(ours_d[name] - ref_d[name]) / scale) < 1e-8, name


# -- EPL_MULTIPOLE_M3M4 ---------------------------------------------------------------------------
MULTIPOLE_PARAMS = ("a3_a", "delta_phi_m3", "a4_a", "delta_phi_m4")


def draw_multipole(rng, n):
    """EPL draws plus lenstronomy's default multipole ranges (|a_m/a| ≤ 0.2, |δφ_3| ≤ π/6,
    |δφ_4| ≤ π/8). Round draws get e1 = e2 = +0.0: lenstronomy orients the multipoles by
    atan2(e2, e1)/2, which at (−0.0, −0.0) is −π/2 instead of 0 (a signed-zero artefact that
    lensframe does not copy: its orientation at e = 0 is 0 for either sign)."""
    draws = draw_epl(rng, n)
    draws["e1"], draws["e2"] = draws["e1"] + 0.0, draws["e2"] + 0.0
    for name, bound in zip(MULTIPOLE_PARAMS, (0.2, np.pi / 6, 0.2, np.pi / 8)):
        draws[name] = rng.uniform(-bound, bound, n)
    return draws


def test_multipole_matches_lenstronomy():
    profile = lensframe.get_profile("EPL_MULTIPOLE_M3M4")
    rng = np.random.default_rng(41)
    draws = draw_multipole(rng, 120)
    x, y = points_around(rng, draws, 24, 1e-3, 5.0)
    ours = lensframe_eval(profile, x, y, draws)
    model = LensModel(["EPL_MULTIPOLE_M3M4"])
    ref = {"alpha": [], "pot": [], "hess": [], "kappa": []}
    for i in range(len(x)):
        kw = [row(draws, i)]
        ref["alpha"].append(model.alpha(x[i], y[i], kw))
        ref["pot"].append(model.potential(x[i], y[i], kw))
        ref["hess"].append(model.hessian(x[i], y[i], kw))
        ref["kappa"].append(model.kappa(x[i], y[i], kw))
    ref = {k: np.array(v) for k, v in ref.items()}
    ref["alpha"], ref["hess"] = np.moveaxis(ref["alpha"], 1, 0), np.moveaxis(ref["hess"], 1, 0)
    # measured 5e-13 (α), 5e-13 (ψ, relative to |α| r: the multipoles make ψ cross zero), 1.3e-13
    # and 1e-14 (hessian and κ relative to the hessian's scale |α|/r: κ may vanish)
    assert rel_alpha_error(ours, ref).max() < ALPHA_RTOL
    r = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])
    alpha = np.hypot(*ref["alpha"])
    assert np.max(np.abs(ours["pot"] - ref["pot"]) / (alpha * r)) < ALPHA_RTOL
    assert np.max(np.abs(ours["hess"] - ref["hess"]) / (alpha / r)) < ALPHA_RTOL
    assert np.max(np.abs(ours["kappa"] - ref["kappa"]) / (alpha / r)) < ALPHA_RTOL
    fxx, fxy, fyx, fyy = ours["hess"]
    np.testing.assert_allclose(ours["kappa"], 0.5 * (fxx + fyy), rtol=1e-12, atol=1e-12)


def test_multipole_without_multipoles_is_the_epl(epl):
    profile = lensframe.get_profile("EPL_MULTIPOLE_M3M4")
    rng = np.random.default_rng(43)
    draws = draw_multipole(rng, N_DRAWS)
    draws["a3_a"][:] = 0.0
    draws["a4_a"][:] = 0.0
    x, y = awkward_points(draws)
    ours = lensframe_eval(profile, x, y, draws)
    plain = lensframe_eval(epl, x, y, {k: draws[k] for k in EPL_PARAMS})
    for key in ours:  # the same numbers, up to the order of the (zero) sums
        np.testing.assert_allclose(ours[key], plain[key], rtol=1e-12, atol=0, err_msg=key)


def test_multipole_gradients():
    """Autodiff = central differences for all ten parameters at random draws (off e = 0, where
    the convention's orientation jumps), and finite gradients in both modes at e1 = e2 = 0 and on
    the centre."""
    profile = lensframe.get_profile("EPL_MULTIPOLE_M3M4")
    rng = np.random.default_rng(47)
    draws = draw_multipole(rng, N_DRAWS)
    draws["e1"][12:16] = 0.05  # draw_epl makes these round
    x, y = points_around(rng, draws, N_POINTS, 5e-2, 4.0)
    errors, _, _ = derivative_errors(profile, draws, x, y)
    for name, err in errors.items():
        assert err.max() < 1e-6, f"d/d{name}: autodiff and finite differences differ by {err.max()}"
    draws["e1"][:], draws["e2"][:] = 0.0, 0.0
    x, y = awkward_points(draws)
    autodiff(profile, draws, x, y)  # asserts finiteness in forward and reverse mode


# -- fixed cost ------------------------------------------------------------------------------------
def _equations(jaxpr):
    """Every equation of a jaxpr, nested ones (custom_jvp, pjit, scan bodies, …) included."""
    for eqn in jaxpr.eqns:
        yield eqn
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _equations(inner)


def test_fixed_cost_per_pixel(epl):
    """A fixed number of terms: no cond or while anywhere, in the value, its gradient or its vmap
    (what made JAXtronomy's adaptive series slow under vmap and grad), and the only loop, the
    scan that builds the Padé coefficients, carries parameter-sized arrays, never the pixels."""
    n_pix = 37  # a size no parameter-shaped array has
    x = jnp.linspace(-1.0, 1.0, n_pix)
    p = dict(theta_E=1.0, gamma=2.1, e1=0.1, e2=-0.2, center_x=0.0, center_y=0.0)
    value = jax.make_jaxpr(lambda p: epl.deflection(x, x, **p))(p)
    grad = jax.make_jaxpr(jax.grad(lambda p: jnp.sum(sum(epl.deflection(x, x, **p)))))(p)
    batched = jax.make_jaxpr(jax.vmap(lambda p: epl.deflection(x, x, **p)))(
        {k: jnp.full(3, v) for k, v in p.items()})
    for jaxpr in (value, grad, batched):
        names = set()
        for eqn in _equations(jaxpr.jaxpr):
            names.add(eqn.primitive.name)
            assert eqn.primitive.name not in ("cond", "while", "select_and_scatter")
            if eqn.primitive.name == "scan":
                shapes = [v.aval.shape for v in (*eqn.invars, *eqn.outvars)]
                assert all(n_pix not in shape for shape in shapes), shapes
        assert "scan" in names  # the walk does see inside the nested jaxprs
