"""The rectilinear trajectory against VBMicrolensing's and MulensModel's source positions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from lensframe_micro.trajectory import Rectilinear, alpha_from_skowron, rectilinear

CASES = [(7568.77, 0.053, 9.96, -0.97), (100.0, -0.3, 25.0, 2.5), (0.0, 0.01, 3.0, 0.0)]


@pytest.mark.parametrize("t0, u0, tE, alpha", CASES)
def test_positions_match_vbmicrolensing(t0, u0, tE, alpha):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    times = list(np.linspace(t0 - 2 * tE, t0 + 2 * tE, 9))
    # BinaryLightCurve returns the source positions it used; s and q do not affect them
    _, y1_ref, y2_ref = vbm.BinaryLightCurve([0.0, math.log(0.1), u0, alpha, math.log(1e-3),
                                              math.log(tE), t0], times)
    y1, y2 = rectilinear(jnp.asarray(times), t0, u0, tE, alpha)
    np.testing.assert_allclose(y1, y1_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y2, y2_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("t0, u0, tE, alpha", CASES)
def test_distance_matches_mulensmodel(t0, u0, tE, alpha):
    import MulensModel

    times = np.linspace(t0 - 2 * tE, t0 + 2 * tE, 9)
    model = MulensModel.Model({"t_0": t0, "u_0": u0, "t_E": tE})
    trajectory = MulensModel.Trajectory(times, model.parameters)
    y1, y2 = rectilinear(jnp.asarray(times), t0, u0, tE, alpha)
    # MulensModel's point-lens frame is rotated relative to the binary one: compare |y|
    np.testing.assert_allclose(np.hypot(y1, y2), np.hypot(trajectory.x, trajectory.y), rtol=1e-12)


def test_profile_closest_approach_and_skowron_conversion():
    traj = Rectilinear()
    t = jnp.linspace(-5.0, 5.0, 2001)
    params = {"t0": 0.3, "u0": -0.2, "tE": 4.0, "alpha": 1.1}
    y1, y2 = traj.source_position(t, **params)
    i = int(jnp.argmin(y1**2 + y2**2))
    assert abs(float(t[i]) - 0.3) <= 0.005 + 1e-12
    assert math.isclose(float(jnp.hypot(y1[i], y2[i])), 0.2, rel_tol=1e-5)
    # Skowron et al. write the same line with alpha' = alpha + pi and the same (t0, u0, tE)...
    # ...which reverses both the offset and the direction; the conversion undoes it exactly
    a = alpha_from_skowron(params["alpha"] + jnp.pi)
    np.testing.assert_allclose(rectilinear(t, 0.3, -0.2, 4.0, a), (y1, y2), atol=1e-12)


def test_jit_vmap_and_gradient_against_finite_differences():
    t = jnp.linspace(-3.0, 3.0, 7)

    def f(p):
        y1, y2 = rectilinear(t, p[0], p[1], p[2], p[3])
        return jnp.sum(y1**2 * jnp.cos(y2))

    p = jnp.array([0.2, 0.1, 2.0, 0.4])
    grad = jax.jit(jax.grad(f))(p)
    eps = 1e-6
    fd = jnp.stack([(f(p + eps * e) - f(p - eps * e)) / (2 * eps) for e in jnp.eye(4)])
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    batched = jax.vmap(lambda tt: jnp.stack(rectilinear(tt, *p)))(t)
    np.testing.assert_allclose(batched.T, jnp.stack(rectilinear(t, *p)), atol=1e-14)


@pytest.mark.parametrize("piEN, piEE", [(-0.2154, -0.38), (0.5, 0.1)])
def test_parallax_trajectory_matches_vbmicrolensing(piEN, piEE):
    import VBMicrolensing
    from lensframe_micro.parallax import sun_offsets
    from lensframe_micro.trajectory import RectilinearParallax

    coords, t0, u0, tE, alpha = "17:55:23.50 -30:12:26.1", 7568.77, 0.05, 9.96, 2.17
    times = np.linspace(t0 - 60.0, t0 + 60.0, 13)
    vbm = VBMicrolensing.VBMicrolensing()
    vbm.SetObjectCoordinates(coords)
    vbm.parallaxsystem = 1  # (piEN, piEE)
    vbm.t0_par_fixed, vbm.t0_par = 1, t0
    _, y1_ref, y2_ref = vbm.BinaryLightCurveParallax(
        [0.0, math.log(1e-4), u0, alpha, math.log(1e-3), math.log(tE), t0, piEN, piEE],
        list(times))
    offsets = jnp.asarray(sun_offsets(times, coords, t0))
    y1, y2 = RectilinearParallax().source_position(jnp.asarray(times), offsets, t0=t0, u0=u0,
                                                   tE=tE, alpha=alpha, piEN=piEN, piEE=piEE)
    # the two ephemerides differ slightly; parallax itself moves the source by up to ~0.3 θ_E here
    shift = np.hypot(*(np.asarray(rectilinear(times, t0, u0, tE, alpha)) - np.array([y1, y2])))
    assert shift.max() > 0.05
    np.testing.assert_allclose(y1, y1_ref, atol=1e-4)
    np.testing.assert_allclose(y2, y2_ref, atol=1e-4)
    # at t0_par the offsets and their slope vanish
    np.testing.assert_allclose(sun_offsets([t0], coords, t0), 0.0, atol=1e-12)
