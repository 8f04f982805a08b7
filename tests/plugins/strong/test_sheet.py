"""CONVERGENCE (mass sheet) and SHEAR_GAMMA_PSI (polar external shear) against lenstronomy and
JAXtronomy (closed forms on every side, so round-off tolerances), against the Cartesian SHEAR they
reuse, and against themselves (κ = ½ trace H, α = ∇ψ, H = ∇α, parameter gradients = finite
differences and the closed-form derivatives)."""

from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe.testing import parameter_jvps  # noqa: E402
from lenstronomy.LensModel.lens_model import LensModel  # noqa: E402

N_DRAWS = 250
PARAMS = {"CONVERGENCE": ("kappa", "ra_0", "dec_0"),
          "SHEAR_GAMMA_PSI": ("gamma_ext", "psi_ext", "ra_0", "dec_0")}


def draw(name, rng, n):
    """Random draws; the first two are the awkward ones: κ = 0 or γ = 0 (no sheet, no shear), and
    a negative sheet / ψ_ext at the edge of lenstronomy's range."""
    origin = {"ra_0": rng.uniform(-0.5, 0.5, n), "dec_0": rng.uniform(-0.5, 0.5, n)}
    if name == "CONVERGENCE":
        kappa = rng.uniform(-0.5, 1.0, n)
        kappa[:2] = (0.0, -0.3)
        return {"kappa": kappa, **origin}
    gamma = rng.uniform(0.0, 0.3, n)
    psi = rng.uniform(-np.pi, np.pi, n)
    gamma[0], psi[1] = 0.0, np.pi
    return {"gamma_ext": gamma, "psi_ext": psi, **origin}


def points(rng, draws, n=20):
    """Per draw: its origin exactly, three far points (r ~ 1e3 to 1e4 arcsec), then uniform in
    [−4, 4]²."""
    m = len(draws["ra_0"])
    x = rng.uniform(-4, 4, (m, n))
    y = rng.uniform(-4, 4, (m, n))
    x[:, 0], y[:, 0] = draws["ra_0"], draws["dec_0"]
    x[:, 1:4] = draws["ra_0"][:, None] + np.array([1e3, -3e3, 1e4])
    y[:, 1:4] = draws["dec_0"][:, None] + np.array([2e3, 5e2, -1e4])
    return x, y


def column(draws):
    return {k: jnp.asarray(v, float)[:, None] for k, v in draws.items()}


@partial(jax.jit, static_argnums=0)
def _evaluate(name, params, x, y):
    profile = lensframe.get_profile(name)
    return {"pot": profile.potential(x, y, **params),
            "alpha": jnp.stack(profile.deflection(x, y, **params)),
            "hess": jnp.stack(profile.hessian(x, y, **params)),
            "kappa": profile.convergence(x, y, **params)}


def ours(name, draws, x, y):
    out = _evaluate(name, column(draws), jnp.asarray(x), jnp.asarray(y))
    return {k: np.asarray(v) for k, v in out.items()}


def reference(model, x, y, draws):
    """A lenstronomy-style LensModel, one draw at a time (its hessian and κ of these profiles are
    scalars: broadcast to the points)."""
    out = {"pot": [], "alpha": [], "hess": [], "kappa": []}
    for i in range(x.shape[0]):
        kw = [{k: float(v[i]) for k, v in draws.items()}]
        out["pot"].append(np.asarray(model.potential(x[i], y[i], kw)))
        out["alpha"].append(np.asarray(model.alpha(x[i], y[i], kw)))
        out["hess"].append(np.broadcast_to(np.array(model.hessian(x[i], y[i], kw)),
                                           (4, x.shape[1])))
        out["kappa"].append(np.broadcast_to(np.asarray(model.kappa(x[i], y[i], kw)),
                                            x.shape[1:]))
    out = {k: np.array(v) for k, v in out.items()}
    out["alpha"] = np.moveaxis(out["alpha"], 1, 0)
    out["hess"] = np.moveaxis(out["hess"], 1, 0)
    return out


def strength(name, draws):
    """|κ| or γ per draw, as a (draws, 1) column: the scale of every quantity."""
    key = "kappa" if name == "CONVERGENCE" else "gamma_ext"
    return np.abs(draws[key])[:, None]


@pytest.fixture(scope="module", params=["CONVERGENCE", "SHEAR_GAMMA_PSI"])
def case(request):
    name = request.param
    rng = np.random.default_rng(301 if name == "CONVERGENCE" else 302)
    draws = draw(name, rng, N_DRAWS)
    x, y = points(rng, draws)
    return name, draws, x, y, ours(name, draws, x, y)


def assert_matches(name, draws, x, y, mine, ref, rtol):
    """ψ and α to ``rtol`` of their scale (strength·(r² + 1) and strength·(r + 1): the codes
    round different but equivalent expressions), H and κ to rtol of the strength."""
    r = np.hypot(x - draws["ra_0"][:, None], y - draws["dec_0"][:, None])
    s = strength(name, draws)
    below(np.abs(mine["pot"] - ref["pot"]), rtol * s * (r * r + 1), "ψ")
    below(np.hypot(*(mine["alpha"] - ref["alpha"])), rtol * s * (r + 1), "α")
    below(np.abs(mine["hess"] - ref["hess"]), rtol * s, "hessian")
    below(np.abs(mine["kappa"] - ref["kappa"]), rtol * s, "κ")


def below(difference, tolerance, what):
    with np.errstate(divide="ignore", invalid="ignore"):  # zero tolerance at κ = 0, γ = 0
        excess = difference / np.broadcast_to(tolerance, difference.shape)
    bad = difference > tolerance
    assert not bad.any(), f"{what}: {bad.sum()} points off, worst ×{np.max(excess):.3g}"


def test_matches_lenstronomy(case):
    """Measured max differences, relative to the scales in assert_matches: CONVERGENCE ψ 2.5e-16
    (a different operation order), α, H, κ identical; SHEAR_GAMMA_PSI ψ 6.7e-16 (lenstronomy
    evaluates ½ γ r² cos 2(φ − ψ_ext) through arctan2, ours ½ γ1 (x² − y²) + γ2 x y), α 2.1e-16,
    H and κ identical (lenstronomy converts to γ1, γ2 as we do)."""
    name, draws, x, y, mine = case
    ref = reference(LensModel([name]), x, y, draws)
    assert_matches(name, draws, x, y, mine, ref, rtol=1e-14)
    # at the origin: no deflection, no potential, in both
    np.testing.assert_array_equal(mine["alpha"][:, :, 0], 0.0)
    np.testing.assert_array_equal(mine["pot"][:, 0], 0.0)
    np.testing.assert_array_equal(ref["alpha"][:, :, 0], 0.0)


def test_matches_jaxtronomy(case):
    from jaxtronomy.LensModel.lens_model import LensModel as JaxLensModel

    name, draws, x, y, mine = case
    sub = np.s_[:40]
    draws = {k: v[sub] for k, v in draws.items()}
    ref = reference(JaxLensModel([name]), x[sub], y[sub], draws)
    mine = {k: v[..., sub, :] for k, v in mine.items()}
    assert_matches(name, draws, x[sub], y[sub], mine, ref, rtol=1e-14)


def test_closed_forms_and_reuse_of_the_cartesian_shear(case):
    """CONVERGENCE: ψ = κ r²/2 (to the rounding of a different operation order), α = κ (dx, dy),
    H = diag(κ, κ), κ everywhere — exactly.
    SHEAR_GAMMA_PSI: bit-for-bit the Cartesian SHEAR at γ1 = γ cos 2ψ, γ2 = γ sin 2ψ."""
    name, draws, x, y, mine = case
    dx, dy = x - draws["ra_0"][:, None], y - draws["dec_0"][:, None]
    if name == "CONVERGENCE":
        k = draws["kappa"][:, None]
        np.testing.assert_allclose(mine["pot"], 0.5 * k * (dx * dx + dy * dy), rtol=1e-15)
        np.testing.assert_array_equal(mine["alpha"], np.stack([k * dx, k * dy]))
        zero = np.zeros_like(dx)
        np.testing.assert_array_equal(mine["hess"], np.stack([k + zero, zero, zero, k + zero]))
        np.testing.assert_array_equal(mine["kappa"], k + zero)
        return
    cartesian = {"gamma1": draws["gamma_ext"] * np.cos(2 * draws["psi_ext"]),
                 "gamma2": draws["gamma_ext"] * np.sin(2 * draws["psi_ext"]),
                 "ra_0": draws["ra_0"], "dec_0": draws["dec_0"]}
    shear = ours("SHEAR", cartesian, x, y)
    for key in mine:
        np.testing.assert_array_equal(mine[key], shear[key], err_msg=key)


@partial(jax.jit, static_argnums=0)
def _autodiff(name, params, x, y):
    profile = lensframe.get_profile(name)
    grad = jnp.stack(jax.grad(lambda a, b: jnp.sum(profile.potential(a, b, **params)),
                              (0, 1))(x, y))
    hess = jnp.stack(lensframe.profile.MassProfile.hessian(profile, x, y, **params))
    return grad, hess


def test_internal_consistency(case):
    """κ = ½ trace H, f_xy = f_yx, α = ∇ψ and H = ∇α by autodiff (the classes write them out)."""
    name, draws, x, y, mine = case
    fxx, fxy, fyx, fyy = mine["hess"]
    np.testing.assert_allclose(mine["kappa"], 0.5 * (fxx + fyy), rtol=0, atol=1e-16)
    np.testing.assert_array_equal(fxy, fyx)
    grad, hess = _autodiff(name, column(draws), jnp.asarray(x), jnp.asarray(y))
    r = np.hypot(x - draws["ra_0"][:, None], y - draws["dec_0"][:, None])
    s = strength(name, draws)
    below(np.hypot(*(np.asarray(grad) - mine["alpha"])), 1e-14 * s * (r + 1), "∇ψ")
    np.testing.assert_allclose(np.asarray(hess), mine["hess"], rtol=0, atol=1e-15)


# -- gradients with respect to the parameters ---------------------------------------------------
@partial(jax.jit, static_argnums=(0, 1))
def _jvps(name, names, params, x, y):
    return parameter_jvps(lambda p: _evaluate(name, p, x, y), params, names)


@partial(jax.jit, static_argnums=0)
def _reverse(name, params, weights, x, y):
    profile = lensframe.get_profile(name)
    return jax.grad(lambda p: jnp.sum(weights * jnp.stack(profile.deflection(x, y, **p))))(params)


def test_gradients(case):
    """Every derivative of ψ, α, H, κ finite (at the origin, at κ = 0 and γ = 0 too) and equal to
    central differences (step 1e-6; the quantities are polynomials of degree ≤ 2 in the origin
    and linear in κ, γ, so only round-off, ~ε|f|/h, and the cubic term in ψ_ext remain: measured
    max 8e-10 relative to the largest derivative of the draw). Reverse mode finite as well, and the
    closed-form derivatives of α: ∂α/∂κ = (dx, dy); ∂α/∂ψ_ext = 2γ (−sin 2ψ (dx, −dy) +
    cos 2ψ (dy, dx)); ∂α/∂γ = (cos 2ψ (dx, −dy) + sin 2ψ (dy, dx))."""
    name, draws, x, y, _ = case
    names = PARAMS[name]
    params, xj, yj = column(draws), jnp.asarray(x), jnp.asarray(y)
    ad = {k: np.asarray(v) for k, v in _jvps(name, names, params, xj, yj).items()}
    weights = jnp.asarray(np.random.default_rng(1).normal(size=(2, *x.shape)))
    for n, g in _reverse(name, params, weights, xj, yj).items():
        assert np.all(np.isfinite(np.asarray(g))), f"reverse-mode ∂/∂{n} not finite"
    h = 1e-6
    near = np.s_[:, :, 4:]  # the far points' ψ ~ 1e8 would drown the differences in round-off
    for i, n in enumerate(names):
        up = _evaluate(name, dict(params, **{n: params[n] + h}), xj, yj)
        down = _evaluate(name, dict(params, **{n: params[n] - h}), xj, yj)
        for q in ad:
            assert np.all(np.isfinite(ad[q][i])), f"∂{q}/∂{n} not finite"
            fd = (np.asarray(up[q]) - np.asarray(down[q])) / (2 * h)
            a, f = ad[q][i].reshape(-1, *x.shape), fd.reshape(-1, *x.shape)
            scale = np.max(np.abs(f[near]), axis=(0, 2), keepdims=True)
            err = np.abs(a - f)[near] / np.where(scale > 0, scale, 1.0)
            assert err.max() < 1e-7, f"∂{q}/∂{n}: off finite differences by {err.max():.2e}"
    dx, dy = x - draws["ra_0"][:, None], y - draws["dec_0"][:, None]
    alpha = {n: ad["alpha"][i] for i, n in enumerate(names)}
    if name == "CONVERGENCE":
        np.testing.assert_array_equal(alpha["kappa"], np.stack([dx, dy]))
        return
    c2, s2 = np.cos(2 * draws["psi_ext"])[:, None], np.sin(2 * draws["psi_ext"])[:, None]
    g = draws["gamma_ext"][:, None]
    np.testing.assert_allclose(alpha["gamma_ext"], np.stack([c2 * dx + s2 * dy, s2 * dx - c2 * dy]),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(alpha["psi_ext"],
                               2 * g * np.stack([-s2 * dx + c2 * dy, c2 * dx + s2 * dy]),
                               rtol=1e-13, atol=1e-13)
