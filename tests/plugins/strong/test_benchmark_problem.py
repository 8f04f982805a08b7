"""The benchmark problem of benchmarks/likelihood.py (100×100 at 0.05″, 13×13 PSF by FFT,
supersampling 2, SIE or EPL + shear, Sérsic lens light and source with linear amplitudes): lensframe's
log-likelihood equals lenstronomy's on it. The setup is imported from the benchmark script itself,
so the problem tested is exactly the problem timed."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "likelihood.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("lensframe_benchmark_likelihood", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mass", ["SIE", "EPL"])
def test_log_likelihood_matches_lenstronomy_on_the_benchmark_problem(bench, mass):
    logl, args, image, kernel = bench.lenstronomy_setup(100, 2, mass, "lenstronomy")
    problem, theta = bench.lensframe_setup(100, 2, mass, image, kernel)
    ours = float(problem.log_likelihood(theta, problem.args))
    reference = float(logl(args))
    # lenstronomy's SIE has a 1e-10″ core; everything else is exact, so 1e-8 is generous
    assert abs(ours - reference) <= 1e-8 * abs(reference), (ours, reference)
    assert np.isfinite(ours) and ours < 0
