"""NUTS on the Gaussian toy: moments within Monte Carlo error, diagnostics, reproducible."""

import numpy as np
import pytest

from gaussian_toy import MEAN, assert_moments
from lensframe import Fitter
from lensframe.result import FitResult

FAST = {"n_chains": 4, "n_warmup": 200, "n_samples": 300, "chunk": 100}


def test_posterior_moments_match_the_gaussian(toy):
    result = Fitter(toy(), quiet=True).run("nuts", key=2, **FAST)
    d = result.diagnostics
    assert result.samples.shape == (4 * 300, 3)
    assert_moments(result.samples, result.weights, d["ess"])
    assert max(d["rhat"]) < 1.05 and min(d["ess"]) > 200
    assert d["divergences"] == 0 and d["n_nonfinite"] == 0
    assert 0.6 < d["mean_acceptance"] < 0.99
    # every transition costs at least one gradient; warm-up included
    assert d["n_gradient_evaluations"] >= 4 * (200 + 300)
    assert len(d["step_size"]) == 4 and all(s > 0 for s in d["step_size"])


def test_same_key_same_draws_and_init_from_a_previous_result(toy):
    problem = toy()
    a = Fitter(problem, quiet=True).run("nuts", key=7, **FAST)
    b = Fitter(problem, quiet=True).run("nuts", key=7, **FAST)
    np.testing.assert_array_equal(a.samples, b.samples)
    # seeded from a's samples, the chains start in the typical set
    c = Fitter(problem, quiet=True).run("nuts", key=8, init_from=a, **FAST)
    assert not np.array_equal(a.samples, c.samples)
    assert np.all(np.abs(c.samples.mean(axis=0) - MEAN) < 0.3)


def test_nan_region_ends_trajectories_and_is_counted(toy):
    result = Fitter(toy(nan_below=0.5), quiet=True).run("nuts", key=1, **FAST)
    assert result.samples[:, 0].min() >= 0.5
    d = result.diagnostics
    assert d["n_nonfinite"] > 0 and d["divergences"] >= d["n_nonfinite"]


@pytest.mark.slow
def test_dense_mass_matrix(toy):
    result = Fitter(toy(), quiet=True).run("nuts", key=4, mass_matrix="dense", **FAST)
    assert_moments(result.samples, result.weights, result.diagnostics["ess"])
    assert result.diagnostics["mass_matrix"] == "dense"


def test_bad_options_name_the_option(toy):
    with pytest.raises(ValueError, match="'target_accept' must be in \\(0, 1\\)"):
        Fitter(toy(), quiet=True).run("nuts", target_accept=1.0)
    with pytest.raises(ValueError, match="'mass_matrix' must be one of"):
        Fitter(toy(), quiet=True).run("nuts", mass_matrix="full")


def test_init_from_a_best_fit_without_samples(toy):
    problem = toy()
    best = MEAN + 0.1
    previous = FitResult("lbfgs", list(problem.free_names), best, problem.named(best), 0.0)
    result = Fitter(problem, quiet=True).run("nuts", key=3, init_from=previous, **FAST)
    assert_moments(result.samples, result.weights, result.diagnostics["ess"])
