"""External shear against lenstronomy's SHEAR (closed forms on both sides, so round-off tolerances)
and against itself (κ = 0 = ½ trace, α = ∇ψ, parameter gradients = finite differences)."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lenstronomy.LensModel.lens_model import LensModel  # noqa: E402

PARAMS = ("gamma1", "gamma2", "ra_0", "dec_0")
N_DRAWS = 250


@pytest.fixture(scope="module")
def shear():
    return lensframe.get_profile("SHEAR")


def draw(rng, n):
    gamma = rng.uniform(0.0, 0.3, n)
    angle = rng.uniform(0.0, np.pi, n)
    return {"gamma1": gamma * np.cos(2 * angle), "gamma2": gamma * np.sin(2 * angle),
            "ra_0": rng.uniform(-0.5, 0.5, n), "dec_0": rng.uniform(-0.5, 0.5, n)}


def column(draws):
    return {k: jnp.asarray(v, float)[:, None] for k, v in draws.items()}


@jax.jit
def _evaluate(params, x, y):
    profile = lensframe.get_profile("SHEAR")
    return {"pot": profile.potential(x, y, **params),
            "alpha": jnp.stack(profile.deflection(x, y, **params)),
            "hess": jnp.stack(profile.hessian(x, y, **params)),
            "kappa": profile.convergence(x, y, **params)}


def reference(x, y, draws):
    model = LensModel(["SHEAR"])
    out = {"pot": [], "alpha": [], "hess": [], "kappa": []}
    for i in range(x.shape[0]):
        kw = [{k: float(v[i]) for k, v in draws.items()}]
        out["pot"].append(model.potential(x[i], y[i], kw))
        out["alpha"].append(model.alpha(x[i], y[i], kw))
        out["hess"].append(np.broadcast_to(np.array(model.hessian(x[i], y[i], kw)),
                                           (4, x.shape[1])))
        out["kappa"].append(np.broadcast_to(model.kappa(x[i], y[i], kw), x.shape[1:]))
    out = {k: np.array(v) for k, v in out.items()}
    out["alpha"] = np.moveaxis(out["alpha"], 1, 0)
    out["hess"] = np.moveaxis(out["hess"], 1, 0)
    return out


@pytest.fixture(scope="module")
def random_case():
    rng = np.random.default_rng(101)
    draws = draw(rng, N_DRAWS)
    # ordinary points, the shear origin itself, and large radii
    x = rng.uniform(-4, 4, (N_DRAWS, 20))
    y = rng.uniform(-4, 4, (N_DRAWS, 20))
    x[:, 0], y[:, 0] = draws["ra_0"], draws["dec_0"]
    x[:, 1:4] = draws["ra_0"][:, None] + np.array([1e3, -3e3, 1e4])
    y[:, 1:4] = draws["dec_0"][:, None] + np.array([2e3, 5e2, -1e4])
    ours = {k: np.asarray(v) for k, v in _evaluate(column(draws), jnp.asarray(x),
                                                   jnp.asarray(y)).items()}
    return draws, x, y, ours, reference(x, y, draws)


def test_potential_and_deflection_match_lenstronomy(random_case):
    draws, x, y, ours, ref = random_case
    r = np.hypot(x - draws["ra_0"][:, None], y - draws["dec_0"][:, None])
    gamma = np.hypot(draws["gamma1"], draws["gamma2"])[:, None]
    # same polynomial in both codes: differences are round-off of terms of size γ r² and γ r
    np.testing.assert_array_less(np.abs(ours["pot"] - ref["pot"]), 1e-14 * gamma * (r * r + 1))
    np.testing.assert_array_less(np.hypot(*(ours["alpha"] - ref["alpha"])), 1e-14 * gamma * (r + 1))
    assert np.all(ours["pot"][:, 0] == 0) and np.all(ours["alpha"][:, :, 0] == 0)  # at the origin


def test_hessian_and_convergence_match_lenstronomy(random_case):
    _, _, _, ours, ref = random_case
    np.testing.assert_array_equal(ours["hess"], ref["hess"])  # γ1, γ2, γ2, −γ1 exactly
    np.testing.assert_array_equal(ours["kappa"], 0.0)
    np.testing.assert_array_equal(ref["kappa"], 0.0)


def test_internal_consistency(random_case, shear):
    draws, x, y, ours, _ = random_case
    fxx, fxy, fyx, fyy = ours["hess"]
    np.testing.assert_array_equal(ours["kappa"], 0.5 * (fxx + fyy))
    np.testing.assert_array_equal(fxy, fyx)
    # α = ∇ψ by autodiff; and the hessian = ∇α by autodiff (the class writes both out by hand)
    params = column(draws)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    gx, gy = jax.jit(jax.grad(lambda a, b: jnp.sum(shear.potential(a, b, **params)), (0, 1)))(xj,
                                                                                              yj)
    r = np.hypot(x - draws["ra_0"][:, None], y - draws["dec_0"][:, None])
    gamma = np.hypot(draws["gamma1"], draws["gamma2"])[:, None]
    np.testing.assert_array_less(np.hypot(gx - ours["alpha"][0], gy - ours["alpha"][1]),
                                 1e-14 * gamma * (r + 1))
    auto = np.array(lensframe.profile.MassProfile.hessian(shear, xj, yj, **params))
    np.testing.assert_allclose(auto, ours["hess"], rtol=1e-12, atol=1e-15)


def test_gradients_match_finite_differences_and_are_finite(shear):
    rng = np.random.default_rng(102)
    draws = draw(rng, 200)
    draws["gamma1"][:2] = draws["gamma2"][:2] = 0.0  # no shear at all
    x = jnp.asarray(rng.uniform(-4, 4, (200, 10)))
    y = jnp.asarray(rng.uniform(-4, 4, (200, 10)))
    x = x.at[:, 0].set(draws["ra_0"])  # exactly at the origin
    y = y.at[:, 0].set(draws["dec_0"])
    params = column(draws)
    fn = jax.jit(lambda p: jnp.stack(shear.deflection(x, y, **p)))
    h = 1e-6
    for name in PARAMS:
        tangent = {k: jnp.zeros_like(v) for k, v in params.items()}
        tangent[name] = jnp.ones_like(params[name])
        ad = np.asarray(jax.jvp(fn, (params,), (tangent,))[1])
        fd = np.asarray(fn(dict(params, **{name: params[name] + h}))
                        - fn(dict(params, **{name: params[name] - h}))) / (2 * h)
        assert np.all(np.isfinite(ad))
        np.testing.assert_allclose(ad, fd, rtol=1e-5, atol=1e-8, err_msg=f"d/d{name}")
    weights = jnp.asarray(rng.normal(size=(2, 200, 10)))
    grads = jax.grad(lambda p: jnp.sum(weights * fn(p)))(params)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads.values())
    # the deflection is linear in (γ1, γ2): ∂/∂γ1 of Σ w·α is Σ w·(dx, −dy) exactly
    dx, dy = x - params["ra_0"], y - params["dec_0"]
    np.testing.assert_allclose(grads["gamma1"][:, 0],
                               jnp.sum(weights[0] * dx - weights[1] * dy, axis=1), rtol=1e-12)
