"""SIS and SIE against lenstronomy, against closed forms computed here in numpy, and against
themselves (trace of the hessian, gradient of the potential, finite differences of the gradients).

lenstronomy's SIE is its NIE with a core s_scale = 1e-10 arcsec, its NIE hessian (hence its kappa)
is a one-sided finite difference of the deflection with step 1e-10 arcsec, and at e1 = e2 = 0 it
clamps q to 1 - 1e-8. The tolerances below follow from those three facts (measured figures in the
comments); where lenstronomy is only that accurate, the tight comparison is with a closed form.

Parameters are passed as (draws, 1) columns and coordinates as (draws, points) arrays, so one
compiled call evaluates every parameter draw on its own points.
"""

from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe.testing import parameter_jvps  # noqa: E402
from lensframe.testing import ellipticity  # noqa: E402
from lensframe.testing import param_columns as column  # noqa: E402
from lensframe.testing import points_around  # noqa: E402
from lensframe.testing import param_row as row  # noqa: E402
from lensframe.testing import profile_quantities as lensframe_eval  # noqa: E402
from lensframe.testing import reference_quantities as lenstronomy_eval  # noqa: E402
from lenstronomy.LensModel.lens_model import LensModel  # noqa: E402

S_SCALE = 1e-10  # lenstronomy's SIE core, arcsec
SIE_PARAMS = ("theta_E", "e1", "e2", "center_x", "center_y")
SIS_PARAMS = ("theta_E", "center_x", "center_y")
Q_MIN = 0.2
E_MAX = (1 - Q_MIN) / (1 + Q_MIN)
# |e| where the SIE switches to its series in (e1, e2), and points just either side of it
E_ROUND = 1e-5
AWKWARD_E = (0.0, 1e-7, E_ROUND * (1 - 1e-9), E_ROUND * (1 + 1e-9), 2e-5, E_MAX)
AWKWARD_ANGLES = (0.0, 0.7, 2.3)


@pytest.fixture(scope="module")
def sie():
    return lensframe.get_profile("SIE")


@pytest.fixture(scope="module")
def sis():
    return lensframe.get_profile("SIS")


# -- helpers -------------------------------------------------------------------------------------
def draw_sie(rng, n):
    """n parameter sets; the first 8 at q = 0.2, the most elongated allowed here."""
    q = rng.uniform(Q_MIN, 1.0, n)
    q[:8] = Q_MIN
    e1, e2 = ellipticity(q, rng.uniform(0.0, np.pi, n))
    return {"theta_E": rng.uniform(0.3, 3.0, n), "e1": e1, "e2": e2,
            "center_x": rng.uniform(-0.5, 0.5, n), "center_y": rng.uniform(-0.5, 0.5, n)}


def draw_with_e(rng, e, angles):
    """One draw per (|e|, angle) pair, other parameters random."""
    e = np.repeat(np.asarray(e, float), len(angles))
    angle = np.tile(np.asarray(angles, float), len(e) // len(angles))
    n = len(e)
    return {"theta_E": rng.uniform(0.3, 3.0, n), "e1": e * np.cos(angle),
            "e2": e * np.sin(angle), "center_x": rng.uniform(-0.5, 0.5, n),
            "center_y": rng.uniform(-0.5, 0.5, n)}


def awkward_points(draws):
    """Per draw: exactly its centre, then 13 points from r = 1e-3 to 4 arcsec."""
    t = np.linspace(0.0, 2.0 * np.pi, 13, endpoint=False)
    r = np.concatenate([[0.0], np.geomspace(1e-3, 4.0, 13)])
    t = np.concatenate([[0.0], t])
    return (draws["center_x"][:, None] + r * np.cos(t), draws["center_y"][:, None] + r * np.sin(t))


def analytic_sie(x, y, draws):
    """κ = θ_E / (2 √(q x'² + y'²/q)) by rotation into the major-axis frame (numpy); the hessian
    of any isothermal potential ψ = r F(φ) has ψ_rr = ψ_rφ = 0, so H = 2κ φ̂ φ̂ᵀ. Also q and r."""
    p = {k: np.asarray(v, float)[:, None] for k, v in draws.items()}
    e = np.hypot(p["e1"], p["e2"])
    q = (1.0 - e) / (1.0 + e)
    phi = 0.5 * np.arctan2(p["e2"], p["e1"])
    dx, dy = x - p["center_x"], y - p["center_y"]
    xp = np.cos(phi) * dx + np.sin(phi) * dy
    yp = -np.sin(phi) * dx + np.cos(phi) * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = p["theta_E"] / (2.0 * np.sqrt(q * xp**2 + yp**2 / q))
        r2 = dx * dx + dy * dy
        hess = 2.0 * kappa * np.array([dy * dy, -dx * dy, -dx * dy, dx * dx]) / r2
    return kappa, hess, q, np.sqrt(r2)


def worst(excess):
    """Largest |difference| / tolerance (≤ 1 passes)."""
    return float(np.max(excess))


def lenstronomy_sie_tolerance(draws, x, y, ref):
    """How far lenstronomy's SIE may be from the exact one, for (α, ψ), off the centre.

    Its core s_scale shifts α by ≈ θ_E s_scale / (q r) (measured max |Δα| / that = 1.00, i.e.
    |Δα| up to 1e-7 θ_E at r = 0.01 arcsec) and ψ by the core's −b s ln(...)/2 and x·Δα (measured
    |Δψ| ≤ 0.91 θ_E s_scale (2 + |ln r|) / q); at e1 = e2 = 0 it clamps q to 1 − 1e-8 (measured
    |Δα| ≤ 6.7e-9 θ_E, |Δψ| ≤ 6.7e-9 |ψ|). 2× margins, plus round-off.
    """
    _, _, q, r = analytic_sie(x, y, draws)
    theta_E = draws["theta_E"][:, None]
    round_ = (np.hypot(draws["e1"], draws["e2"]) == 0)[:, None]
    with np.errstate(divide="ignore"):  # r = 0 only at centres, which are compared separately
        alpha = (2 * theta_E * S_SCALE / (q * r) + np.where(round_, 2e-8 * theta_E, 0.0)
                 + 1e-13 * np.hypot(*ref["alpha"]))
        pot = (2 * theta_E * S_SCALE * (2 + np.abs(np.log(r))) / q
               + np.where(round_, 2e-8, 1e-14) * np.abs(ref["pot"]))
    return alpha, pot


# -- SIE against lenstronomy and closed forms at random draws ------------------------------------
@pytest.fixture(scope="module")
def sie_random(sie):
    rng = np.random.default_rng(20261122)
    draws = draw_sie(rng, 250)
    x, y = points_around(rng, draws, 24, 1e-2, 5.0)
    return draws, x, y, lensframe_eval(sie, x, y, draws), lenstronomy_eval(LensModel(["SIE"]),
                                                                            x, y, draws)


def test_sie_deflection_and_potential_match_lenstronomy(sie_random):
    draws, x, y, ours, ref = sie_random
    alpha_tol, pot_tol = lenstronomy_sie_tolerance(draws, x, y, ref)
    assert worst(np.hypot(*(ours["alpha"] - ref["alpha"])) / alpha_tol) <= 1.0
    assert worst(np.abs(ours["pot"] - ref["pot"]) / pot_tol) <= 1.0


def test_sie_hessian_and_convergence_match_lenstronomy(sie_random):
    draws, _, _, ours, ref = sie_random
    theta_E = draws["theta_E"][:, None]
    # lenstronomy's NIE hessian is (α(x + 1e-10) - α(x)) / 1e-10: round-off of α over that step
    # leaves ~1e-6..1e-5 θ_E; measured max 3.7e-5 θ_E (hessian), 1.8e-5 θ_E (its kappa, made from
    # the same hessian). The closed-form test below is the tight one.
    assert worst(np.abs(ours["hess"] - ref["hess"]) / (1e-4 * theta_E)) <= 1.0
    assert worst(np.abs(ours["kappa"] - ref["kappa"]) / (1e-4 * theta_E)) <= 1.0


def test_sie_convergence_and_hessian_match_closed_form(sie_random):
    draws, x, y, ours, _ = sie_random
    kappa, hess, _, _ = analytic_sie(x, y, draws)
    # measured 1.3e-15 (kappa) and 3e-14 (hessian) relative to kappa
    np.testing.assert_allclose(ours["kappa"], kappa, rtol=1e-12, atol=0)
    assert worst(np.abs(ours["hess"] - hess) / (1e-11 * kappa)) <= 1.0


def test_sie_convergence_is_half_trace_and_hessian_symmetric(sie_random):
    _, _, _, ours, _ = sie_random
    fxx, fxy, fyx, fyy = ours["hess"]
    np.testing.assert_allclose(ours["kappa"], 0.5 * (fxx + fyy), rtol=1e-10, atol=0)
    assert worst(np.abs(fxy - fyx) / (1e-10 * ours["kappa"])) <= 1.0


@partial(jax.jit, static_argnums=0)
def _potential_gradient(profile, params, x, y):
    # the potential is elementwise, so the gradient of its sum is the pointwise gradient
    return jnp.stack(jax.grad(lambda xx, yy: jnp.sum(profile.potential(xx, yy, **params)),
                              (0, 1))(x, y))


@pytest.mark.parametrize("name", ["SIE", "SIS"])
def test_deflection_is_gradient_of_potential(name):
    profile = lensframe.get_profile(name)
    rng = np.random.default_rng(11)
    draws = draw_sie(rng, 60)
    if name == "SIS":
        draws = {k: draws[k] for k in SIS_PARAMS}
    x, y = points_around(rng, draws, 8, 1e-2, 5.0)
    params, x, y = column(draws), jnp.asarray(x), jnp.asarray(y)
    grad = _potential_gradient(profile, params, x, y)
    alpha = jnp.stack(profile.deflection(x, y, **params))
    err = jnp.hypot(*(grad - alpha)) / jnp.hypot(*alpha)
    assert float(jnp.max(err)) < 1e-10


# -- SIE at the awkward places -----------------------------------------------------------------
@pytest.fixture(scope="module")
def sie_awkward(sie):
    """|e| ∈ {0, 1e-7, 1e-5 ∓ 1e-14, 2e-5, q = 0.2} × three angles, each on its centre and on
    points from 1e-3 to 4 arcsec."""
    draws = draw_with_e(np.random.default_rng(7), AWKWARD_E, AWKWARD_ANGLES)
    x, y = awkward_points(draws)
    return draws, x, y, lensframe_eval(sie, x, y, draws), lenstronomy_eval(LensModel(["SIE"]),
                                                                            x, y, draws)


def test_sie_at_centre(sie_awkward):
    draws, _, _, ours, ref = sie_awkward
    # both codes give α = 0 exactly at the centre (by symmetry the only finite choice)
    np.testing.assert_array_equal(ours["alpha"][:, :, 0], 0.0)
    np.testing.assert_array_equal(ref["alpha"][:, :, 0], 0.0)
    # ψ(0) = 0; lenstronomy's core gives |ψ(0)| ~ 3e-9
    np.testing.assert_allclose(ours["pot"][:, 0], ref["pot"][:, 0], atol=1e-8)
    assert np.all(np.isfinite(ours["hess"][:, :, 0]))
    assert np.all(ours["kappa"][:, 0] > 1e6)  # κ ∝ 1/r, floored rather than infinite


def test_sie_tiny_and_extreme_ellipticity(sie_awkward):
    draws, x, y, ours, ref = sie_awkward
    kappa, hess, _, _ = analytic_sie(x, y, draws)
    alpha_tol, pot_tol = lenstronomy_sie_tolerance(draws, x, y, ref)
    off = np.s_[:, 1:]  # off the centre
    diff = np.hypot(*(ours["alpha"] - ref["alpha"]))
    for i, (e1, e2) in enumerate(zip(draws["e1"], draws["e2"])):
        where = f"e1={e1:.3g}, e2={e2:.3g}"
        assert worst(diff[i, 1:] / alpha_tol[i, 1:]) <= 1.0, where
        assert worst(np.abs(ours["pot"] - ref["pot"])[i, 1:] / pot_tol[i, 1:]) <= 1.0, where
        np.testing.assert_allclose(ours["kappa"][i, 1:], kappa[i, 1:], rtol=1e-12, err_msg=where)
        assert worst(np.abs(ours["hess"][:, i, 1:] - hess[:, i, 1:])
                     / (1e-11 * kappa[i, 1:])) <= 1.0, where
    np.testing.assert_allclose(ours["kappa"][off], 0.5 * (ours["hess"][0] + ours["hess"][3])[off],
                               rtol=1e-10)


def test_sie_round_equals_sis(sie):
    """At e1 = e2 = 0 the SIE is the SIS, which lenstronomy evaluates in closed form."""
    draws = draw_with_e(np.random.default_rng(3), [0.0], np.zeros(20))
    x, y = awkward_points(draws)
    ours = lensframe_eval(sie, x, y, draws)
    ref = lenstronomy_eval(LensModel(["SIS"]), x, y, {k: draws[k] for k in SIS_PARAMS})
    np.testing.assert_allclose(ours["alpha"], ref["alpha"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ours["pot"], ref["pot"], rtol=1e-13, atol=1e-11)  # ψ(0): r ≥ 1e-12
    # lenstronomy's SIS hessian is exact but set to 0 at r = 0; compare off the centre
    kappa = ref["kappa"][:, 1:]
    assert worst(np.abs(ours["hess"][:, :, 1:] - ref["hess"][:, :, 1:]) / (1e-11 * kappa)) <= 1
    np.testing.assert_allclose(ours["kappa"][:, 1:], kappa, rtol=1e-12)


def test_sie_large_radii(sie):
    q = np.array([1.0, Q_MIN, 0.6, 0.9])
    e1, e2 = ellipticity(q, np.array([0.0, 0.3, 1.9, 2.8]))
    draws = {"theta_E": np.full(4, 1.1), "e1": e1, "e2": e2, "center_x": np.full(4, 0.2),
             "center_y": np.full(4, 0.1)}
    r = np.geomspace(1e2, 1e4, 5)
    t = np.linspace(0.1, 6.0, 15)
    x = 0.2 + (r[:, None] * np.cos(t)).ravel()[None].repeat(4, 0)
    y = 0.1 + (r[:, None] * np.sin(t)).ravel()[None].repeat(4, 0)
    ours = lensframe_eval(sie, x, y, draws)
    ref = lenstronomy_eval(LensModel(["SIE"]), x, y, draws)
    alpha_tol, pot_tol = lenstronomy_sie_tolerance(draws, x, y, ref)
    assert worst(np.hypot(*(ours["alpha"] - ref["alpha"])) / alpha_tol) <= 1.0
    assert worst(np.abs(ours["pot"] - ref["pot"]) / pot_tol) <= 1.0
    kappa, hess, _, _ = analytic_sie(x, y, draws)
    np.testing.assert_allclose(ours["kappa"], kappa, rtol=1e-12)
    assert worst(np.abs(ours["hess"] - hess) / (1e-10 * kappa)) <= 1.0


# -- SIS -----------------------------------------------------------------------------------------
def test_sis_matches_lenstronomy(sis):
    rng = np.random.default_rng(5)
    draws = {k: v for k, v in draw_sie(rng, 250).items() if k in SIS_PARAMS}
    x, y = points_around(rng, draws, 24, 1e-3, 1e4)
    ours = lensframe_eval(sis, x, y, draws)
    ref = lenstronomy_eval(LensModel(["SIS"]), x, y, draws)
    np.testing.assert_allclose(ours["pot"], ref["pot"], rtol=1e-13)
    np.testing.assert_allclose(ours["alpha"], ref["alpha"], rtol=1e-12, atol=1e-14)
    kappa = ref["kappa"]
    assert worst(np.abs(ours["hess"] - ref["hess"]) / (1e-11 * kappa)) <= 1.0
    np.testing.assert_allclose(ours["kappa"], kappa, rtol=1e-12)
    np.testing.assert_allclose(ours["kappa"], 0.5 * (ours["hess"][0] + ours["hess"][3]),
                               rtol=1e-10)


def test_sis_at_centre(sis):
    draws = {"theta_E": np.array([0.8]), "center_x": np.array([0.3]),
             "center_y": np.array([-0.1])}
    x, y = awkward_points(draws)
    ours = lensframe_eval(sis, x, y, draws)
    ref = lenstronomy_eval(LensModel(["SIS"]), x, y, draws)
    np.testing.assert_array_equal(ours["alpha"][:, :, 0], ref["alpha"][:, :, 0])  # both 0
    assert ours["pot"][0, 0] == pytest.approx(ref["pot"][0, 0], abs=1e-11)  # r floored at 1e-12
    assert np.all(np.isfinite(ours["hess"])) and ours["kappa"][0, 0] > 1e6


# -- gradients with respect to the parameters ---------------------------------------------------
@partial(jax.jit, static_argnums=0)
def _deflection(profile, params, x, y):
    return jnp.stack(profile.deflection(x, y, **params))


@partial(jax.jit, static_argnums=(0, 1))
def _deflection_jvps(profile, names, params, x, y):
    """∂α/∂p for every p in names, stacked on a leading axis (one compiled forward-mode pass)."""
    return parameter_jvps(lambda p: _deflection(profile, p, x, y), params, names)


@partial(jax.jit, static_argnums=0)
def _weighted_deflection_grad(profile, params, weights, x, y):
    return jax.grad(lambda p: jnp.sum(weights * _deflection(profile, p, x, y)))(params)


def autodiff(profile, draws, x, y, names):
    """Forward-mode derivatives of α at every point (draws are independent, so a tangent of ones
    gives each draw its own), and reverse mode checked against them through Σ w·α."""
    params, x, y = column(draws), jnp.asarray(x), jnp.asarray(y)
    weights = jnp.asarray(np.random.default_rng(0).normal(size=(2, *x.shape)))
    grads = _weighted_deflection_grad(profile, params, weights, x, y)
    jvps = np.asarray(_deflection_jvps(profile, tuple(names), params, x, y))
    out = {}
    for i, name in enumerate(names):
        out[name] = jvps[i]
        assert np.all(np.isfinite(out[name])), f"forward-mode d/d{name} not finite"
        assert np.all(np.isfinite(np.asarray(grads[name]))), f"reverse-mode d/d{name} not finite"
        want = np.sum(np.asarray(weights) * out[name], axis=(0, 2))[:, None]
        np.testing.assert_allclose(grads[name], want, rtol=1e-9,
                                   atol=1e-12 * np.max(np.abs(want)), err_msg=f"d/d{name}")
    return out


def finite_difference_errors(profile, draws, x, y, names, h=1e-6):
    """Per draw: max |autodiff − central difference| over points and components, relative to the
    largest derivative of that draw and component (a derivative may cross zero)."""
    ad = autodiff(profile, draws, x, y, names)
    params, xj, yj = column(draws), jnp.asarray(x), jnp.asarray(y)
    errors = {}
    for name in names:
        up = dict(params, **{name: params[name] + h})
        down = dict(params, **{name: params[name] - h})
        fd = np.asarray(_deflection(profile, up, xj, yj) - _deflection(profile, down, xj, yj))
        fd = fd / (2 * h)
        scale = np.max(np.abs(fd), axis=-1, keepdims=True)
        errors[name] = np.max(np.abs(ad[name] - fd) / np.where(scale > 0, scale, 1.0), axis=(0, 2))
    return errors


def test_sie_gradients_match_finite_differences(sie):
    rng = np.random.default_rng(21)
    draws = draw_sie(rng, 200)
    x, y = points_around(rng, draws, 10, 5e-2, 4.0)
    for name, err in finite_difference_errors(sie, draws, x, y, SIE_PARAMS).items():
        assert err.max() < 1e-5, f"d/d{name}: autodiff and finite differences differ by {err.max()}"


NEAR_ROUND_E = (0.0, 1e-7, 5e-6, 9.5e-6, E_ROUND * (1 - 1e-9), E_ROUND * (1 + 1e-9), 1.05e-5,
                2e-5)


def test_sie_gradients_near_round_and_across_the_expansion_boundary(sie):
    """Below |e| = 1e-5 the deflection is a series in (e1, e2); a central difference of step 1e-6
    straddles that switch for |e| within 1e-6 of it (9.5e-6 … 1.05e-5 here)."""
    rng = np.random.default_rng(31)
    n_angles = 12
    draws = draw_with_e(rng, NEAR_ROUND_E, rng.uniform(0.0, np.pi, n_angles))
    x, y = points_around(rng, draws, 10, 5e-2, 4.0)
    for name, err in finite_difference_errors(sie, draws, x, y, SIE_PARAMS).items():
        for k, e in enumerate(NEAR_ROUND_E):
            worst_e = err[k * n_angles:(k + 1) * n_angles].max()
            assert worst_e < 1e-5, f"d/d{name} at |e| = {e}: off finite differences by {worst_e}"


def test_sie_deflection_continuous_across_expansion_boundary(sie):
    rng = np.random.default_rng(41)
    angles = np.linspace(0.0, np.pi, 8)
    below = draw_with_e(rng, [E_ROUND * (1 - 1e-12)], angles)
    above = dict(below, **draw_with_e(rng, [E_ROUND * (1 + 1e-12)], angles))
    for k in ("theta_E", "center_x", "center_y"):
        above[k] = below[k]
    x, y = points_around(rng, below, 50, 1e-2, 5.0)
    a_below = np.asarray(_deflection(sie, column(below), jnp.asarray(x), jnp.asarray(y)))
    a_above = np.asarray(_deflection(sie, column(above), jnp.asarray(x), jnp.asarray(y)))
    jump = np.max(np.hypot(*(a_below - a_above)) / np.hypot(*a_above))
    assert jump < 1e-9, f"deflection jumps by {jump:.2e} (relative) at |e| = 1e-5"


def test_sie_gradients_finite_at_centre_round_and_elongated(sie):
    """r = 0 exactly, e1 = e2 = 0 and q = 0.2: every derivative finite in both modes."""
    draws = draw_with_e(np.random.default_rng(9), [0.0, E_MAX], [0.6])
    x, y = awkward_points(draws)
    autodiff(sie, draws, x, y, SIE_PARAMS)


def test_sis_gradients(sis):
    rng = np.random.default_rng(51)
    draws = {k: v for k, v in draw_sie(rng, 100).items() if k in SIS_PARAMS}
    x, y = points_around(rng, draws, 10, 5e-2, 4.0)
    for name, err in finite_difference_errors(sis, draws, x, y, SIS_PARAMS).items():
        assert err.max() < 1e-5, f"d/d{name}: autodiff and finite differences differ by {err.max()}"
    centre = {k: v[:2] for k, v in draws.items()}
    autodiff(sis, centre, *awkward_points(centre), SIS_PARAMS)  # finite at r = 0
