"""Evaluating a per-point function over a batch of parameter vectors.

On a CPU a plain ``vmap`` over many parameter sets is *slower* per evaluation than one call: the
batch's intermediates (e.g. 128 × 40,000 sub-pixels) fall out of cache. A ``lax.map`` over small
``vmap``ped chunks keeps them in cache and is faster than single calls (it also saves the
per-call dispatch). On an accelerator the whole batch in one ``vmap`` is fastest. ``over_batch``
picks the chunk from the backend unless told.
"""

from __future__ import annotations

from typing import Callable

import jax

#: parameter sets per vmapped chunk on a CPU (measured on the imaging benchmark problem:
#: 1–4 are equally good, 16 is 6% slower, the whole batch of 128 is 75% slower)
CPU_CHUNK = 2


def default_chunk() -> int | None:
    """Chunk size for this backend: ``CPU_CHUNK`` on CPUs, ``None`` (whole batch) elsewhere."""
    return CPU_CHUNK if jax.default_backend() == "cpu" else None


def over_batch(fn: Callable, chunk: int | None | str = "auto") -> Callable:
    """``fn(theta, args) -> value`` becomes ``batched(thetas, args) -> values`` over the leading
    axis of ``thetas``; pure JAX, so it jits and differentiates.

    Args:
        fn: a per-point function of a parameter vector and the problem's arguments.
        chunk: parameter sets evaluated together in one ``vmap``; ``None`` vmaps the whole batch;
            ``"auto"`` chooses by backend (:func:`default_chunk`).
    """
    size = default_chunk() if chunk == "auto" else chunk

    def batched(thetas, args):
        if size is None or thetas.shape[0] <= size:
            return jax.vmap(fn, in_axes=(0, None))(thetas, args)
        return jax.lax.map(lambda t: fn(t, args), thetas, batch_size=size)

    return batched
