"""Evaluating a per-point function over a batch of parameter vectors.

On a CPU a plain ``vmap`` over many parameter sets is *slower* per evaluation than one call: the
batch's intermediates (e.g. 128 × 40,000 sub-pixels) fall out of cache. A ``lax.map`` over the
points one at a time (``chunk = 1``: the unbatched function in a loop, no ``vmap`` at all) keeps
them in cache and saves the per-call dispatch; on the SLACS model (four linear Sérsic columns,
NNLS, PSF) XLA's code for the vmapped likelihood was ~1.4–1.6× slower per point than the unbatched
one even for chunks of one or two points, so the CPU default is one point at a time. On an
accelerator the whole batch in one ``vmap`` is fastest. ``over_batch`` picks the chunk from the
backend unless told.
"""

from __future__ import annotations

from typing import Callable

import jax

#: parameter sets per chunk on a CPU: 1 = no vmap (docs/performance.md, "Batched evaluation":
#: on the SLACS model one at a time was 1.4× faster in the PSO than vmapped pairs; on the imaging
#: benchmark problem 1–4 were equally good, 16 was 6 % slower, the whole batch of 128 75 % slower)
CPU_CHUNK = 1


def default_chunk() -> int | None:
    """Chunk size for this backend: ``CPU_CHUNK`` on CPUs, ``None`` (whole batch) elsewhere."""
    return CPU_CHUNK if jax.default_backend() == "cpu" else None


def over_batch(fn: Callable, chunk: int | None | str = "auto") -> Callable:
    """``fn(theta, args) -> value`` becomes ``batched(thetas, args) -> values`` over the leading
    axis of ``thetas``; pure JAX, so it jits and differentiates.

    Args:
        fn: a per-point function of a parameter vector and the problem's arguments.
        chunk: parameter sets evaluated together in one ``vmap``; 1 evaluates them one at a time
            (a ``lax.map`` of ``fn`` itself, not vmapped); ``None`` vmaps the whole batch;
            ``"auto"`` chooses by backend (:func:`default_chunk`).
    """
    size = default_chunk() if chunk == "auto" else chunk

    def batched(thetas, args):
        if size is None or (size > 1 and thetas.shape[0] <= size):
            return jax.vmap(fn, in_axes=(0, None))(thetas, args)
        # batch_size=1 would still vmap (a batch of one), which is what chunk 1 avoids
        return jax.lax.map(lambda t: fn(t, args), thetas,
                           batch_size=None if size == 1 else size)

    return batched
