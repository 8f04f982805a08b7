"""The contour integral's pieces: limb derivatives, the fifth-order interval area, fold junctions."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lensframe_micro import contour
from lensframe_micro.lenses import binary_lenses


def _nearest(reference, roots):
    return roots[np.argmin(np.abs(roots[None, :] - reference[:, None]), axis=1)]


def test_limb_tangent_and_second_derivative_match_finite_differences():
    z, m = binary_lenses(0.9, 0.05)
    w, radius, theta, step = 0.1 + 0.05j, 0.02, 0.7, 1e-4
    at = [contour._limb_images(t, w, radius, z, m) for t in (theta - step, theta, theta + step)]
    roots, real = np.asarray(at[1][0]), np.asarray(at[1][1])
    before, after = (_nearest(roots, np.asarray(a[0])) for a in (at[0], at[2]))
    tangent = (after - before) / (2 * step)
    second = (after - 2 * roots + before) / step**2
    assert real.sum() in (3, 5)
    np.testing.assert_allclose(np.asarray(at[1][2])[real], tangent[real], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.asarray(at[1][3])[real], second[real], rtol=1e-4, atol=1e-6)


@partial(jax.jit, static_argnums=4)
def _uniform_area(w, radius, z, m, n):
    theta = jnp.linspace(0.0, 2 * np.pi, n, endpoint=False)
    samples = contour._solve(theta, w, radius, z, m)
    nxt = (jnp.arange(n) + 1) % n
    area, error, _ = jax.vmap(contour._interval)(samples, contour._take(samples, nxt),
                                                 jnp.full(n, 2 * np.pi / n))
    return jnp.sum(area), jnp.sum(error)


def test_interval_area_is_fifth_order_and_its_estimate_bounds_the_error():
    """A single lens's images of a disk not covering the lens: the area's error (against the same
    integral on 32 times finer steps; accuracy against independent codes is test_finite's) falls
    by ≥ 2^5 per halving of the step, and the summed estimate (the cubic's error) stays above it."""
    z, m = jnp.array([0.0 + 0.0j]), jnp.array([1.0])
    w, rho = 0.3 + 0.0j, 0.1
    fine = float(_uniform_area(w, rho, z, m, 768)[0])
    errors = []
    for n in (12, 24):
        area, estimate = (float(x) for x in _uniform_area(w, rho, z, m, n))
        errors.append(abs(area / fine - 1))
        assert errors[-1] <= estimate / abs(fine)
    assert errors[0] / errors[1] > 32


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_fold_junction_closes_the_pair_with_its_parabola(sign):
    """Two images z(±S) of a fold, z(s) = z_c + a s + b s², s² = |θ − θ_c|: chord plus
    correction equals the area of the loop the parabola closes, whichever way the pair appears."""
    zc, a, b, S2 = 0.3 - 0.2j, 0.7 + 0.4j, -0.5 + 1.1j, 0.02
    S = np.sqrt(S2)
    pos = jnp.array([zc + a * S + b * S2, zc - a * S + b * S2])
    # dz/dθ = (a + 2 b s) ds/dθ, ds/dθ = sign / (2 s) (sign +1: the pair is born before θ)
    s = np.array([S, -S])
    tangent = jnp.asarray((a + 2 * b * s) * sign / (2 * s))
    parity = jnp.array([1.0, -1.0])
    chord, correction, estimate, unpaired = contour._junctions(pos, tangent, jnp.array([True, True]),
                                                               parity, 1.0)
    # the true track: image 1 (parity +1) from z(S) to z_c, image 2 from z(−S) to z_c, in the
    # direction of θ; Green's ½ ∮ Im(z̄ dz) along each, signed by parity
    t = np.linspace(0, 1, 20001)

    def green(path):
        return 0.5 * np.trapezoid(np.imag(np.conj(path) * np.gradient(path, t)), t)

    tracks = [zc + a * (S * (1 - t)) + b * (S * (1 - t)) ** 2,
              zc + a * (-S * (1 - t)) + b * (S * (1 - t)) ** 2]
    if sign > 0:   # born at θ_c and growing: the tracks run the other way
        tracks = [p[::-1] for p in tracks]
    true = green(tracks[0]) - green(tracks[1])
    joined = chord if sign < 0 else -chord
    assert not bool(unpaired)
    np.testing.assert_allclose(float(joined + correction), true, rtol=1e-6)
    assert abs(float(correction)) == pytest.approx(float(estimate))
