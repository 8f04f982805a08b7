"""The microlens profiles: registration, point-source values against VBMicrolensing, domain,
images/caustics, jit/vmap/grad."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lensframe  # noqa: E402
from lensframe.registry import get_registry  # noqa: E402

VBM = pytest.importorskip("VBMicrolensing")


def test_registered_with_matching_parameters():
    for name in ("point_lens", "binary_lens", "triple_lens", "multi_lens"):
        spec = get_registry().get(name, "profile")
        profile = lensframe.get_profile(name)
        assert profile.kind == "microlens"
        assert tuple(p.name for p in spec.params) == profile.param_names


@pytest.mark.slow  # compile-heavy; the default run keeps the cheaper checks
def test_binary_and_multi_lens_match_vbmicrolensing():
    v = VBM.VBMicrolensing()
    v.RelTol = v.Tol = 1e-10
    y1 = np.array([0.1, -0.4, 1.3]); y2 = np.array([0.05, 0.2, -0.7])
    s, q = 0.9, 0.25
    ref = np.array([v.BinaryMag0(s, q, a, b) for a, b in zip(y1, y2)])
    binary = np.asarray(lensframe.get_profile("binary_lens").magnification(y1, y2, s=s, q=q))
    np.testing.assert_allclose(binary, ref, rtol=1e-8)
    multi = lensframe.get_profile("multi_lens")
    explicit = dict(x_1=-s * q / (1 + q), y_1=0.0, m_1=1.0, x_2=s / (1 + q), y_2=0.0, m_2=q)
    np.testing.assert_allclose(np.asarray(multi.magnification(y1, y2, **explicit)), ref,
                               rtol=1e-8)


def test_point_lens_is_paczynski_and_shapes_broadcast():
    u1 = jnp.linspace(0.1, 2.0, 6).reshape(2, 3)
    a = lensframe.get_profile("point_lens").magnification(u1, 0.0)
    assert a.shape == (2, 3)
    u = np.asarray(u1)
    np.testing.assert_allclose(np.asarray(a), (u**2 + 2) / (u * np.sqrt(u**2 + 4)), rtol=1e-14)


def test_a_literal_zero_rho_builds_no_finite_source_program(monkeypatch):
    """rho = 0 given as a number (the default) takes the point-source path alone; the values are
    the point-source magnifications, for one lens and for a binary."""
    from lensframe_micro import finite

    def refuse(*args, **kwargs):
        raise AssertionError("the finite-source program was built for rho = 0")
    monkeypatch.setattr(finite, "magnification", refuse)
    y1, y2 = jnp.array([0.3, -0.1]), jnp.array([0.05, 0.2])
    single = lensframe.get_profile("point_lens").magnification(y1, y2, rho=0)
    u = np.hypot(np.asarray(y1), np.asarray(y2))
    np.testing.assert_allclose(single, (u**2 + 2) / (u * np.sqrt(u**2 + 4)), rtol=1e-14)
    binary = lensframe.get_profile("binary_lens").magnification(y1, y2, s=0.9, q=0.05)
    expected = [VBM.VBMicrolensing().BinaryMag0(0.9, 0.05, float(a), float(b))
                for a, b in zip(y1, y2)]
    np.testing.assert_allclose(binary, expected, rtol=1e-10)
    with pytest.raises(AssertionError, match="finite-source program"):   # a positive rho does
        lensframe.get_profile("binary_lens").magnification(y1, y2, rho=1e-3, s=0.9, q=0.05)


def test_triple_profile_images_and_caustics():
    p = lensframe.get_profile("triple_lens")
    params = dict(s=1.0, q=0.2, s13=0.8, q3=0.05, psi=1.0)
    positions, parity = p.images(jnp.asarray([0.1, 2.0]), 0.0, **params)
    assert positions.shape == (2, 10) and parity.shape == (2, 10)
    assert np.all(np.asarray(parity).astype(bool).sum(axis=1) >= 4)
    critical, caustic = p.caustics(n_phi=64, **params)
    assert caustic.shape == (65, 6)


def test_domain_violation_for_bad_parameters():
    binary = lensframe.get_profile("binary_lens")
    good = dict(s=1.0, q=0.5, rho=0.01, a1=0.3)
    assert float(binary.domain_violation(**good)) == 0.0
    for bad in (dict(s=-1.0), dict(q=0.0), dict(rho=-0.1), dict(a1=1.5)):
        assert float(binary.domain_violation(**{**good, **bad})) > 0.0, bad


def test_multi_lens_rejects_unknown_parameters_and_bad_option():
    from lensframe_micro.profiles import MultiLens, MultiLensOptions
    with pytest.raises(TypeError, match="x_3"):
        MultiLens().magnification(0.1, 0.1, x_3=1.0)
    with pytest.raises(ValueError, match="n_lenses"):
        MultiLensOptions(n_lenses=0)
    assert "m_3" in MultiLens(MultiLensOptions(n_lenses=3)).param_names


@pytest.mark.slow  # compile-heavy; the default run keeps the cheaper checks
def test_jit_vmap_grad_of_binary_magnification():
    binary = lensframe.get_profile("binary_lens")

    def a(s, q, y1):
        return binary.magnification(y1, 0.1, s=s, q=q)

    y1 = jnp.linspace(-0.5, 0.5, 4)
    eager = np.asarray(a(1.1, 0.3, y1))
    np.testing.assert_allclose(np.asarray(jax.jit(a)(1.1, 0.3, y1)), eager, rtol=1e-13)
    grads = jax.jit(jax.vmap(jax.grad(lambda s, y: a(s, 0.3, y), argnums=(0, 1)),
                             in_axes=(None, 0)))(1.1, y1)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)
    h = 1e-6
    fd = (a(1.1 + h, 0.3, y1) - a(1.1 - h, 0.3, y1)) / (2 * h)
    np.testing.assert_allclose(np.asarray(grads[0]), np.asarray(fd), rtol=1e-5)
