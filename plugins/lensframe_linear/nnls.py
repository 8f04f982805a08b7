"""Non-negative weighted least squares for a handful of amplitudes, in pure JAX.

Minimises Σ_i w_i (A x − b)_i² subject to x ≥ 0 by the active-set method of Lawson & Hanson (1974,
*Solving Least Squares Problems*, ch. 23) run on the k × k normal equations (the form of Bro & De
Jong 1997, J. Chemometrics 11, 393), which is cheap because the number of amplitudes k is small
(≲ 70 for shapelets) while the number of pixels n is not. As in ``wls`` the columns are first scaled
to a unit diagonal (a positive rescaling keeps the constraint x ≥ 0) and a 1e-12 ridge is added to
it; a column that vanishes (a source lensed out of the field) is left unscaled, so its amplitude is
0 with a finite (zero) derivative rather than a 0/0.

**Fixed budget.** The algorithm's two nested loops (add the amplitude with the largest positive
gradient; step back towards the previous feasible point while the new least-squares solution has a
non-positive entry) are flattened into one ``lax.while_loop`` of at most ``max_iterations`` steps,
each one Cholesky solve of the system restricted to the passive set (the other rows and columns are
replaced by the identity, so every step has the same static shape). The budget is static:
``max_iterations`` if given, else 3k (at least 10), scipy's default. The loop has no Python control
flow on data, so ``solve`` works under ``jit`` and ``vmap`` (a batch runs until its slowest member
stops). ``info["converged"]`` is True only when the inputs are finite and the Karush–Kuhn–Tucker
conditions were met within the budget: x ≥ 0, zero gradient on the passive set, and no amplitude
at zero whose gradient exceeds 1e-10 of the largest initial gradient, except one that round-off
prevents from entering (adding it returned a non-positive value: Lawson & Hanson's safeguard). ``info["iterations"]`` counts steps.
When the budget runs out, x is the last feasible iterate (x ≥ 0 always holds).

**Gradients.** The returned value is the loop's iterate, and its derivative is that of the
equality-constrained least-squares solution on the final active set: the amplitudes at zero are
held at zero (derivative 0) and the others follow x_F = (A_Fᵀ W A_F)⁻¹ A_Fᵀ W b. This is the exact
derivative wherever the active set does not change under a small perturbation (strict
complementarity); at a point where an amplitude is just leaving or joining the active set the
solution is only directionally differentiable and this is the one-sided derivative that keeps the
current set. For a likelihood −½ min_{x≥0} χ², the gradient with respect to non-linear parameters
is then exactly the envelope-theorem (Danskin) gradient. The loop itself is not differentiated.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from lensframe.likelihood import Solver

from .normal import RIDGE, scaled_normal_equations

_GRADIENT_TOL = 1e-10  # relative to the largest initial gradient, max |Aᵀ W b| (scaled)


def _restricted_solve(normal, rhs, passive):
    """Least squares on the passive set: the system with the other rows and columns replaced by
    the identity (their entries come out exactly 0). ``normal`` has a unit diagonal."""
    both = passive[:, None] & passive[None, :]
    matrix = jnp.where(both, normal, 0.0) + jnp.diag(jnp.where(passive, RIDGE, 1.0))
    factor = jsl.cho_factor(matrix, lower=True)
    return jsl.cho_solve(factor, jnp.where(passive, rhs, 0.0))


def nnls_normal(normal, rhs, max_iterations: int):
    """Lawson–Hanson on min ½ yᵀ N y − rᵀ y, y ≥ 0, with N (k, k) symmetric positive definite of
    unit diagonal. Returns (y, passive set, converged, iterations)."""
    k = rhs.shape[0]
    index = jnp.arange(k)
    tol = _GRADIENT_TOL * jnp.maximum(jnp.max(jnp.abs(rhs)), jnp.finfo(rhs.dtype).tiny)
    none = jnp.zeros(k, bool)

    def step(state):
        it, y, passive, blocked, pending, _ = state
        s = _restricted_solve(normal, rhs, passive)
        feasible = jnp.all(jnp.where(passive, s > 0, True))
        # (a) s is feasible: accept it and add the amplitude with the largest positive gradient
        # that is not blocked; a block is lifted once an addition has succeeded (y has moved)
        gradient = rhs - normal @ s
        blocked_a = jnp.where(pending, none, blocked)
        candidates = ~passive & ~blocked_a & (gradient > tol)
        finished = ~jnp.any(candidates)
        add = (index == jnp.argmax(jnp.where(candidates, gradient, -jnp.inf))) & ~finished
        # (b) s is not: move from y towards s until the first passive amplitude reaches 0, and
        # drop the amplitudes at 0 from the passive set
        leaving = passive & (s <= 0)
        gap = jnp.where(leaving, y - s, 1.0)
        ratio = jnp.where(leaving, jnp.where(gap > 0, y / jnp.where(gap > 0, gap, 1.0), 0.0),
                          jnp.inf)
        alpha = jnp.minimum(jnp.min(ratio), 1.0)
        y_b = jnp.where(passive, y + alpha * (s - y), 0.0)
        removed = passive & ((y_b <= 0) | (index == jnp.argmin(ratio)))
        y_b = jnp.where(removed, 0.0, y_b)
        # alpha = 0 means the amplitude just added came out ≤ 0 at once: round-off, as its
        # gradient was positive. Block it until y moves, or the same step would repeat forever.
        blocked_b = jnp.where(alpha > 0, none, blocked | removed)
        return (it + 1,
                jnp.where(feasible, s, y_b),
                jnp.where(feasible, passive | add, passive & ~removed),
                jnp.where(feasible, blocked_a, blocked_b),
                feasible & ~finished,
                feasible & finished)

    def keep_going(state):
        it, *_, done = state
        return (it < max_iterations) & ~done

    start = (jnp.zeros((), jnp.int32), jnp.zeros_like(rhs), none, none, jnp.zeros((), bool),
             jnp.zeros((), bool))
    it, y, passive, _, _, done = jax.lax.while_loop(keep_going, step, start)
    finite = jnp.all(jnp.isfinite(normal)) & jnp.all(jnp.isfinite(rhs)) & jnp.all(jnp.isfinite(y))
    return y, passive, done & finite, it


class NonNegativeLeastSquares(Solver):
    """Weighted least squares with x ≥ 0 (Lawson–Hanson active set, fixed iteration budget).

    Args:
        max_iterations: the static step budget; ``None`` (the registered solver) means 3k, at
            least 10, for k amplitudes. Each step is one k × k Cholesky solve.
    """

    reference = ("Lawson & Hanson (1974), Solving Least Squares Problems, ch. 23; Bro & De Jong "
                 "(1997), J. Chemometrics 11, 393 (normal-equation form)")
    #: default budget: this many steps per amplitude (scipy.optimize.nnls uses 3 as well) …
    iterations_per_amplitude: int = 3
    #: … and never fewer than this
    min_iterations: int = 10

    def __init__(self, max_iterations: int | None = None):
        if max_iterations is not None and (isinstance(max_iterations, bool)
                                           or not isinstance(max_iterations, int)
                                           or max_iterations < 0):
            raise ValueError(f"nnls: max_iterations must be an integer ≥ 0, got "
                             f"{max_iterations!r}")
        self.max_iterations = max_iterations

    def budget(self, k: int) -> int:
        if self.max_iterations is not None:
            return self.max_iterations
        return max(self.iterations_per_amplitude * k, self.min_iterations)

    def solve(self, design, target, weights):
        k = design.shape[1]
        if k == 0:
            return jnp.zeros((0,), design.dtype), {"converged": jnp.asarray(True),
                                                   "iterations": jnp.asarray(0, jnp.int32)}
        normal, rhs, scale = scaled_normal_equations(design, target, weights)
        y, passive, converged, iterations = nnls_normal(jax.lax.stop_gradient(normal),
                                                        jax.lax.stop_gradient(rhs),
                                                        self.budget(k))
        # value: the iterate; derivative: least squares on the final active set (module docstring)
        polished = _restricted_solve(normal, rhs, passive & (y > 0))
        y = y + (polished - jax.lax.stop_gradient(polished))
        return y / scale, {"converged": converged, "iterations": iterations}
