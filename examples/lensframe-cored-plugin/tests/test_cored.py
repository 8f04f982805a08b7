"""Tests of the plugin, using the pytest fixtures lensframe installs (entry point ``pytest11``).

Run them with the plugin installed:  pip install -e . && pytest
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe.testing import check_mass_profile  # noqa: E402

PARAMS = {"theta_E": 1.2, "r_core": 0.15, "center_x": 0.05, "center_y": -0.1}


def test_discovered_through_the_entry_point(lensframe_registry):
    spec = lensframe_registry.get("cored_isothermal", "profile")  # any case works
    assert spec.name == "CORED_ISOTHERMAL"
    assert spec.kind == "mass"
    assert spec.distribution == "lensframe-cored-plugin"
    assert lensframe_registry.status(spec) == "ok"
    assert [p.name for p in spec.params] == ["theta_E", "r_core", "center_x", "center_y"]
    record = next(p for p in lensframe_registry.plugins if p.distribution == spec.distribution)
    assert record.errors == [] and record.components == ["CORED_ISOTHERMAL"]


def test_conformance(lensframe_registry):
    import lensframe

    profile = lensframe.get_profile("CORED_ISOTHERMAL")
    check_mass_profile(profile, PARAMS)  # jit, vmap, grad, shapes, dtypes, finite values


@pytest.mark.parametrize("r_core", [0.15, 0.0])
def test_finite_at_the_centre(lensframe_registry, r_core):
    import lensframe

    profile = lensframe.get_profile("CORED_ISOTHERMAL")
    zero = jnp.zeros(())

    def total(p):
        ax, ay = profile.deflection(zero, zero, **p)
        return ax + ay + profile.potential(zero, zero, **p) + profile.convergence(zero, zero, **p)

    p = {"theta_E": 1.2, "r_core": r_core}
    value, grads = jax.value_and_grad(total)(p)
    assert np.isfinite(float(value)) and all(np.isfinite(float(g)) for g in grads.values())
    assert [float(a) for a in profile.deflection(zero, zero, **p)] == [0.0, 0.0]
    if r_core > 0:
        assert float(profile.convergence(zero, zero, **p)) == pytest.approx(1.2 / (2 * r_core))


def test_deflection_is_gradient_of_potential_and_convergence_half_laplacian(lensframe_registry):
    import lensframe

    profile = lensframe.get_profile("CORED_ISOTHERMAL")
    x, y = jnp.meshgrid(jnp.linspace(-2.0, 2.0, 9), jnp.linspace(-1.9, 2.1, 9))
    ax, ay = profile.deflection(x, y, **PARAMS)
    gx, gy = jax.vmap(jax.grad(lambda xx, yy: profile.potential(xx, yy, **PARAMS), (0, 1)))(
        x.ravel(), y.ravel())
    np.testing.assert_allclose(ax.ravel(), gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ay.ravel(), gy, rtol=1e-10, atol=1e-12)
    fxx, _, _, fyy = profile.hessian(x, y, **PARAMS)  # autodiff of the deflection
    np.testing.assert_allclose(0.5 * (fxx + fyy), profile.convergence(x, y, **PARAMS),
                               rtol=1e-10)


@pytest.mark.parametrize("r", [1e-3, 0.3, 5.0])
def test_closed_form_and_limits(lensframe_registry, r):
    import lensframe

    profile = lensframe.get_profile("CORED_ISOTHERMAL")
    b, rc = 1.2, 0.15
    ax, ay = profile.deflection(jnp.array(r), jnp.array(0.0), theta_E=b, r_core=rc)
    assert float(ay) == 0.0
    assert float(ax) == pytest.approx(b * (np.sqrt(r * r + rc * rc) - rc) / r, rel=1e-9)
    # r_core → 0 is the singular isothermal sphere, α = θ_E r̂
    ax0, _ = profile.deflection(jnp.array(r), jnp.array(0.0), theta_E=b, r_core=0.0)
    assert float(ax0) == pytest.approx(b, rel=1e-12)
