"""All roots of a complex polynomial under jit/vmap: Ehrlich–Aberth iterations.

Aberth (1973, Math. Comp. 27, 339); Ehrlich (1967, Comm. ACM 10, 107). Each approximation z_i moves by

    δ_i = r_i / (1 − r_i Σ_{j≠i} 1/(z_i − z_j)),   r_i = P(z_i)/P'(z_i),

which converges cubically to simple roots and simultaneously to all of them. The iteration count is
fixed (a static argument), so the function is a pure, branch-free JAX program that vmaps; converged
approximations stay put because δ → 0. Starts: points on a circle about the roots' centroid
−a_{n−1}/(n a_n) with radius |P(c)/a_n|^{1/n} (the geometric mean distance of the roots from c),
rotated by an irrational angle so no start lies on a symmetry axis of the lens configuration.

No derivatives flow through the iterations (``lax.stop_gradient``): callers differentiate the roots
implicitly (see ``point.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: default number of Aberth iterations (enough for the degree-5 and degree-10 lens polynomials over
#: the tested parameter ranges, incl. q = 1e-5 planets; see tests/plugins/micro/test_roots.py)
N_ITER = 40


def _value_and_derivative(coeffs, x):
    """P(x) and P'(x) by Horner's scheme (coefficients highest degree first)."""
    def step(carry, c):
        p, dp = carry
        return (p * x + c, dp * x + p), None
    zero = jnp.zeros_like(x)
    (p, dp), _ = jax.lax.scan(step, (zero, zero), coeffs)
    return p, dp


def initial_guesses(coeffs):
    """Aberth's starting points for the deg = len(coeffs) − 1 roots (see the module docstring)."""
    deg = coeffs.shape[0] - 1
    centre = -coeffs[1] / (deg * coeffs[0])
    p_c, _ = _value_and_derivative(coeffs, centre)
    radius = jnp.abs(p_c / coeffs[0]) ** (1.0 / deg)
    radius = jnp.where(radius > 0, radius, 1.0)
    angles = 2.0 * jnp.pi * jnp.arange(deg) / deg + 0.4
    return centre + radius * jnp.exp(1j * angles)


def polynomial_roots(coeffs, n_iter: int = N_ITER, start=None):
    """All deg roots (complex (deg,)) of the polynomial with ``coeffs`` (highest degree first).

    ``start``: optional complex (deg,) starting points (e.g. the roots of a nearby polynomial, to
    follow roots continuously); Aberth's circle otherwise."""
    coeffs = jax.lax.stop_gradient(jnp.asarray(coeffs, complex))
    deg = coeffs.shape[0] - 1
    off_diagonal = ~jnp.eye(deg, dtype=bool)

    def body(_, x):
        p, dp = _value_and_derivative(coeffs, x)
        ratio = p / dp
        diff = x[:, None] - x[None, :]
        inv = jnp.where(off_diagonal, 1.0 / jnp.where(off_diagonal, diff, 1.0), 0.0)
        step = ratio / (1.0 - ratio * inv.sum(axis=1))
        # a converged root (p = 0) or a coincident pair gives 0/0 or inf: stay put instead
        step = jnp.where(jnp.isfinite(step), step, 0.0)
        return x - step

    x0 = initial_guesses(coeffs) if start is None else jax.lax.stop_gradient(jnp.asarray(start, complex))
    return jax.lax.fori_loop(0, n_iter, body, x0)
