"""Slow sweep: finite-source accuracy near caustics over ρ ∈ {1e-4, 1e-3, 1e-2, 0.1}, uniform and
limb-darkened binaries vs VBMicrolensing BinaryMag2 and a triple vs MultiMag2 (tight tolerances)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lensframe_micro.finite import magnification_batch
from lensframe_micro.lenses import binary_lenses, triple_lenses
from lensframe_micro.point import point_magnification

from finite_helpers import near_caustic, vbm_binary

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("s,q", [(0.9, 0.05), (1.2, 1e-3)])
@pytest.mark.parametrize("a1,target", [(0.0, 1e-4), (0.5, 3e-4)])
def test_sweep_vs_vbmicrolensing(s, q, a1, target):
    z, m = binary_lenses(s, q)
    run = jax.jit(lambda w, rho: magnification_batch(w, z, m, rho, a1))
    rng = np.random.default_rng(21)
    n = 100 if a1 == 0 else 20
    errors = []
    for rho in (1e-4, 1e-3, 1e-2, 0.1):
        w = near_caustic(z, m, rho, n, rng)
        value, _ = run(jnp.asarray(w), rho)
        assert np.all(np.isfinite(value))
        errors.append(np.abs(np.asarray(value) / vbm_binary(s, q, w, rho, a1) - 1))
    errors = np.concatenate(errors)
    print(f"s={s} q={q} a1={a1}: p99 {np.quantile(errors, 0.99):.2e} worst {errors.max():.2e}")
    assert np.quantile(errors, 0.99) < target


def test_triple_vs_vbmicrolensing_multimag2():
    import VBMicrolensing

    z, m = triple_lenses(1.0, 0.1, 0.8, 0.01, 1.0)
    vbm = VBMicrolensing.VBMicrolensing()
    vbm.RelTol = 1e-7
    vbm.Tol = 1e-7
    geometry = []
    for zk, mk in zip(np.asarray(z), np.asarray(m)):
        geometry += [zk.real, zk.imag, mk]
    vbm.SetLensGeometry(geometry)
    rng = np.random.default_rng(3)
    rho = 1e-2
    w = near_caustic(z, m, rho, 20, rng)
    # same frame: the point-source values agree first
    point = np.array([point_magnification(x, z, m) for x in w[:3]])
    np.testing.assert_allclose(point, [vbm.MultiMag0(x.real, x.imag) for x in w[:3]], rtol=1e-6)
    value, _ = jax.jit(lambda w: magnification_batch(w, z, m, rho, 0.0))(jnp.asarray(w))
    reference = np.array([vbm.MultiMag2(x.real, x.imag, rho) for x in w])
    errors = np.abs(np.asarray(value) / reference - 1)
    print(f"triple: median {np.median(errors):.2e} worst {errors.max():.2e}")
    assert np.median(errors) < 1e-4
