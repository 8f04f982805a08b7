"""Convergence diagnostics of MCMC chains: rank-normalised split-R̂ and bulk effective sample size.

Both follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and
localization: an improved R̂ for assessing convergence of MCMC", Bayesian Analysis 16, 667:

* each chain is split in halves (a chain that drifts then looks like two disagreeing chains);
* draws are replaced by their normal scores z = Φ⁻¹((r − 3/8) / (S + 1/4)), r the rank among all S
  draws (average rank for ties), so heavy tails and infinite variances do not break the estimates;
* R̂ = max(bulk R̂ of the rank-normalised draws, R̂ of the rank-normalised *folded* draws
  |θ − median θ|), the folded one catching chains that agree in location but not in scale;
* bulk ESS = M N / τ̂ on the rank-normalised split chains, τ̂ = −1 + 2 Σ ρ̂_t with the
  multi-chain autocorrelation ρ̂_t = 1 − (W − mean_m acov_m(t)) / var⁺ (their eq. 10) truncated by
  Geyer's (1992) initial monotone sequence, and capped at S log₁₀ S as in their reference code.

Input: chains shaped (n_chains, n_draws, dim); output: one value per parameter (shape (dim,)).
Host-side numpy (plus scipy's normal quantile, which JAX itself depends on): diagnostics run once
after sampling, not inside a compiled program.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

from .errors import ParameterError

__all__ = ["rhat", "ess"]


def rhat(chains) -> np.ndarray:
    """Rank-normalised split-R̂ per parameter: max of the bulk and folded (tail) R̂.

    Args:
        chains: draws shaped (n_chains, n_draws, dim), n_draws ≥ 4.

    Returns:
        array (dim,); ≈ 1 for converged chains, values above ~1.01 signal disagreement.
    """
    split = _split(chains)
    bulk = _basic_rhat(_rank_normalise(split))
    folded = np.abs(split - np.median(split, axis=(0, 1), keepdims=True))
    tail = _basic_rhat(_rank_normalise(folded))
    return np.maximum(bulk, tail)


def ess(chains) -> np.ndarray:
    """Bulk effective sample size per parameter (rank-normalised split chains).

    Args:
        chains: draws shaped (n_chains, n_draws, dim), n_draws ≥ 4.

    Returns:
        array (dim,); ≈ n_chains × n_draws for independent draws, fewer for autocorrelated ones.
    """
    z = _rank_normalise(_split(chains))
    m, n, _ = z.shape
    rho = _multi_chain_autocorrelation(z)          # (n, dim), rho[0] = 1
    s = m * n
    tau = np.array([_geyer_tau(rho[:, j]) for j in range(rho.shape[1])])
    # antithetic chains can make τ̂ tiny or negative; the paper's code caps ESS at S log₁₀ S
    return s / np.maximum(tau, 1.0 / np.log10(s))


def _split(chains) -> np.ndarray:
    x = np.asarray(chains, dtype=float)
    if x.ndim != 3:
        raise ParameterError(
            f"chains must be shaped (n_chains, n_draws, dim); got shape {x.shape}")
    if x.shape[1] < 4:
        raise ParameterError(f"chains need at least 4 draws each to be split; got {x.shape[1]}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("chains contain non-finite values")
    half = x.shape[1] // 2
    # an odd draw in the middle is dropped so the two halves have equal length
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _rank_normalise(x: np.ndarray) -> np.ndarray:
    m, n, d = x.shape
    flat = x.reshape(m * n, d)
    ranks = rankdata(flat, axis=0, method="average")
    return ndtri((ranks - 0.375) / (m * n + 0.25)).reshape(m, n, d)


def _basic_rhat(x: np.ndarray) -> np.ndarray:
    """Gelman–Rubin potential scale reduction of (m, n, d) chains (eqs. 3–4 of the paper)."""
    _, n, _ = x.shape
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.var(x, axis=1, ddof=1).mean(axis=0)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var_plus / within)


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance along axis 1 of (m, n, d) by FFT (zero-padded: no wrap-around)."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def _multi_chain_autocorrelation(x: np.ndarray) -> np.ndarray:
    _, n, _ = x.shape
    acov = _autocovariance(x)                        # (m, n, d)
    chain_var = acov[:, 0] * n / (n - 1)             # unbiased per-chain variances
    within = chain_var.mean(axis=0)
    var_plus = within * (n - 1) / n
    if x.shape[0] > 1:
        var_plus = var_plus + np.var(x.mean(axis=1), axis=0, ddof=1)
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    return rho


def _geyer_tau(rho: np.ndarray) -> float:
    """Integrated autocorrelation time from Geyer's initial positive, monotone pair sums."""
    n = len(rho)
    pairs = rho[:n - n % 2].reshape(-1, 2).sum(axis=1)   # P_k = ρ_2k + ρ_2k+1
    nonpositive = np.nonzero(pairs <= 0)[0]
    k = nonpositive[0] if len(nonpositive) else len(pairs)
    positive = np.minimum.accumulate(pairs[:k])           # initial monotone sequence
    return -1.0 + 2.0 * positive.sum()
