"""R-hat and bulk ESS (Vehtari et al. 2021) on chains whose answer is known analytically."""

import numpy as np
import pytest
from scipy.signal import lfilter

from lensframe.diagnostics import ess, rhat
from lensframe.errors import ParameterError


def ar1_chains(rng, rho, n_chains, n_draws, dim):
    """Stationary Gaussian AR(1) chains x_t = ρ x_{t-1} + sqrt(1-ρ²) ε_t (unit marginal variance)."""
    eps = rng.normal(size=(n_chains, n_draws, dim)) * np.sqrt(1 - rho ** 2)
    eps[:, 0] = rng.normal(size=(n_chains, dim))      # start in the stationary distribution
    return lfilter([1.0], [1.0, -rho], eps, axis=1)


def test_iid_draws_give_rhat_one_and_ess_near_n():
    rng = np.random.default_rng(1)
    chains = rng.standard_t(df=3, size=(4, 1000, 3))  # heavy tails: rank normalisation copes
    assert np.all(np.abs(rhat(chains) - 1) < 0.01)
    n = 4 * 1000
    assert np.all(np.abs(ess(chains) / n - 1) < 0.15)


def test_shifted_chain_means_give_large_rhat():
    rng = np.random.default_rng(2)
    chains = rng.normal(size=(4, 500, 2))
    chains[0] += 3.0                                   # one chain stuck elsewhere
    r = rhat(chains)
    assert np.all(r > 1.3)
    assert np.all(ess(chains) < 0.5 * 4 * 500)


def test_drifting_chain_is_caught_by_splitting():
    rng = np.random.default_rng(3)
    chains = rng.normal(size=(1, 1000, 1))
    chains[0, :, 0] += np.linspace(0, 4, 1000)         # a single trending chain
    assert rhat(chains)[0] > 1.2


def test_scale_difference_is_caught_by_folded_rhat():
    rng = np.random.default_rng(4)
    chains = rng.normal(size=(4, 1000, 1))
    chains[0] *= 4.0                                   # same centre, different width
    assert rhat(chains)[0] > 1.05


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_ar1_ess_matches_analytic_value(rho):
    rng = np.random.default_rng(5)
    n_chains, n_draws = 4, 20000
    chains = ar1_chains(rng, rho, n_chains, n_draws, 2)
    expected = n_chains * n_draws * (1 - rho) / (1 + rho)
    got = ess(chains)
    assert np.all(np.abs(got / expected - 1) < 0.1), (got, expected)
    assert np.all(np.abs(rhat(chains) - 1) < 0.01)


def test_rhat_agrees_with_direct_gelman_rubin_on_normal_chains():
    """On Gaussian chains the bulk R-hat is close to the classic split potential scale reduction
    computed here directly from its definition."""
    rng = np.random.default_rng(6)
    chains = rng.normal(size=(4, 400, 1)) + np.array([0, 0.3, -0.3, 0.1])[:, None, None]
    half = chains.shape[1] // 2
    split = np.concatenate([chains[:, :half], chains[:, half:]], axis=0)[..., 0]
    n = split.shape[1]
    w = split.var(axis=1, ddof=1).mean()
    b = n * split.mean(axis=1).var(ddof=1)
    classic = np.sqrt(((n - 1) / n * w + b / n) / w)
    assert rhat(chains)[0] == pytest.approx(classic, rel=0.02)


def test_bad_shapes_are_refused_with_a_clear_message():
    with pytest.raises(ParameterError, match="n_chains, n_draws, dim"):
        rhat(np.zeros((10, 3)))
    with pytest.raises(ParameterError, match="at least 4 draws"):
        ess(np.zeros((2, 3, 1)))
    bad = np.zeros((2, 10, 1))
    bad[0, 0, 0] = np.nan
    with pytest.raises(ParameterError, match="non-finite"):
        rhat(bad)
