"""PSO: finds the mode of the Gaussian toy, reproducible, starts around init_from, NaN regions,
options validated; the unit-cube inversion it uses for init_from."""

import gaussian_toy  # on the path by tests/plugins/conftest.py
import jax.numpy as jnp
import numpy as np
import pytest

from lensframe import Fitter
from lensframe.result import FitResult

FAST = {"n_particles": 32, "n_iterations": 150, "chunk": 50}


def test_finds_the_mode(toy):
    problem = toy()
    result = Fitter(problem, quiet=True).run("pso", key=0, **FAST)
    sigma = np.sqrt(np.diag(gaussian_toy.COV))
    # the posterior's mode is the Gaussian's mean; ln p there is −ln V_box exactly
    np.testing.assert_allclose(result.best_theta, gaussian_toy.MEAN, atol=1e-3 * sigma.max())
    np.testing.assert_allclose(result.log_density, -3 * np.log(2 * gaussian_toy.HALF_WIDTH),
                               atol=1e-6)
    d = result.diagnostics
    assert d["iterations"] == 150 and d["n_likelihood_calls"] == 32 * 151
    # the swarm has collapsed on the mode: its spread is a tiny fraction of the box
    assert max(d["spread_unit"]) < 1e-3 and len(d["spread"]) == 3
    assert d["best_log_density_per_chunk"] == sorted(d["best_log_density_per_chunk"])
    assert d["n_nonfinite"] == 0 and d["interrupted"] is False


def test_same_key_same_swarm(toy):
    problem = toy()
    a, b, c = (Fitter(problem, quiet=True).run("pso", key=k, **FAST) for k in (4, 4, 5))
    np.testing.assert_array_equal(a.best_theta, b.best_theta)
    assert a.diagnostics["spread"] == b.diagnostics["spread"]
    assert a.diagnostics["spread"] != c.diagnostics["spread"]


def test_independent_swarms_keep_the_best(toy):
    """n_swarms runs swarms with their own keys; the first is the single-swarm run with the same
    key, the result is the best swarm's, every swarm's best is reported."""
    problem = toy()
    short = {"n_particles": 6, "n_iterations": 4, "chunk": 2}   # too short to converge
    one = Fitter(problem, quiet=True).run("pso", key=3, **short)
    three = Fitter(problem, quiet=True).run("pso", key=3, n_swarms=3, **short)
    bests = three.diagnostics["swarm_log_density"]
    assert len(bests) == 3 and len(set(bests)) == 3
    assert bests[0] == one.log_density
    assert three.log_density == max(bests)
    assert three.diagnostics["n_likelihood_calls"] == 3 * 6 * 5


def test_stratified_swarms_each_search_their_own_slice(toy):
    """stratify confines swarm k of K to the k-th slice of the parameter's prior: the swarm whose
    slice holds the mode finds it, the others end at the wall of their slice nearest to it; each
    swarm's best is reported, best first."""
    problem = toy()
    result = Fitter(problem, quiet=True).run("pso", key=0, n_swarms=3, stratify="point.p0",
                                             **FAST)
    low = gaussian_toy.MEAN[0] - gaussian_toy.HALF_WIDTH
    width = 2 * gaussian_toy.HALF_WIDTH
    candidates = np.array(result.diagnostics["candidate_theta"])
    assert candidates.shape == (3, 3)
    np.testing.assert_allclose(candidates[0], result.best_theta)
    assert result.diagnostics["candidate_log_density"] == sorted(
        result.diagnostics["swarm_log_density"], reverse=True)
    # the mode (u = 0.5) lies in the middle slice; the outer swarms stop at u = 1/3 and 2/3
    np.testing.assert_allclose(result.best_theta, gaussian_toy.MEAN, atol=1e-2)
    walls = sorted((candidates[1:, 0] - low) / width)
    np.testing.assert_allclose(walls, [1 / 3, 2 / 3], atol=1e-6)
    unstratified = Fitter(problem, quiet=True).run("pso", key=0, n_swarms=3, **FAST)
    # without slices all three swarms find the mode
    np.testing.assert_allclose(np.array(unstratified.diagnostics["candidate_theta"])[:, 0],
                               gaussian_toy.MEAN[0], atol=1e-2)


def test_stratify_must_name_a_free_parameter(toy):
    with pytest.raises(ValueError, match="option 'stratify' names 'lens.theta_E'.*point.p0"):
        Fitter(toy(), quiet=True).run("pso", n_swarms=2, stratify="lens.theta_E", **FAST)


def test_init_from_starts_the_swarm_around_the_previous_best(toy):
    problem = toy()
    start = np.array([8.0, 3.0, -4.0])
    previous = FitResult("lbfgs", list(problem.free_names), start, problem.named(start), 0.0)
    # one chunk of a sluggish swarm: it stays near where it started
    result = Fitter(problem, quiet=True).run("pso", key=0, init_from=previous, n_particles=8,
                                             n_iterations=1, chunk=1, init_spread=1e-3,
                                             inertia=0.0, cognitive=0.0, social=0.0)
    width = 2 * gaussian_toy.HALF_WIDTH
    assert np.all(np.abs(np.array(result.diagnostics["best_unit"]) * width
                         - (start - gaussian_toy.MEAN + gaussian_toy.HALF_WIDTH)) < 0.2)


def test_nan_region_is_avoided_and_counted(toy):
    result = Fitter(toy(nan_below=1.5), quiet=True).run("pso", key=0, **FAST)
    assert result.best_theta[0] >= 1.5 and np.isfinite(result.log_density)
    assert result.diagnostics["n_nonfinite"] > 0


@pytest.mark.parametrize("options,match", [
    ({"n_iterations": 0}, "option 'n_iterations' must be > 0"),
    ({"n_swarms": 0}, "option 'n_swarms' must be > 0"),
    ({"inertia": -0.1}, "option 'inertia' must be ≥ 0"),
    ({"v_max": 2.0}, "option 'v_max' must be ≤ 1"),
])
def test_bad_options_name_the_option(toy, options, match):
    with pytest.raises(ValueError, match=f"fitter 'pso'.*{match}"):
        Fitter(toy(), quiet=True).run("pso", **options)


def test_unit_of_inverts_every_prior_family(tiny_problem):
    from lensframe_optim.pso import unit_of

    problem, _ = tiny_problem   # uniform and log-uniform priors
    u = jnp.array([0.1, 0.5, 0.73, 0.999])
    theta = problem.from_unit(u, problem.args)
    np.testing.assert_allclose(unit_of(problem, theta, problem.args), u, atol=1e-12)


def test_unit_of_inverts_normal_and_truncated_normal_priors(toy):
    from lensframe_optim.pso import unit_of

    from lensframe.problem import Problem

    problem = Problem.build({"point": {"profile": "TOY_POINT", "params": {
        "p0": {"prior": "normal", "mu": 1.0, "sigma": 3.0},
        "p1": {"prior": "truncnormal", "mu": 0.0, "sigma": 1.0, "low": -0.5, "high": 2.0},
        "p2": {"prior": "loguniform", "low": 0.1, "high": 10.0}}}},
        {"mean": gaussian_toy.MEAN, "cov": gaussian_toy.COV}, likelihood="gaussian_toy")
    u = jnp.array([0.02, 0.6, 0.97])
    theta = problem.from_unit(u, problem.args)
    np.testing.assert_allclose(unit_of(problem, theta, problem.args), u, atol=1e-10)


def test_distinct_bests_skips_points_near_one_taken():
    from lensframe_optim.pso import distinct_bests

    x = np.array([[0.5, 0.5], [0.52, 0.5], [0.9, 0.1], [0.1, 0.9], [0.88, 0.1]])
    f = np.array([-1.0, -1.1, -2.0, -3.0, -1.5])
    # 1 is too close to 0, 4 (-1.5) beats 2 (-2.0) and 2 is too close to 4
    assert distinct_bests(x, f, 3, 0.1) == [0, 4, 3]
    assert distinct_bests(x, f, 1, 0.1) == [0]
    assert distinct_bests(x, np.array([-np.inf] * 5), 2, 0.1) == []


def test_several_candidates_per_swarm_round_by_round(toy):
    """candidates_per_swarm adds each swarm's further distinct particle bests after all swarms'
    bests; the first n_swarms candidates are those of the default run with the same key."""
    problem = toy()
    short = {"n_particles": 16, "n_iterations": 6, "chunk": 3, "n_swarms": 2}   # not converged
    one = Fitter(problem, quiet=True).run("pso", key=2, **short)
    more = Fitter(problem, quiet=True).run("pso", key=2, candidates_per_swarm=3,
                                           candidate_separation=0.05, **short)
    d1, d3 = one.diagnostics, more.diagnostics
    assert len(d1["candidate_theta"]) == 2 and 2 < len(d3["candidate_theta"]) <= 6
    np.testing.assert_array_equal(d3["candidate_theta"][:2], d1["candidate_theta"])
    assert d3["candidate_log_density"][:2] == d1["candidate_log_density"]
    np.testing.assert_array_equal(more.best_theta, one.best_theta)
    # later candidates are no better than their swarm's best
    assert max(d3["candidate_log_density"][2:]) <= max(d3["candidate_log_density"][:2])
    with pytest.raises(ValueError, match="option 'candidates_per_swarm' must be > 0"):
        Fitter(problem, quiet=True).run("pso", candidates_per_swarm=0, **short)
