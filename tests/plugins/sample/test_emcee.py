"""emcee on the Gaussian toy: moments within Monte Carlo error, reproducible, init_from, NaN."""

import numpy as np
import pytest

from gaussian_toy import MEAN, SIGMA, assert_moments
from lensframe import Fitter
from lensframe.errors import LensframeError
from lensframe.result import FitResult

FAST = {"n_steps": 1000, "burn": 200}


def test_posterior_moments_match_the_gaussian(toy):
    result = Fitter(toy(), quiet=True).run("emcee", key=3, **FAST)
    d = result.diagnostics
    assert result.samples.shape == (32 * 800, 3)
    np.testing.assert_allclose(result.weights.sum(), 1.0)
    # ESS from emcee's own autocorrelation time (walkers × kept steps / τ)
    ess = len(result.samples) / np.asarray(d["autocorr_time"])
    assert_moments(result.samples, result.weights, ess)
    assert 0.2 < d["acceptance_fraction"] < 0.9
    assert d["n_likelihood_calls"] == 32 * (1 + 1000)
    # time inside the compiled likelihood: part of the run, the rest is the sampler's own work
    assert 0 < d["likelihood_seconds"] <= result.provenance["total_seconds"]
    assert d["n_nonfinite"] == 0 and d["interrupted"] is False
    assert len(d["rhat"]) == 3 and max(d["rhat"]) < 1.1
    assert len(d["ess"]) == 3 and min(d["ess"]) > 100
    # the best fit is the sample of highest posterior density, near the mode
    assert np.all(np.abs(result.best_theta - MEAN) < 0.3 * SIGMA)


def test_same_key_same_chain_other_key_other_chain(toy):
    problem = toy()
    run = lambda key: Fitter(problem, quiet=True).run("emcee", key=key, n_steps=100, burn=10)
    a, b, c = run(5), run(5), run(6)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)


def test_initial_ensemble_is_a_ball_around_init_from(toy):
    problem = toy(dim=2)
    far = np.array([9.0, 5.0])  # inside the box, 8σ and 11σ from the mode
    previous = FitResult("pso", list(problem.free_names), far, problem.named(far), 0.0)
    result = Fitter(problem, quiet=True).run("emcee", key=0, init_from=previous, n_steps=3,
                                             burn=1, init_scale=1e-4)
    # three steps from a ball of radius 1e-4 (unconstrained): still close to the start
    assert np.all(np.abs(result.samples - far) < 0.05)


def test_nan_region_is_never_sampled_and_is_counted(toy):
    result = Fitter(toy(nan_below=0.5), quiet=True).run("emcee", key=1, **FAST)
    assert result.samples[:, 0].min() >= 0.5
    assert result.diagnostics["n_nonfinite"] > 0


def test_too_few_walkers_names_the_option(toy):
    with pytest.raises(LensframeError, match="'n_walkers' \\(4\\) must be at least twice"):
        Fitter(toy(), quiet=True).run("emcee", n_walkers=4)
    with pytest.raises(ValueError, match="'burn' \\(10\\) must be smaller than 'n_steps'"):
        Fitter(toy(), quiet=True).run("emcee", n_steps=10, burn=10)
