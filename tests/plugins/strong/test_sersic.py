"""Elliptical Sérsic surface brightness against lenstronomy's SERSIC_ELLIPSE and against a closed
form written here in numpy (rotation into the major-axis frame, R = √(q x'² + y'²/q)), at random
draws and at the awkward places; parameter gradients against finite differences.

Both codes floor R at 1e-4 arcsec and set the light to zero beyond 1000 R_sersic, so the comparison
holds to round-off everywhere, the centre and the far field included.
"""

from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe.testing import parameter_jvps  # noqa: E402
from lenstronomy.LightModel.light_model import LightModel  # noqa: E402

PARAMS = ("amp", "R_sersic", "n_sersic", "e1", "e2", "center_x", "center_y")
Q_MIN = 0.2
E_MAX = (1 - Q_MIN) / (1 + Q_MIN)
R_FLOOR = 1e-4  # arcsec, lenstronomy's smoothing
MAX_R_FRAC = 1000.0  # lenstronomy's SERSIC_ELLIPSE default max_R_frac


@pytest.fixture(scope="module")
def sersic():
    return lensframe.get_profile("SERSIC_ELLIPSE")


def ellipticity(q, phi):
    e = (1.0 - q) / (1.0 + q)
    return e * np.cos(2.0 * phi), e * np.sin(2.0 * phi)


def draw(rng, n):
    q = rng.uniform(Q_MIN, 1.0, n)
    q[:8] = Q_MIN
    e1, e2 = ellipticity(q, rng.uniform(0.0, np.pi, n))
    return {"amp": rng.uniform(0.1, 10.0, n), "R_sersic": rng.uniform(0.05, 3.0, n),
            "n_sersic": rng.uniform(0.5, 8.0, n), "e1": e1, "e2": e2,
            "center_x": rng.uniform(-0.5, 0.5, n), "center_y": rng.uniform(-0.5, 0.5, n)}


def column(draws):
    return {k: jnp.asarray(v, float)[:, None] for k, v in draws.items()}


def closed_form(x, y, draws):
    """amp exp(−b_n [(R/R_sersic)^(1/n) − 1]), b_n = 1.9992 n − 0.3271, R = √(q x'² + y'²/q)
    floored at 1e-4 and zero beyond 1000 R_sersic (numpy, via the axis angle)."""
    p = {k: np.asarray(v, float)[:, None] for k, v in draws.items()}
    e = np.hypot(p["e1"], p["e2"])
    q = (1.0 - e) / (1.0 + e)
    phi = 0.5 * np.arctan2(p["e2"], p["e1"])
    dx, dy = x - p["center_x"], y - p["center_y"]
    xp = np.cos(phi) * dx + np.sin(phi) * dy
    yp = -np.sin(phi) * dx + np.cos(phi) * dy
    frac = np.maximum(np.sqrt(q * xp**2 + yp**2 / q), R_FLOOR) / p["R_sersic"]
    b_n = 1.9992 * p["n_sersic"] - 0.3271
    with np.errstate(over="ignore"):
        value = p["amp"] * np.exp(-b_n * (frac ** (1.0 / p["n_sersic"]) - 1.0))
    return np.where(frac <= MAX_R_FRAC, value, 0.0)


def reference(x, y, draws):
    model = LightModel(["SERSIC_ELLIPSE"])
    return np.array([model.surface_brightness(x[i], y[i], [{k: float(v[i]) for k, v in
                                                             draws.items()}])
                     for i in range(x.shape[0])])


@partial(jax.jit, static_argnums=0)
def _brightness(profile, params, x, y):
    return profile.surface_brightness(x, y, **params)


def evaluate(profile, x, y, draws):
    return np.asarray(_brightness(profile, column(draws), jnp.asarray(x), jnp.asarray(y)))


def test_random_draws_match_lenstronomy_and_closed_form(sersic):
    rng = np.random.default_rng(201)
    draws = draw(rng, 300)
    x, y = rng.uniform(-4, 4, (2, 300, 30))
    ours = evaluate(sersic, x, y, draws)
    # measured max relative difference 6e-14 (the exponent b_n (R/R_s)^(1/n) reaches ~1e2..1e4
    # for small n, so its round-off is amplified in exp; exact zeros compare as equal)
    np.testing.assert_allclose(ours, reference(x, y, draws), rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours, closed_form(x, y, draws), rtol=1e-12, atol=0)


def awkward_draws():
    """e = 0, tiny e, q = 0.2, and the extreme n and R_sersic, with three orientations each."""
    cases = []
    for e in (0.0, 1e-7, 1e-5, 2e-5, 0.3, E_MAX):
        for angle in (0.0, 0.7, 2.3):
            for n, R in ((0.5, 0.05), (4.0, 1.0), (8.0, 0.05), (8.0, 3.0)):
                cases.append((e * np.cos(angle), e * np.sin(angle), n, R))
    e1, e2, n, R = map(np.array, zip(*cases))
    m = len(e1)
    return {"amp": np.full(m, 2.5), "R_sersic": R, "n_sersic": n, "e1": e1, "e2": e2,
            "center_x": np.full(m, 0.13), "center_y": np.full(m, -0.21)}


def awkward_points(draws):
    """The centre exactly, points inside the R floor, ordinary radii, and large radii on both
    sides of the 1000 R_sersic truncation (for R_sersic = 0.05: 50 arcsec)."""
    r = np.concatenate([[0.0, 1e-6, 5e-5], np.geomspace(1e-3, 5.0, 12), [20.0, 45.0, 49.9,
                                                                           50.1, 300.0, 1e4]])
    t = np.linspace(0.0, 2.0 * np.pi, len(r), endpoint=False)
    return (draws["center_x"][:, None] + r * np.cos(t), draws["center_y"][:, None] + r * np.sin(t))


def test_awkward_places_match_lenstronomy(sersic):
    draws = awkward_draws()
    x, y = awkward_points(draws)
    ours = evaluate(sersic, x, y, draws)
    ref = reference(x, y, draws)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours, closed_form(x, y, draws), rtol=1e-12, atol=0)
    # the centre and points inside the 1e-4 floor all take the floored value: finite, equal
    assert np.all(np.isfinite(ours)) and np.all(ours[:, 0] > 0)
    np.testing.assert_array_equal(ours[:, 0], ours[:, 1])
    # light far beyond 1000 R_sersic is cut in both codes; inside it is not
    far = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])
    assert np.all(ours[far > 1500 * draws["R_sersic"][:, None]] == 0)
    assert np.any(ours[(far > 200 * draws["R_sersic"][:, None])
                       & (far < 900 * draws["R_sersic"][:, None])] > 0)


def test_round_limit_is_continuous(sersic):
    rng = np.random.default_rng(203)
    base = draw(rng, 40)
    x, y = rng.uniform(-3, 3, (2, 40, 50))
    round_ = evaluate(sersic, x, y, dict(base, e1=np.zeros(40), e2=np.zeros(40)))
    tiny = evaluate(sersic, x, y, dict(base, e1=np.full(40, 1e-9), e2=np.full(40, -1e-9)))
    # an ellipticity of 1e-9 changes R by at most ~3e-9 relative, and ln I by b_n/n (R/R_s)^(1/n)
    # times that
    n = base["n_sersic"][:, None]
    frac = np.hypot(x - base["center_x"][:, None], y - base["center_y"][:, None])
    frac = frac / base["R_sersic"][:, None]
    slope = 1.0 + (1.9992 * n - 0.3271) / n * frac ** (1.0 / n)
    np.testing.assert_array_less(np.abs(tiny - round_), 1e-8 * slope * round_ + 1e-300)
    assert np.any(tiny != round_)  # the tiny ellipticity is seen at all


# -- gradients ---------------------------------------------------------------------------------
@partial(jax.jit, static_argnums=(0, 1))
def _jvps(profile, names, params, x, y):
    return parameter_jvps(lambda p: _brightness(profile, p, x, y), params, names)


@partial(jax.jit, static_argnums=0)
def _weighted_grad(profile, params, weights, x, y):
    return jax.grad(lambda p: jnp.sum(weights * _brightness(profile, p, x, y)))(params)


def autodiff(profile, draws, x, y):
    """Forward-mode ∂I/∂p at every point for every parameter, and reverse mode checked against
    it through Σ w·I."""
    params, x, y = column(draws), jnp.asarray(x), jnp.asarray(y)
    jvps = np.asarray(_jvps(profile, PARAMS, params, x, y))
    weights = jnp.asarray(np.random.default_rng(0).normal(size=x.shape))
    grads = _weighted_grad(profile, params, weights, x, y)
    for i, name in enumerate(PARAMS):
        assert np.all(np.isfinite(jvps[i])), f"forward-mode d/d{name} not finite"
        assert np.all(np.isfinite(np.asarray(grads[name]))), f"reverse-mode d/d{name} not finite"
        want = np.sum(np.asarray(weights) * jvps[i], axis=1)[:, None]
        np.testing.assert_allclose(grads[name], want, rtol=1e-9,
                                   atol=1e-12 * np.max(np.abs(want)), err_msg=f"d/d{name}")
    return dict(zip(PARAMS, jvps))


def assert_matches_finite_differences(profile, draws, x, y, h=1e-6, rtol=1e-5):
    """Per draw, |autodiff − central difference| relative to the draw's largest derivative."""
    ad = autodiff(profile, draws, x, y)
    params, xj, yj = column(draws), jnp.asarray(x), jnp.asarray(y)
    for name in PARAMS:
        up = dict(params, **{name: params[name] + h})
        down = dict(params, **{name: params[name] - h})
        fd = np.asarray(_brightness(profile, up, xj, yj) - _brightness(profile, down, xj, yj))
        fd = fd / (2 * h)
        scale = np.max(np.abs(fd), axis=1, keepdims=True)
        err = np.max(np.abs(ad[name] - fd) / np.where(scale > 0, scale, 1.0))
        assert err < rtol, f"d/d{name}: autodiff and finite differences differ by {err:.2e}"


def test_gradients_match_finite_differences(sersic):
    rng = np.random.default_rng(204)
    draws = draw(rng, 200)
    draws["e1"][8:30] = draws["e2"][8:30] = 0.0  # round
    # keep off the R floor (1e-4) where the profile has a kink: R ≥ 0.01 arcsec
    r = np.exp(rng.uniform(np.log(0.02), np.log(4.0), (200, 12)))
    t = rng.uniform(0, 2 * np.pi, (200, 12))
    x = draws["center_x"][:, None] + r * np.cos(t)
    y = draws["center_y"][:, None] + r * np.sin(t)
    assert_matches_finite_differences(sersic, draws, x, y)


def test_gradients_finite_at_awkward_places(sersic):
    draws = awkward_draws()
    autodiff(sersic, draws, *awkward_points(draws))
