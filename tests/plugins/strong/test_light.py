"""SERSIC, GAUSSIAN, GAUSSIAN_ELLIPSE, MULTI_GAUSSIAN and SHAPELETS against lenstronomy's
LightModel, evaluated at test time: ≥ 200 seeded random draws each, plus the centre (r = 0), the
round limit e1 = e2 = 0, q = 0.2 and large Sérsic indices; shapelets at n_max = 0, 1, 4, 10 with
lenstronomy's ``amp`` array, and their basis order checked one coefficient at a time against a
closed form; parameter gradients finite and equal to central finite differences; bad options
rejected by name.
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
from scipy.special import eval_hermite, factorial  # noqa: E402

N_DRAWS = 220
Q_MIN = 0.2
N_MIXTURE = 4  # Gaussians in the MULTI_GAUSSIAN draws


def ellipticity(q, phi):
    e = (1.0 - q) / (1.0 + q)
    return e * np.cos(2.0 * phi), e * np.sin(2.0 * phi)


def draw(name, rng, n, n_max=None):
    """Parameters of ``n`` random profiles, in lensframe's names: {name: array (n,)}."""
    centre = {"center_x": rng.uniform(-0.5, 0.5, n), "center_y": rng.uniform(-0.5, 0.5, n)}
    if name == "SERSIC":
        n_sersic = rng.uniform(0.5, 8.0, n)
        n_sersic[:10] = 10.0  # the largest index the ParamSpec allows
        return {"amp": rng.uniform(0.1, 10.0, n), "R_sersic": rng.uniform(0.05, 3.0, n),
                "n_sersic": n_sersic, **centre}
    if name in ("GAUSSIAN", "GAUSSIAN_ELLIPSE"):
        params = {"amp": rng.uniform(0.1, 10.0, n), "sigma": rng.uniform(0.05, 3.0, n)}
        if name == "GAUSSIAN_ELLIPSE":
            q = rng.uniform(Q_MIN, 1.0, n)
            q[:10] = Q_MIN
            q[10:20] = 1.0  # e1 = e2 = 0
            params["e1"], params["e2"] = ellipticity(q, rng.uniform(0.0, np.pi, n))
        return {**params, **centre}
    if name == "MULTI_GAUSSIAN":
        params = {f"amp_{i}": rng.uniform(-2.0, 10.0, n) for i in range(N_MIXTURE)}
        params.update({f"sigma_{i}": rng.uniform(0.05, 3.0, n) for i in range(N_MIXTURE)})
        return {**params, **centre}
    if name == "SHAPELETS":
        k = (n_max + 1) * (n_max + 2) // 2
        params = {f"amp_{i}": rng.normal(0.0, 3.0, n) for i in range(k)}
        return {"beta": rng.uniform(0.1, 1.5, n), **centre, **params}
    raise KeyError(name)


def to_lenstronomy(name, params, i, n_max=None):
    """The i-th draw as lenstronomy kwargs; list-valued amp/sigma for MULTI_GAUSSIAN and SHAPELETS
    (lensframe's amp_j is lenstronomy's amp[j])."""
    kw = {k: float(v[i]) for k, v in params.items() if not k.startswith(("amp_", "sigma_"))}
    if name == "MULTI_GAUSSIAN":
        kw["amp"] = [float(params[f"amp_{j}"][i]) for j in range(N_MIXTURE)]
        kw["sigma"] = [float(params[f"sigma_{j}"][i]) for j in range(N_MIXTURE)]
    if name == "SHAPELETS":
        k = (n_max + 1) * (n_max + 2) // 2
        kw["amp"] = np.array([params[f"amp_{j}"][i] for j in range(k)])
        kw["n_max"] = n_max
    return kw


def reference(name, x, y, params, n_max=None):
    model = LightModel([name])
    return np.array([model.surface_brightness(x[i], y[i], [to_lenstronomy(name, params, i, n_max)])
                     for i in range(x.shape[0])])


def profile_of(name, n_max=None):
    if name == "MULTI_GAUSSIAN":
        return lensframe.get_profile(name, n_components=N_MIXTURE)
    if name == "SHAPELETS":
        return lensframe.get_profile(name, n_max=n_max)
    return lensframe.get_profile(name)


def column(params):
    return {k: jnp.asarray(v, float)[:, None] for k, v in params.items()}


@partial(jax.jit, static_argnums=0)
def _brightness(profile, params, x, y):
    return profile.surface_brightness(x, y, **params)


def evaluate(profile, x, y, params):
    return np.asarray(_brightness(profile, column(params), jnp.asarray(x), jnp.asarray(y)))


def points(rng, params, n_points=24, r_max=4.0):
    """Per draw: the centre exactly, then random points out to r_max arcsec from it."""
    n = len(params["center_x"])
    r = np.sqrt(rng.uniform(0.0, 1.0, (n, n_points))) * r_max
    r[:, 0] = 0.0
    t = rng.uniform(0.0, 2.0 * np.pi, (n, n_points))
    return params["center_x"][:, None] + r * np.cos(t), params["center_y"][:, None] + r * np.sin(t)


def scaled_error(ours, ref):
    """Per draw, max |ours − ref| over the draw's largest |ref|."""
    scale = np.max(np.abs(ref), axis=1, keepdims=True)
    return np.max(np.abs(ours - ref) / np.where(scale > 0, scale, 1.0))


# -- values ------------------------------------------------------------------------------------
SEEDS = ("SERSIC", "GAUSSIAN", "GAUSSIAN_ELLIPSE", "MULTI_GAUSSIAN")


@pytest.mark.parametrize("name", SEEDS)
def test_random_draws_match_lenstronomy(name):
    rng = np.random.default_rng(301 + list(SEEDS).index(name))
    params = draw(name, rng, N_DRAWS)
    x, y = points(rng, params)
    ours = evaluate(profile_of(name), x, y, params)
    ref = reference(name, x, y, params)
    assert np.all(np.isfinite(ours))
    if name == "MULTI_GAUSSIAN":  # signed amplitudes: compare with the draw's scale
        assert scaled_error(ours, ref) < 1e-13
    else:  # positive profiles: pointwise relative (measured ≤ 4e-13: exponents
        # up to ~1e3 amplify round-off in exp); XLA flushes subnormal
        # results (< 2.2e-308) to zero where numpy keeps them
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-300)
    # the centre (r = 0) is finite and, for these profiles, the maximum of each draw
    if name != "MULTI_GAUSSIAN":
        np.testing.assert_array_equal(ours[:, 0], ours.max(axis=1))


def test_sersic_is_the_round_sersic_ellipse():
    rng = np.random.default_rng(302)
    params = draw("SERSIC", rng, 50)
    x, y = points(rng, params)
    ellipse = dict(params, e1=np.zeros(50), e2=np.zeros(50))
    np.testing.assert_array_equal(evaluate(profile_of("SERSIC"), x, y, params),
                                  evaluate(lensframe.get_profile("SERSIC_ELLIPSE"), x, y, ellipse))


def test_awkward_places_match_lenstronomy():
    """r = 0 and r inside the Sérsic floor (1e-4 arcsec), far field beyond 1000 R_sersic, large
    n_sersic, q = 0.2 and e1 = e2 = 0 for the elliptical Gaussian, tiny and large σ."""
    # (the radii keep clear of exactly 1000 R_sersic, where either code may round to either side)
    r = np.concatenate([[0.0, 1e-6, 5e-5], np.geomspace(1e-3, 10.0, 14), [60.0, 999.0, 1001.0]])
    t = np.linspace(0.0, 2.0 * np.pi, len(r), endpoint=False)
    cases = {
        "SERSIC": {"amp": [2.0] * 4, "R_sersic": [0.05, 0.05, 1.0, 3.0],
                   "n_sersic": [0.5, 10.0, 8.0, 10.0]},
        "GAUSSIAN": {"amp": [2.0] * 3, "sigma": [1e-3, 0.3, 30.0]},
        "GAUSSIAN_ELLIPSE": {"amp": [2.0] * 5, "sigma": [0.3, 0.3, 0.3, 2.0, 1e-2],
                             "e1": [0.0, 2.0 / 3.0, 0.0, -2.0 / 3.0 * np.cos(1.0), 1e-9],
                             "e2": [0.0, 0.0, 2.0 / 3.0, 2.0 / 3.0 * np.sin(1.0), 0.0]},
    }
    for name, params in cases.items():
        m = len(next(iter(params.values())))
        params = {k: np.asarray(v, float) for k, v in params.items()}
        params.update(center_x=np.full(m, 0.13), center_y=np.full(m, -0.21))
        x = np.tile(0.13 + r * np.cos(t), (m, 1))
        y = np.tile(-0.21 + r * np.sin(t), (m, 1))
        ours = evaluate(profile_of(name), x, y, params)
        assert np.all(np.isfinite(ours)), name
        np.testing.assert_allclose(ours, reference(name, x, y, params), rtol=1e-12, atol=1e-300,
                                   err_msg=name)


def test_multi_gaussian_is_a_sum_of_gaussians_with_lenstronomy_lists():
    # lenstronomy's MULTI_GAUSSIAN(amp=[a0, a1], sigma=[s0, s1]) ≡ amp_0=a0, amp_1=a1, sigma_0=s0...
    profile = lensframe.get_profile("MULTI_GAUSSIAN", n_components=2)
    assert profile.param_names == ("amp_0", "amp_1", "sigma_0", "sigma_1", "center_x", "center_y")
    assert [p.linear for p in profile.params] == [True, True, False, False, False, False]
    x, y = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 9))
    ours = profile.surface_brightness(x, y, amp_0=3.0, amp_1=0.5, sigma_0=0.2, sigma_1=1.1,
                                      center_x=0.1, center_y=0.0)
    gauss = lensframe.get_profile("GAUSSIAN")
    parts = (gauss.surface_brightness(x, y, amp=3.0, sigma=0.2, center_x=0.1, center_y=0.0)
             + gauss.surface_brightness(x, y, amp=0.5, sigma=1.1, center_x=0.1, center_y=0.0))
    np.testing.assert_allclose(ours, parts, rtol=1e-15)
    ref = LightModel(["MULTI_GAUSSIAN"]).surface_brightness(
        x, y, [{"amp": [3.0, 0.5], "sigma": [0.2, 1.1], "center_x": 0.1, "center_y": 0.0}])
    np.testing.assert_allclose(ours, ref, rtol=1e-13)


# -- shapelets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n_max", [0, 1, 4, 10])
def test_shapelets_match_lenstronomy(n_max):
    rng = np.random.default_rng(310 + n_max)
    params = draw("SHAPELETS", rng, 200, n_max)
    x, y = points(rng, params, n_points=20, r_max=3.0)
    profile = profile_of("SHAPELETS", n_max)
    assert len(profile.params) == 3 + (n_max + 1) * (n_max + 2) // 2
    ours = evaluate(profile, x, y, params)
    ref = reference("SHAPELETS", x, y, params, n_max)
    # lenstronomy zeroes the basis beyond u = 5 √(n+2) (one side only); there |φ| < 1e-10, so the
    # comparison is against each draw's largest value (measured 1.2e-11 overall, ≤ 2.2e-15 where
    # neither code cuts)
    assert scaled_error(ours, ref) < 1e-10
    far = np.abs(np.stack([x - params["center_x"][:, None], y - params["center_y"][:, None]]))
    near = np.all(far / params["beta"][:, None] < 5.0, axis=0)
    scale = np.max(np.abs(ref), axis=1, keepdims=True)
    assert np.max((np.abs(ours - ref) / scale)[near]) < 1e-13


def phi(n, u):
    """Refregier's φ_n(u) = [2ⁿ √π n!]^(−1/2) H_n(u) e^(−u²/2), with scipy's H_n."""
    return eval_hermite(n, u) * np.exp(-u * u / 2.0) / np.sqrt(2.0**n * np.sqrt(np.pi)
                                                             * factorial(n))


def test_shapelet_basis_order_is_lenstronomys():
    """amp_i alone switches on φ_{n1}(x/β) φ_{n2}(y/β) with (n1, n2) = (0,0), (1,0), (0,1), (2,0),
    (1,1), (0,2), …; the same one-hot ``amp`` array in lenstronomy gives the same image."""
    n_max = 4
    profile = lensframe.get_profile("SHAPELETS", n_max=n_max)
    expected = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3),
                (4, 0), (3, 1), (2, 2), (1, 3), (0, 4)]
    beta, cx, cy = 0.6, 0.2, -0.1
    x, y = np.meshgrid(np.linspace(-1.5, 1.7, 11), np.linspace(-1.6, 1.4, 13))
    model = LightModel(["SHAPELETS"])
    for i, (n1, n2) in enumerate(expected):
        amps = {f"amp_{j}": float(j == i) for j in range(len(expected))}
        ours = np.asarray(profile.surface_brightness(x, y, beta=beta, center_x=cx, center_y=cy,
                                                     **amps))
        closed = phi(n1, (x - cx) / beta) * phi(n2, (y - cy) / beta)
        np.testing.assert_allclose(ours, closed, rtol=1e-12, atol=1e-14, err_msg=f"amp_{i}")
        ref = model.surface_brightness(x.ravel(), y.ravel(), [
            {"amp": np.eye(len(expected))[i], "n_max": n_max, "beta": beta, "center_x": cx,
             "center_y": cy}]).reshape(x.shape)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14, err_msg=f"amp_{i}")


def test_shapelets_far_out_and_high_order_are_finite():
    profile = lensframe.get_profile("SHAPELETS", n_max=16)
    amps = {f"amp_{i}": 1.0 for i in range(17 * 18 // 2)}
    x = jnp.array([0.0, 3.0, 40.0, 1e3, -1e6])

    @jax.jit
    def value_and_grad(beta):
        f = lambda b: profile.surface_brightness(x, 0.5 * x, beta=b, **amps)  # noqa: E731
        return f(beta), jax.grad(lambda b: jnp.sum(f(b)))(beta)

    sb, grad = value_and_grad(0.5)
    assert np.all(np.isfinite(sb)) and sb[-1] == 0.0 and sb[-2] == 0.0
    assert np.isfinite(grad)


# -- gradients ---------------------------------------------------------------------------------
@partial(jax.jit, static_argnums=(0, 1))
def _jvps(profile, names, params, x, y):
    return parameter_jvps(lambda p: _brightness(profile, p, x, y), params, names)


@partial(jax.jit, static_argnums=0)
def _weighted_grad(profile, params, weights, x, y):
    return jax.grad(lambda p: jnp.sum(weights * _brightness(profile, p, x, y)))(params)


GRADIENT_CASES = [("SERSIC", None), ("GAUSSIAN", None), ("GAUSSIAN_ELLIPSE", None),
                  ("MULTI_GAUSSIAN", None), ("SHAPELETS", 4)]


@pytest.mark.parametrize("name,n_max", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients_match_finite_differences(name, n_max):
    rng = np.random.default_rng(320)
    params = draw(name, rng, 200, n_max)
    if name == "GAUSSIAN_ELLIPSE":
        params["e1"][20:40] = params["e2"][20:40] = 0.0
    profile = profile_of(name, n_max)
    names = tuple(profile.param_names)
    # off the centre: the Sérsic floor (1e-4 arcsec) is a kink in R
    r = np.exp(rng.uniform(np.log(0.02), np.log(3.0), (200, 10)))
    t = rng.uniform(0, 2 * np.pi, (200, 10))
    x = params["center_x"][:, None] + r * np.cos(t)
    y = params["center_y"][:, None] + r * np.sin(t)
    p, xj, yj = column(params), jnp.asarray(x), jnp.asarray(y)
    jvps = np.asarray(_jvps(profile, names, p, xj, yj))
    weights = jnp.asarray(rng.normal(size=x.shape))
    grads = _weighted_grad(profile, p, weights, xj, yj)
    h = 1e-6
    for i, key in enumerate(names):
        assert np.all(np.isfinite(jvps[i])), f"d/d{key} not finite"
        want = np.sum(np.asarray(weights) * jvps[i], axis=1)[:, None]
        np.testing.assert_allclose(grads[key], want, rtol=1e-9,
                                   atol=1e-12 * np.max(np.abs(want)), err_msg=f"reverse d/d{key}")
        up = np.asarray(_brightness(profile, dict(p, **{key: p[key] + h}), xj, yj))
        down = np.asarray(_brightness(profile, dict(p, **{key: p[key] - h}), xj, yj))
        fd = (up - down) / (2 * h)
        scale = np.max(np.abs(fd), axis=1, keepdims=True)
        err = np.max(np.abs(jvps[i] - fd) / np.where(scale > 0, scale, 1.0))
        assert err < 1e-5, f"{name} d/d{key}: autodiff and finite differences differ by {err:.1e}"


@pytest.mark.parametrize("name,n_max", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients_finite_at_the_centre_and_round(name, n_max):
    profile = profile_of(name, n_max)
    params = {k: v[0] for k, v in draw(name, np.random.default_rng(321), 1, n_max).items()}
    if name == "GAUSSIAN_ELLIPSE":
        params.update(e1=0.0, e2=0.0)
    x = jnp.array([params["center_x"], params["center_x"] + 1e-7, 0.5, 1e3])
    y = jnp.array([params["center_y"], params["center_y"], -0.3, 1e3])
    grads = jax.grad(lambda p: jnp.sum(profile.surface_brightness(x, y, **p)))(params)
    assert all(np.isfinite(v) for v in grads.values()), grads


# -- options and registration ------------------------------------------------------------------
def test_option_dependent_parameters_and_registration():
    spec = lensframe.get_registry().get("SHAPELETS", "profile")
    default = lensframe.get_profile("SHAPELETS")
    assert tuple(p.name for p in spec.params) == default.param_names
    assert default.options.n_max == 2 and len(default.param_names) == 3 + 6
    six = lensframe.get_profile("SHAPELETS", n_max=6)
    amps = [p for p in six.params if p.name.startswith("amp_")]
    assert len(amps) == 28 and all(p.linear for p in amps) and amps[-1].name == "amp_27"
    assert "(n1, n2) = (0, 6)" in amps[-1].description
    assert len(lensframe.get_profile("SHAPELETS", n_max=0).params) == 4
    mge = lensframe.get_profile("MULTI_GAUSSIAN")
    assert mge.param_names == tuple(p.name for p in
                                    lensframe.get_registry().get("MULTI_GAUSSIAN",
                                                                 "profile").params)


@pytest.mark.parametrize("name,options,match", [
    ("SHAPELETS", {"n_max": -1}, r"profile 'SHAPELETS'.*option 'n_max' must be an integer ≥ 0, "
                                 r"got -1"),
    ("SHAPELETS", {"n_max": 2.5}, r"option 'n_max' must be an integer"),
    ("SHAPELETS", {"nmax": 2}, r"unknown option\(s\) 'nmax' \(did you mean 'n_max'\?\)"),
    ("MULTI_GAUSSIAN", {"n_components": 0}, r"option 'n_components' must be an integer ≥ 1"),
])
def test_bad_options_are_rejected_by_name(name, options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        lensframe.get_profile(name, **options)


def test_bad_n_max_in_a_config_names_the_component(tiny_spec):
    from lensframe.problem import Problem

    components, data, _ = tiny_spec()
    components["source"] = {"profile": "SHAPELETS", "plane": "source", "n_max": -2,
                            "params": {"beta": 0.2}}
    with pytest.raises(ValueError, match=r"components.source: profile 'SHAPELETS'.*'n_max' must "
                                         r"be an integer ≥ 0, got -2"):
        Problem.build(components, data)


def test_shapelet_amplitudes_are_solved_linearly(tiny_spec):
    """An imaging problem with a SHAPELETS source, every amplitude linear: on noise-free data
    made with known coefficients the linear solve returns them."""
    from lensframe.problem import Problem

    components, data, _ = tiny_spec()
    n_max = 2
    truth = {"amp_0": 30.0, "amp_1": -4.0, "amp_2": 6.0, "amp_3": 2.0, "amp_4": -3.0, "amp_5": 1.5}
    shape = {"beta": 0.15, "center_x": 0.05, "center_y": -0.03}
    lens = {"profile": "SIS", "params": {"theta_E": 0.6}}

    def source(params):
        return {"profile": "SHAPELETS", "plane": "source", "n_max": n_max,
                "params": {**shape, **params}}

    opts = {"supersampling": 1}
    exact = Problem.build({"lens": lens, "source": source(truth)}, data, likelihood_options=opts)
    clean = exact.likelihood.products(exact.values(np.zeros(0), exact.args), exact.args["data"])
    problem = Problem.build({"lens": lens, "source": source({k: "linear" for k in truth})},
                            dict(data, image=np.asarray(clean["model"])), likelihood_options=opts)
    assert problem.layout.linear == tuple(f"source.amp_{i}" for i in range(6))
    solved = problem.named(np.zeros(0))
    for key, value in truth.items():
        assert solved[f"source.{key}"] == pytest.approx(value, rel=1e-8, abs=1e-8)
