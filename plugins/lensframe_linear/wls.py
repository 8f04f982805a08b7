"""Weighted linear least squares for a handful of amplitudes.

Minimises Σ_i w_i (A x − b)_i² through the normal equations (Aᵀ W A) x = Aᵀ W b. The columns are
scaled to unit diagonal first (Jacobi preconditioning) and a 1e-12 ridge keeps a column that vanishes
(a source lensed out of the field) from making the system singular, so values and gradients stay
finite. Solved by Cholesky factorisation (e.g. Golub & Van Loan, Matrix Computations, §4.2 and §5.3).
"""

import jax.numpy as jnp
import jax.scipy.linalg as jsl
from lensframe.likelihood import Solver

_RIDGE = 1e-12


class WeightedLeastSquares(Solver):
    reference = "Golub & Van Loan, Matrix Computations (normal equations, Cholesky)"

    def solve(self, design, target, weights):
        aw = design * weights[:, None]
        normal = design.T @ aw
        rhs = aw.T @ target
        scale = jnp.sqrt(jnp.maximum(jnp.diag(normal), jnp.finfo(normal.dtype).tiny))
        scaled = normal / (scale[:, None] * scale[None, :])
        scaled = scaled + _RIDGE * jnp.eye(normal.shape[0], dtype=normal.dtype)
        factor = jsl.cho_factor(scaled, lower=True)
        x = jsl.cho_solve(factor, rhs / scale) / scale
        return x, {"converged": jnp.all(jnp.isfinite(x))}
