"""The ``nnls`` solver against scipy.optimize.nnls (computed here, at test time) on random weighted
problems with 1 to 60 amplitudes, most of whose unconstrained solutions have negative entries;
under ``jit`` and ``vmap``; an honest convergence flag; gradients finite and equal to finite
differences of the least-squares solution on the active set.

Every compiled program is built once per shape (module-level jitted functions) because compiling
the solver's loop, not running it, is what costs time here."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe_linear.nnls import NonNegativeLeastSquares  # noqa: E402
from scipy.optimize import nnls as scipy_nnls  # noqa: E402

N_ROWS = 150
SIZES = (1, 2, 5, 13, 34, 60)
FAMILIES = ("gaussian", "positive", "bumps")
PER_FAMILY = 8

SOLVER = lensframe.get_solver("nnls")  # the registered one
SOLVE = jax.jit(SOLVER.solve)
VSOLVE = jax.jit(jax.vmap(SOLVER.solve))


def problem(rng, k, family, n=N_ROWS, bias=0.0):
    """(design, target, weights): ``gaussian`` — independent columns; ``positive`` — strongly
    correlated positive columns; ``bumps`` — overlapping Gaussian bumps, as light profiles make
    (ill-conditioned, up to singular to round-off). Targets come from random coefficients of both
    signs (mean ``bias``) plus noise, so the unconstrained optimum has negative entries."""
    if family == "gaussian":
        design = rng.normal(size=(n, k))
    elif family == "positive":
        design = np.abs(rng.normal(size=(n, k))) + 0.5
    else:
        t = np.linspace(0.0, 1.0, n)[:, None]
        design = np.exp(-0.5 * ((t - rng.uniform(0, 1, k)) / rng.uniform(0.03, 0.3, k)) ** 2)
    target = design @ (bias + rng.normal(size=k)) + 0.1 * rng.normal(size=n)
    weights = rng.uniform(0.2, 3.0, n)
    weights[rng.uniform(size=n) < 0.1] = 0.0  # masked pixels
    return design, target, weights


def reference(design, target, weights):
    root = np.sqrt(weights)
    return scipy_nnls(design * root[:, None], target * root, maxiter=50 * design.shape[1])[0]


def chi2(design, target, weights, x):
    return float(np.sum(weights * (design @ x - target) ** 2))


@pytest.mark.parametrize("k", SIZES)
def test_matches_scipy_on_random_problems(k):
    rng = np.random.default_rng(400 + k)
    cases = [(family, *problem(rng, k, family)) for family in FAMILIES for _ in range(PER_FAMILY)]
    designs, targets, weights = (np.stack([c[i] for c in cases]) for i in (1, 2, 3))
    xs, info = VSOLVE(designs, targets, weights)  # one batch: vmap, under jit
    xs = np.asarray(xs)
    assert np.all(np.asarray(info["converged"])), f"k={k}: not converged"
    assert np.all(np.asarray(info["iterations"]) <= max(3 * k, 10))
    n_negative = n_active = 0
    for (family, a, b, w), x in zip(cases, xs):
        ref = reference(a, b, w)
        assert np.all(x >= 0.0)
        # the objective agrees to round-off (measured ≤ 5e-16 relative) ...
        assert chi2(a, b, w, x) <= chi2(a, b, w, ref) * (1 + 1e-12)
        # ... and so does the solution where it is well determined (measured ≤ 3e-12 of the
        # largest amplitude; for the bumps the design can be singular to round-off, cond ~1e17,
        # where the minimiser itself is not unique to that precision)
        if family != "bumps":
            np.testing.assert_allclose(x, ref, rtol=0, atol=1e-10 * max(np.abs(ref).max(), 1))
        n_active += int(np.any(x == 0))
        root = np.sqrt(w)
        unconstrained = np.linalg.lstsq(a * root[:, None], b * root, rcond=None)[0]
        n_negative += int(np.any(unconstrained < 0))
    # the constraints mattered: for k ≥ 5 in (nearly) every problem (a coefficient of either sign
    # is drawn with equal odds, so for k = 1, 2 in about half and three quarters of them)
    share = 0.9 if k >= 5 else 0.25
    assert n_negative >= share * len(cases) and n_active >= 0.8 * share * len(cases)


def test_kkt_conditions_hold():
    """x ≥ 0; gradient Aᵀ W (b − A x) zero on the passive set and ≤ 0 on the active set."""
    rng = np.random.default_rng(410)
    for k in (5, 13, 34):
        a, b, w = problem(rng, k, "positive", bias=0.3)
        x, info = SOLVE(a, b, w)
        x = np.asarray(x)
        g = a.T @ (w * (b - a @ x))
        scale = np.sqrt(np.sum(w[:, None] * a * a, axis=0)) * np.sqrt(np.sum(w * b * b))
        assert bool(info["converged"]) and np.all(x >= 0) and 0 < np.sum(x > 0) < k
        assert np.all(np.abs(g[x > 0]) <= 1e-9 * scale[x > 0])
        assert np.all(g[x == 0] <= 1e-9 * scale[x == 0])


def test_jit_and_vmap_agree_with_single_calls():
    rng = np.random.default_rng(411)
    cases = [problem(rng, 13, "positive") for _ in range(PER_FAMILY * len(FAMILIES))]
    designs, targets, weights = (np.stack(a) for a in zip(*cases))
    vm, vinfo = VSOLVE(designs, targets, weights)
    for i in range(4):
        single, info = SOLVE(designs[i], targets[i], weights[i])
        np.testing.assert_allclose(vm[i], single, rtol=1e-12, atol=1e-14)
        assert int(vinfo["iterations"][i]) == int(info["iterations"])
    # the un-jitted method gives the same
    eager, _ = SOLVER.solve(jnp.asarray(designs[0]), jnp.asarray(targets[0]),
                            jnp.asarray(weights[0]))
    np.testing.assert_allclose(eager, vm[0], rtol=1e-12, atol=1e-14)
    # one shared design matrix, many targets (vmap over one argument only)
    xs, _ = jax.jit(jax.vmap(SOLVER.solve, in_axes=(None, 0, None)))(designs[0], targets,
                                                                      weights[0])
    for i in range(0, len(cases), 5):
        np.testing.assert_allclose(xs[i], reference(designs[0], targets[i], weights[0]),
                                   rtol=0, atol=1e-10 * max(np.abs(xs[i]).max(), 1))


def test_too_small_a_budget_is_reported():
    rng = np.random.default_rng(412)
    a, b, w = problem(rng, 34, "positive", bias=0.3)
    full, info = SOLVE(a, b, w)
    needed = int(info["iterations"])
    assert bool(info["converged"]) and needed > 3
    for budget in (1, needed - 1):
        x, short = jax.jit(NonNegativeLeastSquares(max_iterations=budget).solve)(a, b, w)
        assert not bool(short["converged"]), budget
        assert int(short["iterations"]) == budget
        assert np.all(np.asarray(x) >= 0)  # still the feasible iterate ...
        assert chi2(a, b, w, np.asarray(x)) > chi2(a, b, w, np.asarray(full))  # ... not the best
    x, enough = jax.jit(NonNegativeLeastSquares(max_iterations=needed).solve)(a, b, w)
    assert bool(enough["converged"])
    np.testing.assert_array_equal(x, full)


def test_degenerate_inputs():
    rng = np.random.default_rng(413)
    a, b, w = problem(rng, 5, "positive", bias=0.5)
    # every coefficient wants to be negative: x = 0 after one step
    x, info = SOLVE(a, -np.abs(a @ np.ones(5)), w)
    assert bool(info["converged"]) and np.all(np.asarray(x) == 0) and int(info["iterations"]) == 1
    # a column that vanishes (a source outside the field) stays finite and contributes nothing
    a0 = a.copy()
    a0[:, 2] = 0.0
    x, info = SOLVE(a0, b, w)
    assert bool(info["converged"]) and np.all(np.isfinite(x)) and float(x[2]) == 0.0
    np.testing.assert_allclose(x, reference(a0, b, w), rtol=0, atol=1e-10 * np.abs(x).max())
    # no amplitudes at all
    x, info = SOLVER.solve(np.zeros((10, 0)), np.ones(10), np.ones(10))
    assert x.shape == (0,) and bool(info["converged"])
    # non-finite data: the loop still stops, and says it did not converge
    x, info = SOLVE(a, np.where(np.arange(len(b)) == 3, np.nan, b), np.ones_like(w))
    assert not bool(info["converged"])
    with pytest.raises(ValueError, match="max_iterations must be an integer ≥ 0"):
        NonNegativeLeastSquares(max_iterations=-1)


def test_gradients_are_those_of_least_squares_on_the_active_set():
    rng = np.random.default_rng(414)
    a, b, w = problem(rng, 13, "positive", bias=0.3)
    x0 = np.asarray(SOLVE(a, b, w)[0])
    free = x0 > 0
    assert 0 < free.sum() < 13  # some amplitudes held at zero
    probe = rng.normal(size=13)

    def f(design, target, weights):
        return jnp.dot(SOLVER.solve(design, target, weights)[0], probe)

    value_and_grads = jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2)))
    _, grads = value_and_grads(a, b, w)
    assert all(np.all(np.isfinite(g)) for g in grads)

    def active_set_lstsq(design, target, weights):
        """numpy: least squares on the free columns, zero elsewhere."""
        root = np.sqrt(weights)
        x = np.zeros(13)
        x[free] = np.linalg.lstsq(design[:, free] * root[:, None], target * root, rcond=None)[0]
        return x @ probe

    h = 1e-6
    for i, arg in enumerate((a, b, w)):
        direction = rng.normal(size=arg.shape) * (w > 0 if i == 2 else 1)  # weights stay ≥ 0
        up, down = [a, b, w], [a, b, w]
        up[i], down[i] = arg + h * direction, arg - h * direction
        fd = (active_set_lstsq(*up) - active_set_lstsq(*down)) / (2 * h)
        # the step is small enough for the active set to stay put, so the solver's own finite
        # difference agrees as well
        fd_solver = (float(value_and_grads(*up)[0]) - float(value_and_grads(*down)[0])) / (2 * h)
        ad = float(np.sum(np.asarray(grads[i]) * direction))
        assert ad == pytest.approx(fd, rel=1e-6), i
        assert ad == pytest.approx(fd_solver, rel=1e-6), i


def test_imaging_likelihood_with_nnls(tiny_spec):
    """``solver = "nnls"`` in the imaging likelihood: a positive amplitude equals the wls one; ln L
    and its gradient are finite; an amplitude that would be negative is 0."""
    from lensframe.problem import Problem

    components, data, truth = tiny_spec()
    options = {"supersampling": 1, "solver": "nnls"}
    problem_ = Problem.build(components, data, likelihood_options=options)
    theta = jnp.array([truth[k] for k in problem_.free_names])
    amp = problem_.named(theta)["source.amp"]
    wls = Problem.build(components, data, likelihood_options={"supersampling": 1})
    assert amp == pytest.approx(wls.named(theta)["source.amp"], rel=1e-10)
    assert amp == pytest.approx(truth["source.amp"], rel=0.05)
    value, grad = jax.jit(jax.value_and_grad(problem_.log_density))(theta, problem_.args)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    flipped = problem_.with_data(dict(data, image=-np.asarray(data["image"])))
    assert flipped.named(theta, flipped.args)["source.amp"] == 0.0
