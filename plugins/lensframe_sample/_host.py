"""Pieces shared by the host-driven samplers (emcee, nautilus) and the chain diagnostics.

A host-driven sampler hands the log-density batches of varying size. :class:`BatchedLogFunction`
pads each batch to the next power of two (at least ``MIN_BATCH``), so the compiled program exists
for a handful of shapes, not one per batch size, counts the evaluations and maps NaN to −∞.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

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

    def __call__(self, points) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, float))
        n = len(points)
        padded = np.broadcast_to(self.pad_value, (padded_size(n), points.shape[1])).copy()
        padded[:n] = points
        values, bad = self.compiled(jnp.asarray(padded), self.args)
        self.n_calls += n
        self.n_nonfinite += int(np.asarray(bad)[:n].sum())
        return np.asarray(values)[:n]


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
