"""Pieces shared by the host-driven samplers (emcee, nautilus) and the chain diagnostics.

A host-driven sampler hands the log-density batches of varying size. :class:`BatchedLogFunction`
pads each batch to the next power of two (at least ``MIN_BATCH``), so the compiled program exists
for a handful of shapes, not one per batch size, counts the evaluations and maps NaN to −∞.
"""

from __future__ import annotations

import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.batching import over_batch

MIN_BATCH = 8


def padded_size(n: int) -> int:
    """The batch size ``n`` points are padded to: the next power of two, at least ``MIN_BATCH``."""
    return max(MIN_BATCH, 1 << max(0, int(n) - 1).bit_length())


def nan_to_minus_inf(values):
    """(values with NaN and +∞ replaced by −∞, how many were replaced): a broken region of the
    model must not attract a sampler, and the count is reported as ``n_nonfinite``."""
    bad = jnp.isnan(values) | (values == jnp.inf)
    return jnp.where(bad, -jnp.inf, values), bad


class BatchedLogFunction:
    """Host callable ``points (n, d) -> values (n,)`` over a compiled batched function.

    Args:
        compiled: ``compiled(points (m, d), args) -> (values (m,), bad (m,))`` from
            ``programs.compile``; called with m = :func:`padded_size` (n).
        args: the problem's arguments.
        pad_value: a valid point (d,) used to fill the padding rows.
    """

    def __init__(self, compiled: Callable, args, pad_value):
        self.compiled, self.args = compiled, args
        self.pad_value = np.asarray(pad_value, float)
        self.n_calls = 0
        self.n_nonfinite = 0
        self.seconds = 0.0  # wall time inside the compiled function (the rest is the sampler's)

    def __call__(self, points) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, float))
        n = len(points)
        start = time.perf_counter()
        values, bad = self.compiled(_padded(points, padded_size(n), self.pad_value), self.args)
        values, bad = np.asarray(values)[:n], np.asarray(bad)[:n]
        self.seconds += time.perf_counter() - start
        self.n_calls += n
        self.n_nonfinite += int(bad.sum())
        return values


def in_blocks(compiled: Callable, points, args, pad_value, block: int = 1024) -> tuple:
    """``compiled(points (block, d), args) -> tuple of arrays (block, ...)`` applied to ``points``
    (n, d) in blocks of ``block`` rows (the last padded with ``pad_value``), outputs concatenated:
    one program for any n, and memory bounded by the block (a nautilus posterior holds 10^4-10^5
    points; one vmap over them all of an imaging likelihood asked for 113 GB)."""
    points = np.atleast_2d(np.asarray(points, float))
    pieces = []
    for first in range(0, len(points), block):
        chunk = points[first:first + block]
        outputs = compiled(_padded(chunk, block, pad_value), args)
        pieces.append([np.asarray(a)[:len(chunk)] for a in outputs])
    return tuple(np.concatenate(parts) for parts in zip(*pieces))


def _padded(points: np.ndarray, size: int, pad_value) -> jax.Array:
    """``points`` (n, d) followed by rows of ``pad_value`` up to ``size`` rows."""
    padded = np.broadcast_to(np.asarray(pad_value, float), (size, points.shape[1])).copy()
    padded[:len(points)] = points
    return jnp.asarray(padded)


def chain_diagnostics(chains: np.ndarray) -> dict:
    """Split-R̂ and bulk ESS per parameter (Vehtari et al. 2021) of chains (n_chains, n_draws, d),
    from :mod:`lensframe.diagnostics`; empty when there are too few draws to split."""
    if chains.shape[0] < 1 or chains.shape[1] < 4:
        return {}
    from lensframe.diagnostics import ess, rhat

    return {"rhat": np.asarray(rhat(chains)).tolist(), "ess": np.asarray(ess(chains)).tolist()}


def batched(fn: Callable) -> Callable:
    """``fn(point, args)`` → ``f(points, args)`` over the leading axis (a plain ``vmap``)."""
    return jax.vmap(fn, in_axes=(0, None))


def seed_of(key) -> int:
    """A NumPy seed drawn from a JAX PRNG key, for host libraries (emcee, nautilus)."""
    return int(jax.random.randint(key, (), 0, 2**31 - 1))


def start_candidates(problem):
    """``candidates(key, given, use_given, args) -> (z, finite)``, to compile: ``given`` points
    (unconstrained) or, unless ``use_given``, as many draws from the prior (its central 80 %),
    each with whether its log-density is finite."""
    def candidates(key, given, use_given, args):
        u = jax.random.uniform(key, given.shape, minval=0.1, maxval=0.9)
        drawn = batched(problem.to_unconstrained)(batched(problem.from_unit)(u, args), args)
        z = jnp.where(use_given, given, drawn)
        values = over_batch(problem.log_density_unconstrained)(z, args)
        return z, jnp.isfinite(values)
    return candidates


def starting_points(problem, init_from, n: int, key, args, candidates_c, init_scale: float):
    """``n`` starting points (unconstrained) for chains or walkers: drawn by weight from
    ``init_from``'s samples when it has enough, else a ball of radius ``init_scale`` around its
    best fit, else from the prior. Of 4n such candidates those with a finite log-density come
    first: a chain or walker started where the density is −∞ (or NaN) never moves."""
    n_candidates = 4 * n
    k_rows, k_jitter, k_prior = jax.random.split(key, 3)
    given = None
    if init_from is not None:
        if init_from.samples is not None and len(init_from.samples) >= n_candidates:
            w = init_from.weights
            p = None if w is None else jnp.asarray(w, float) / np.sum(w)
            rows = jax.random.choice(k_rows, len(init_from.samples), (n_candidates,),
                                     replace=False, p=p)
            given = batched(problem.to_unconstrained)(jnp.asarray(init_from.samples)[rows], args)
        else:
            centre = problem.to_unconstrained(jnp.asarray(init_from.best_theta), args)
            jitter = init_scale * jax.random.normal(k_jitter, (n_candidates, problem.dim))
            given = centre[None, :] + jitter
    z, finite = candidates_c(k_prior, jnp.zeros((n_candidates, problem.dim)) if given is None
                             else given, jnp.asarray(given is not None), args)
    finite = np.asarray(finite)
    if not finite.any():
        from lensframe.errors import LensframeError

        where = "around init_from" if given is not None else "from the prior"
        raise LensframeError(f"no starting point with a finite log-density among "
                             f"{n_candidates} drawn {where}: check the priors and the data")
    order = np.argsort(~finite, kind="stable")
    return np.asarray(z)[order[:n]]


def sample_result(fitter: str, problem, thetas, log_density, diagnostics: dict, interrupted_at,
                  weights=None, **extra):
    """The FitResult of a sampler: best sample as the point estimate, equal weights unless given,
    and the interruption recorded in ``diagnostics`` (the Ctrl-C contract of lensframe.fitter)."""
    from lensframe.result import FitResult

    diagnostics["interrupted"] = interrupted_at is not None
    if interrupted_at is not None:
        diagnostics["interrupted_at"] = interrupted_at
    best = int(np.argmax(log_density))
    if weights is None:
        weights = np.full(len(thetas), 1.0 / len(thetas))
    return FitResult(fitter=fitter, free_names=list(problem.free_names), best_theta=thetas[best],
                     best_fit=problem.named(thetas[best]), log_density=float(log_density[best]),
                     samples=thetas, weights=weights, diagnostics=diagnostics, **extra)
