"""Proof of the samplers on a lenstronomy mock: the NUTS and nautilus posteriors of every free
parameter contain the truth within 3σ, and the two samplers agree (posterior means within 1σ).

Both start from nothing they could copy from each other: NUTS from an L-BFGS fit, nautilus from
the prior. Slow (minutes: NUTS and nautilus programs for the 64 × 64 imaging likelihood, 17 free
parameters); run with ``-m slow``."""

import numpy as np
import pytest

from lenstronomy_mocks import lensframe_problem, mock as lenstronomy_mock

from lensframe.dispatch import Fitter
from lensframe.diagnostics import rhat


def _moments(result):
    w = np.asarray(result.weights, float)
    mean = np.average(result.samples, axis=0, weights=w)
    std = np.sqrt(np.average((result.samples - mean) ** 2, axis=0, weights=w))
    return mean, std


@pytest.mark.slow
def test_nuts_and_nautilus_contain_the_truth_and_agree():
    mock = lenstronomy_mock(0)
    problem = lensframe_problem(mock)
    fitter = Fitter(problem, quiet=True)
    start = fitter.run("lbfgs", key=1, n_starts=8, max_steps=400)
    nuts = fitter.run("nuts", key=2, init_from=start, n_chains=4, n_warmup=400, n_samples=500)
    nautilus = fitter.run("nautilus", key=3, n_live=1500, n_eff=4000)

    assert np.all(rhat(nuts.chains) < 1.05), nuts.diagnostics
    truth = np.array([mock.truth[k] for k in problem.free_names])
    report = []
    for label, result in (("nuts", nuts), ("nautilus", nautilus)):
        mean, std = _moments(result)
        pulls = (mean - truth) / std
        report.append((label, dict(zip(problem.free_names, np.round(pulls, 2)))))
        assert np.all(np.abs(pulls) < 3), report
    (m1, s1), (m2, s2) = _moments(nuts), _moments(nautilus)
    sigma = np.maximum(s1, s2)
    assert np.all(np.abs(m1 - m2) < sigma), dict(zip(problem.free_names,
                                                      np.round((m1 - m2) / sigma, 2)))
