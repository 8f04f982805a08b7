"""The ``wls`` solver against numpy.linalg.lstsq on √w-scaled problems (computed at test time):
random weighted problems with 1 to 60 amplitudes, masked rows (weight 0), columns of very
different scale (what the Jacobi scaling is for), under ``jit`` and ``vmap``; a vanishing column
stays finite."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

SOLVER = lensframe.get_solver("wls")
VSOLVE = jax.jit(jax.vmap(SOLVER.solve))


def problem(rng, k, n=150):
    design = rng.normal(size=(n, k)) * np.geomspace(1e-3, 1e3, k)  # column scales over 6 decades
    target = design @ rng.normal(size=k) + rng.normal(size=n)
    weights = rng.uniform(0.2, 3.0, n)
    weights[rng.uniform(size=n) < 0.1] = 0.0
    return design, target, weights


def lstsq(design, target, weights):
    root = np.sqrt(weights)
    return np.linalg.lstsq(design * root[:, None], target * root, rcond=None)[0]


def scaled_error(design, weights, x, ref):
    norm = np.sqrt(np.sum(weights[:, None] * design * design, axis=0))
    return np.max(np.abs(norm * (x - ref))) / np.max(np.abs(norm * ref))


@pytest.mark.parametrize("k", [1, 2, 5, 13, 34, 60])
def test_matches_numpy_lstsq(k):
    rng = np.random.default_rng(500 + k)
    cases = [problem(rng, k) for _ in range(10)]
    designs, targets, weights = (np.stack(a) for a in zip(*cases))
    xs, info = VSOLVE(designs, targets, weights)
    assert np.all(np.asarray(info["converged"]))
    for (a, b, w), x in zip(cases, np.asarray(xs)):
        ref = lstsq(a, b, w)
        # compared as amplitude × column norm (the columns' scales differ by 1e6, and so do the
        # amplitudes), relative to the largest: measured ≤ 3e-12, the effect of the 1e-12 ridge
        assert scaled_error(a, w, x, ref) < 1e-10
        # the residual is orthogonal to the weighted columns: the normal equations hold
        g = a.T @ (w * (b - a @ x))
        assert np.all(np.abs(g) <= 1e-9 * np.sqrt(np.sum(w[:, None] * a * a, axis=0)
                                                * np.sum(w * b * b)))


def test_jit_vmap_and_eager_agree():
    rng = np.random.default_rng(510)
    cases = [problem(rng, 13) for _ in range(10)]
    designs, targets, weights = (np.stack(a) for a in zip(*cases))
    vm, _ = VSOLVE(designs, targets, weights)
    for i in range(3):
        eager, _ = SOLVER.solve(jnp.asarray(designs[i]), jnp.asarray(targets[i]),
                                jnp.asarray(weights[i]))
        # batched matrix products round differently: measured 1e-14 (scaled)
        assert scaled_error(designs[i], weights[i], np.asarray(vm[i]), np.asarray(eager)) < 1e-12


def test_gradients_are_finite_and_match_finite_differences():
    rng = np.random.default_rng(512)
    a, b, w = problem(rng, 5)
    a = a / np.geomspace(1e-3, 1e3, 5)  # unit column scales: one step h suits every entry
    probe = rng.normal(size=5)
    f = jax.jit(lambda a_, b_: jnp.dot(SOLVER.solve(a_, b_, jnp.asarray(w))[0], probe))
    grads = jax.grad(f, argnums=(0, 1))(a, b)
    assert all(np.all(np.isfinite(g)) for g in grads)
    h = 1e-6
    for i, arg in enumerate((a, b)):
        direction = rng.normal(size=arg.shape)
        up, down = [a, b], [a, b]
        up[i], down[i] = arg + h * direction, arg - h * direction
        fd = (float(f(*up)) - float(f(*down))) / (2 * h)
        assert float(np.sum(grads[i] * direction)) == pytest.approx(fd, rel=1e-6)


def test_vanishing_column_is_finite():
    rng = np.random.default_rng(511)
    a, b, w = problem(rng, 5)
    a[:, 3] = 0.0  # e.g. a source lensed out of the field
    x, info = SOLVER.solve(jnp.asarray(a), jnp.asarray(b), jnp.asarray(w))
    assert bool(info["converged"]) and float(x[3]) == 0.0
    keep = [0, 1, 2, 4]
    assert scaled_error(a[:, keep], w, np.asarray(x)[keep], lstsq(a[:, keep], b, w)) < 1e-10


def test_gradient_through_a_vanishing_column_is_finite():
    rng = np.random.default_rng(511)
    a, b, w = problem(rng, 5)
    a[:, 3] = 0.0
    grads = jax.grad(lambda a_, b_: jnp.sum(SOLVER.solve(a_, b_, jnp.asarray(w))[0]),
                     argnums=(0, 1))(jnp.asarray(a), jnp.asarray(b))
    assert all(np.all(np.isfinite(g)) for g in grads)
