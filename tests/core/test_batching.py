"""Batched evaluation in chunks equals the per-point function, for any chunk and batch size."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lensframe.batching import default_chunk, over_batch


@pytest.mark.parametrize("chunk, n", [(3, 7), (None, 7), ("auto", 8), (3, 1), (1, 5), (1, 1)])
def test_chunked_batch_equals_single_calls(tiny_problem, chunk, n):
    problem, _ = tiny_problem
    args = problem.args
    u = jax.random.uniform(jax.random.key(n), (n, problem.dim), minval=0.1, maxval=0.9)
    thetas = jax.vmap(lambda v: problem.from_unit(v, args))(u)
    one = jax.jit(problem.log_density)
    single = np.array([float(one(t, args)) for t in thetas])
    batched = np.asarray(jax.jit(lambda t, a: problem.log_density_batch(t, a, chunk))(thetas, args))
    assert batched.shape == (n,)
    np.testing.assert_allclose(batched, single, rtol=1e-12, atol=1e-9)


def test_chunked_batch_differentiates_like_vmap(tiny_problem):
    problem, _ = tiny_problem
    args = problem.args
    u = jax.random.uniform(jax.random.key(0), (5, problem.dim), minval=0.1, maxval=0.9)
    thetas = jax.vmap(lambda v: problem.from_unit(v, args))(u)
    total = lambda t, chunk: jnp.sum(over_batch(problem.log_likelihood, chunk)(t, args))  # noqa
    g_vmap = jax.jit(jax.grad(total), static_argnums=1)(thetas, None)
    for chunk in (2, 1):
        g_chunked = jax.jit(jax.grad(total), static_argnums=1)(thetas, chunk)
        np.testing.assert_allclose(g_chunked, g_vmap, rtol=1e-10)
        assert np.all(np.isfinite(g_chunked))


def test_chunk_of_one_does_not_vmap(tiny_problem):
    """chunk 1 evaluates the unbatched function in a loop (XLA's code for it is faster on a
    CPU); chunk 2 vmaps pairs: fn then sees a batching tracer."""
    problem, _ = tiny_problem
    thetas = jnp.zeros((4, problem.dim)) + 0.5

    def tracers(chunk):
        seen = []

        def fn(theta, args):
            seen.append(type(theta).__name__)
            return problem.log_density(theta, args)

        jax.make_jaxpr(over_batch(fn, chunk))(thetas, problem.args)
        return seen

    assert not any("Batch" in name for name in tracers(1))
    assert any("Batch" in name for name in tracers(2))


def test_default_chunk_follows_the_backend():
    assert default_chunk() == (1 if jax.default_backend() == "cpu" else None)
