"""Finite-source magnification vs VBMicrolensing (tight tolerances), the point-source limit, the
multipole choice, gradients and bad input. One compiled function serves most tests (compiling the
root solver dominates the run time)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial import cKDTree

from lensframe_micro import finite
from lensframe_micro.finite import FiniteSettings, magnification, magnification_batch
from lensframe_micro.lenses import binary_lenses
from lensframe_micro.point import point_magnification

from finite_helpers import caustic_points, near_caustic, vbm_binary

S, Q = 0.9, 0.05


@pytest.fixture(scope="module")
def lenses():
    return binary_lenses(S, Q)


#: every batch call is padded to this many positions, so one compilation serves every test
PADDED = 12


@pytest.fixture(scope="module")
def batch(lenses):
    z, m = lenses
    compiled = jax.jit(lambda w, rho, a1: magnification_batch(w, z, m, rho, a1))

    def padded(w, rho, a1):
        n = w.shape[0]
        assert n <= PADDED
        far = jnp.full(PADDED - n, 1.5 + 0.5j)   # far from the caustics: the multipole's cheap path
        value, info = compiled(jnp.concatenate([w, far]), rho, a1)
        return value[:n], {key: v[:n] for key, v in info.items()}
    return padded


@pytest.mark.parametrize("rho", [1e-2, 1e-3])
def test_uniform_near_caustics_matches_vbmicrolensing(batch, rho):
    rng = np.random.default_rng(11)
    w = near_caustic(*binary_lenses(S, Q), rho, 12, rng)
    value, info = batch(jnp.asarray(w), rho, 0.0)
    reference = vbm_binary(S, Q, w, rho)
    error = np.abs(np.asarray(value) / reference - 1)
    assert np.all(np.isfinite(value))
    assert np.median(error) < 1e-5
    assert error.max() < 1e-4
    assert np.asarray(info["full"]).sum() >= 6  # near caustics most points need the integral


def test_caustic_between_the_stencil_points_refuses_the_multipole(batch):
    """Disks whose limb crosses the caustic between two of the hexadecapole stencil's 8 limb points
    (small hexadecapole term, ghost residual 58-239 rho): the multipole was 8-32 % off there."""
    w = np.array([-0.29926259509269754 - 0.2546700525162044j,
                  0.13774765954046173 + 0.05621279328584789j,
                  -0.03296086907993165 - 0.0658721684109241j,
                  0.11584035296648815 - 0.06728741276789106j])
    value, info = batch(jnp.asarray(w), 1e-3, 0.0)
    assert np.asarray(info["full"]).all()
    np.testing.assert_allclose(value, vbm_binary(S, Q, w, 1e-3), rtol=1e-4)


def test_limb_darkened_near_caustics_matches_vbmicrolensing(batch):
    rng = np.random.default_rng(12)
    rho, a1 = 1e-2, 0.5
    w = near_caustic(*binary_lenses(S, Q), rho, 6, rng)
    value, _ = batch(jnp.asarray(w), rho, a1)
    error = np.abs(np.asarray(value) / vbm_binary(S, Q, w, rho, a1) - 1)
    assert error.max() < 3e-4   # the target for limb-darkened sources


def test_far_from_caustics_uses_multipole_and_matches(batch):
    w = np.array([0.6 + 0.5j, -0.8 - 0.3j, 1.5 + 0.1j])
    rho = 1e-3
    value, info = batch(jnp.asarray(w), rho, 0.0)
    assert not np.asarray(info["full"]).any()
    np.testing.assert_allclose(value, vbm_binary(S, Q, w, rho), rtol=1e-5)


def test_rho_zero_is_point_source(batch, lenses):
    z, m = lenses
    w = np.array([0.05 + 0.01j, 0.3 - 0.2j])
    value, info = batch(jnp.asarray(w), 0.0, 0.0)
    point = [point_magnification(x, z, m) for x in w]
    np.testing.assert_allclose(value, point, rtol=1e-12)
    assert not np.asarray(info["full"]).any()


def test_on_a_caustic_is_finite(batch, lenses):
    from finite_helpers import caustic_points

    w = caustic_points(*lenses, n_phi=4)[:4]
    value, _ = batch(jnp.asarray(w), 1e-3, 0.0)
    assert np.all(np.isfinite(value)) and np.all(np.asarray(value) > 1)


def test_single_lens_matches_witt_mao(batch):
    """One lens (z = 0, m = 1) against MulensModel's Witt & Mao (1994) uniform finite source."""
    import MulensModel

    z, m = jnp.zeros(1, complex), jnp.ones(1)
    rho = 0.05
    u = np.array([0.02, 0.06, 0.2])
    value, _ = jax.jit(lambda w: magnification_batch(w, z, m, rho, 0.0))(jnp.asarray(u + 0j))
    model = MulensModel.Model({"t_0": 0.0, "u_0": 0.0, "t_E": 1.0, "rho": rho})
    model.set_magnification_methods([-1.0, "finite_source_uniform_WittMao94", 1.0])
    # with u_0 = 0 and alpha = 0 the source sits at u = |t|
    reference = model.get_magnification(u)
    np.testing.assert_allclose(value, reference, rtol=2e-4)


def _check_gradient(lenses, seed, a1=0.0):
    z, m = lenses
    rho = 1e-2
    w0 = complex(near_caustic(z, m, rho, 1, np.random.default_rng(seed))[0])

    def f(p):
        return finite.full_magnification(p[0] + 1j * p[1], z, m, p[2], a1)[0]

    p = jnp.array([w0.real, w0.imag, rho])
    # one compiled program gives both the gradient and the values the differences need
    value_and_grad = jax.jit(jax.value_and_grad(f))
    value, grad = value_and_grad(p)
    assert np.all(np.isfinite(grad))
    for k, h in enumerate([1e-6, 1e-6, 1e-7]):
        e = jnp.zeros(3).at[k].set(h)
        numeric = (value_and_grad(p + e)[0] - value_and_grad(p - e)[0]) / (2 * h)
        assert abs(grad[k] - numeric) <= 2e-3 * abs(numeric) + 1e-6 * abs(value) / rho


# a second draw in the slow run only: each costs ~45 s of compilation and solving on a 2-core CPU
@pytest.mark.parametrize("seed", [7, pytest.param(8, marks=pytest.mark.slow)])
def test_gradient_matches_finite_differences(lenses, seed):
    """d A / d(source x, source y, rho) at draws within 1.5 rho of a caustic point."""
    _check_gradient(lenses, seed)


def test_limb_darkened_gradient_matches_finite_differences(lenses):
    """The limb-darkened backward pass keeps the limb's angles and samples the inner circles again
    (the forward pass stores one ring per point): still the derivative of the value computed."""
    _check_gradient(lenses, 7, a1=0.5)


#: compiled once for every lens of the test below (the lenses are arguments, not constants)
_far_from_caustics = jax.jit(finite.far_from_caustics)


@pytest.mark.parametrize("s,q", [(S, Q), (1.0, 1e-4), (2.0, 0.3)])
def test_far_from_caustics_never_calls_a_disk_touching_a_caustic_far(s, q):
    """The batch skips the limb's image-count checks for disks called far from the caustics; a
    caustic sampled 40x more densely (numpy, independent of the plugin) must not reach any of
    them, while disks far off are recognised."""
    z, m = binary_lenses(s, q)
    dense = caustic_points(np.asarray(z), np.asarray(m), 20000)
    rng = np.random.default_rng(5)
    away = dense.real.max() + 0.3 + 0.1j * np.arange(5)
    tree = cKDTree(np.c_[dense.real, dense.imag])
    for rho in (1e-4, 1e-2):
        w = dense[rng.integers(0, dense.size, 2000)] + 5 * rho * np.sqrt(
            rng.uniform(size=2000)) * np.exp(2j * np.pi * rng.uniform(size=2000))
        # one call (one shape) for the disks near the caustic and those far off
        verdict = np.asarray(_far_from_caustics(jnp.asarray(np.concatenate([w, away])), z, m, rho))
        far = verdict[:w.size]
        distance = tree.query(np.c_[w.real, w.imag])[0]
        assert not np.any(far & (distance <= rho))
        assert np.all(verdict[w.size:])
    assert far.sum() > 100   # rho = 1e-2: up to 5 rho off, many disks are far


def test_unresolved_inner_circle_is_interpolated():
    """A limb-darkening circle whose contour stayed unresolved (measured: off by up to a factor
    3.5) takes the mean magnification interpolated from its resolved neighbours: exact when that
    mean is linear in r."""
    settings = FiniteSettings()
    rho, a1 = 1e-2, 0.5
    radii = np.asarray(finite._radii(jnp.asarray(rho), settings))
    areas = np.pi * radii**2 * (3.0 + 40.0 * radii)
    clean = np.zeros(radii.size, bool)
    rho = jnp.asarray(rho)
    expected, flag = finite._disk_magnification(jnp.asarray(areas), jnp.asarray(clean), rho, a1,
                                                settings)
    assert not flag
    for k in (1, 9, radii.size - 1):   # next to the limb, inside, the innermost circle
        bad = clean.copy()
        bad[k] = True
        corrupted = areas.copy()
        corrupted[k] *= 3.5
        value, flag = finite._disk_magnification(jnp.asarray(corrupted), jnp.asarray(bad), rho,
                                                 a1, settings)
        np.testing.assert_allclose(value, expected, rtol=1e-12 if k < radii.size - 1 else 1e-4)
        assert not flag
        unrepaired, _ = finite._disk_magnification(jnp.asarray(corrupted), jnp.asarray(clean),
                                                   rho, a1, settings)
        if k < radii.size - 1:   # the innermost circle's area is too small to matter
            assert abs(unrepaired / expected - 1) > 1e-3


def test_empty_batch(lenses):
    value, info = magnification_batch(jnp.zeros(0, complex), *lenses, 1e-2)
    assert value.shape == (0,) and info["full"].shape == (0,)


def test_batch_under_vmap_matches_each_member_and_finite_differences():
    """The batch's full integrals run in a while loop with a custom VJP (so a vmapped batch of
    parameter sets pays for its busiest member, not for every chunk): vmapped values and gradients
    equal the unbatched ones, and the gradient matches central differences."""
    rho, t = 1e-2, jnp.linspace(-0.3, 0.3, 6)

    def curve(p):  # (s, q, u0): a trajectory through the caustic of the lens (s, q)
        z, m = binary_lenses(p[0], p[1])
        value, info = magnification_batch(t + 1j * p[2], z, m, rho, 0.0)
        return jnp.sum(value), jnp.sum(info["full"])

    members = jnp.array([[S, Q, 0.02], [S, Q, 1.5]])   # crossing the caustic, and far from it
    value_and_grad = jax.value_and_grad(curve, has_aux=True)
    (batched, n_full), batched_grad = jax.jit(jax.vmap(value_and_grad))(members)
    assert n_full[0] >= 2 and n_full[1] == 0
    single = jax.jit(value_and_grad)
    for k in range(2):
        (value, _), grad = single(members[k])
        np.testing.assert_allclose(batched[k], value, rtol=1e-12)
        np.testing.assert_allclose(batched_grad[k], grad, rtol=1e-9)
    def f(p):   # the compiled value-and-gradient again: no third compilation
        return single(p)[0][0]
    for k, h in enumerate([1e-6, 1e-7, 1e-6]):
        e = jnp.zeros(3).at[k].set(h)
        numeric = (f(members[0] + e) - f(members[0] - e)) / (2 * h)
        assert abs(batched_grad[0][k] - numeric) <= 2e-3 * abs(numeric) + 1e-6 * batched[0] / rho


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known defect: at this point near a cusp (rho=1e-2, A=59) "
                   "the gradient is (8598, 678, -382) against (4452, -4024, 30) from central "
                   "differences of VBMicrolensing; even with the limb angles held fixed the "
                   "discretised area is not smooth in w there (its differences change with the "
                   "step), so the chords joining appearing image pairs carry a wrong derivative. "
                   "The draws of test_gradient_matches_finite_differences pass.")
def test_gradient_near_a_cusp_matches_finite_differences(lenses):
    _check_gradient(lenses, 5)


@pytest.mark.slow  # compile-heavy; the default run keeps the cheaper checks
def test_per_point_entry_matches_batch(batch, lenses):
    z, m = lenses
    w = 0.06 + 0.0j
    single = jax.jit(lambda w, rho: magnification(w, z, m, rho))(w, 1e-2)
    value, _ = batch(jnp.asarray([w]), 1e-2, 0.0)
    np.testing.assert_allclose(single, value[0], rtol=1e-12)


@pytest.mark.parametrize("knobs,field", [({"n_limb": 0}, "n_limb"), ({"tol": 0.0}, "tol"),
                                         ({"n_rings": -1}, "n_rings"),
                                         ({"n_rounds": 5, "max_rounds": 4}, "max_rounds")])
def test_bad_settings_name_the_field(knobs, field):
    with pytest.raises(ValueError, match=field):
        FiniteSettings(**knobs)
