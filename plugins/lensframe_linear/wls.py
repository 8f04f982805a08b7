"""Weighted linear least squares for a handful of amplitudes.

Minimises Σ_i w_i (A x − b)_i² through the Jacobi-scaled normal equations (see ``normal.py``), with
a 1e-12 ridge so a column that vanishes (a source lensed out of the field) cannot make the system
singular; values and gradients stay finite. Solved by Cholesky factorisation (e.g. Golub & Van Loan,
Matrix Computations, §4.2 and §5.3).
"""

import jax.numpy as jnp
import jax.scipy.linalg as jsl
from lensframe.likelihood import Solver

from .normal import RIDGE, scaled_normal_equations


class WeightedLeastSquares(Solver):
    reference = "Golub & Van Loan, Matrix Computations (normal equations, Cholesky)"

    def solve(self, design, target, weights):
        normal, rhs, scale = scaled_normal_equations(design, target, weights)
        normal = normal + RIDGE * jnp.eye(normal.shape[0], dtype=normal.dtype)
        x = jsl.cho_solve(jsl.cho_factor(normal, lower=True), rhs) / scale
        return x, {"converged": jnp.all(jnp.isfinite(x))}
