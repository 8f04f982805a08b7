"""L-BFGS and its strong-Wolfe line search: the conditions hold where the search says so (checked
here with NumPy, independently of the search's own bookkeeping), non-finite regions are backed out
of, a converged start costs no more evaluations; the fitter finds the Gaussian toy's mode as
scipy's L-BFGS-B does, reproducibly, and counts its likelihood calls."""


import gaussian_toy  # on the path by tests/plugins/conftest.py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from lensframe_optim.linesearch import strong_wolfe

from lensframe import Fitter


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


rosen_vg = jax.jit(jax.value_and_grad(rosenbrock))
search = jax.jit(strong_wolfe, static_argnums=0, static_argnames=("c1", "c2"))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("initial_step", [1e-4, 1.0, 30.0])
def test_accepted_steps_satisfy_the_strong_wolfe_conditions(seed, initial_step):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.uniform(-2, 2, 4))
    f0, g0 = rosen_vg(x)
    direction = -g0 / np.linalg.norm(g0) * rng.uniform(0.1, 2.0)  # steepest descent, any length
    res = search(rosen_vg, x, f0, g0, direction, initial_step, c1=1e-4, c2=0.9)
    assert bool(res.wolfe)
    t = float(res.step)
    f_t = float(rosenbrock(x + t * direction))
    g_t = np.asarray(jax.grad(rosenbrock)(x + t * direction))
    slope0 = float(np.dot(g0, direction))
    assert f_t <= float(f0) + 1e-4 * t * slope0
    assert abs(np.dot(g_t, direction)) <= 0.9 * abs(slope0)
    np.testing.assert_allclose(float(res.value), f_t, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(res.grad), g_t, rtol=1e-10, atol=1e-12)
    assert 1 <= int(res.evaluations) <= 20


def test_a_step_into_a_non_finite_region_is_backed_out_of():
    def walled(x):  # a model undefined beyond x0 = 0.5: −ln P = +inf there
        return jnp.where(x[0] > 0.5, jnp.inf, jnp.sum((x - 2.0) ** 2))

    vg = jax.jit(jax.value_and_grad(walled))
    x = jnp.zeros(2)
    f0, g0 = vg(x)
    res = search(vg, x, f0, g0, -g0, 10.0)  # the first trial lands deep in the wall
    assert np.isfinite(float(res.value)) and float(res.value) < float(f0)
    assert 0 < float(res.step) * 4.0 <= 0.5  # x0 = 4 t stays on the finite side


def test_an_inactive_search_evaluates_nothing():
    x = jnp.array([0.3, -0.2])
    f0, g0 = rosen_vg(x)
    res = search(rosen_vg, x, f0, g0, -g0, 1.0, active=False)
    assert int(res.evaluations) == 0 and float(res.step) == 0.0
    assert float(res.value) == float(f0)


def test_no_descent_possible_returns_a_zero_step():
    x = jnp.array([1.0, 1.0])  # Rosenbrock's minimum: nothing lower along any direction
    f0, g0 = rosen_vg(x)
    res = search(rosen_vg, x, f0, g0, jnp.array([1e-3, 0.0]), 1.0)
    assert float(res.step) == 0.0 and float(res.value) == float(f0)


def test_finds_the_mode_like_scipy(toy):
    from scipy.optimize import minimize

    problem = toy()
    result = Fitter(problem, quiet=True).run("lbfgs", key=0, n_starts=3)
    precision = np.linalg.inv(gaussian_toy.COV)
    reference = minimize(lambda t: 0.5 * (t - gaussian_toy.MEAN) @ precision @ (
        t - gaussian_toy.MEAN), np.zeros(3), method="L-BFGS-B", tol=1e-14)
    np.testing.assert_allclose(result.best_theta, reference.x, atol=1e-5)
    np.testing.assert_allclose(result.best_theta, gaussian_toy.MEAN, atol=1e-5)
    d = result.diagnostics
    assert d["converged"] and d["n_converged"] == 3
    # each start: one evaluation to begin with, then at least one per step
    assert d["n_likelihood_calls"] >= sum(d["steps"]) >= 3
    assert max(d["steps"]) < 100  # a quadratic in 3-d: a handful of quasi-Newton steps


def test_same_key_same_result(toy):
    problem = toy()
    fit = Fitter(problem, quiet=True)
    a, b = (fit.run("lbfgs", key=1, n_starts=2) for _ in range(2))
    assert a.diagnostics["steps"] == b.diagnostics["steps"]
    np.testing.assert_array_equal(a.best_theta, b.best_theta)


def test_starts_from_every_optimum_a_previous_stage_reports(toy):
    """After pso with several swarms, lbfgs's first starts are the swarms' bests. Checked where
    it is exact: candidates inside a region where the likelihood is NaN are starts that cannot
    move (their objective is +inf), so each ends where it began."""
    from lensframe.result import FitResult

    problem = toy(nan_below=1.5)
    best = np.array([3.0, -0.5, 2.0])
    stuck = np.array([[-4.0, 1.0, 0.0], [-8.0, 2.0, 5.0]])
    previous = FitResult("pso", list(problem.free_names), best, problem.named(best), 0.0,
                         diagnostics={"candidate_theta": [best.tolist(), *stuck.tolist()]})
    result = Fitter(problem, quiet=True).run("lbfgs", key=0, init_from=previous, n_starts=4,
                                             max_steps=50)
    starts = np.array(result.diagnostics["start_theta"])
    np.testing.assert_allclose(starts[1:3], stuck, rtol=1e-10)
    assert result.diagnostics["best_start"] in (0, 3)
    assert result.best_theta[0] >= 1.5


@pytest.mark.parametrize("after,expected_starts", [(2, 1), (200, None)])
def test_ctrl_c_keeps_the_starts_run_so_far(toy, after, expected_starts):
    """Ctrl-C (the progress bar's advance raising) keeps every start iterated so far and says
    where it stopped; a fit that ends first is not marked."""
    fitter = Fitter(toy(), quiet=True)
    fitter.progress = gaussian_toy.InterruptingProgress(after=after)
    result = fitter.run("lbfgs", key=0, n_starts=3, chunk=1, max_steps=50)
    d = result.diagnostics
    if expected_starts is None:
        assert d["interrupted"] is False and "interrupted_at" not in d
        assert len(d["steps"]) == 3
        return
    assert d["interrupted"] is True
    assert d["interrupted_at"] == "start(s) 1 of 3, step 2 of 50"
    assert len(d["steps"]) == expected_starts and d["steps"] == [2]
    assert np.all(np.isfinite(result.best_theta)) and np.isfinite(result.log_density)
