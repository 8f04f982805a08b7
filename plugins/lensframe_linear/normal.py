"""Jacobi-scaled normal equations shared by the linear solvers.

For Σ_i w_i (A x − b)_i² with a handful of columns, (Aᵀ W A) x = Aᵀ W b is small and cheap. Each
column is scaled to a unit diagonal (Jacobi preconditioning, e.g. Golub & Van Loan, Matrix
Computations, §4.2) so amplitudes of very different sizes are equally well conditioned; a positive
rescaling also keeps a constraint x ≥ 0 intact. A column that vanishes (≤ 1e-30 of the largest: a
source lensed out of the field) is left unscaled: the double ``where`` keeps the square root away
from 0, where its derivative is infinite, so gradients stay finite.
"""

import jax.numpy as jnp

RIDGE = 1e-12  # added to the unit diagonal: a vanished column cannot make the system singular
_DEAD = 1e-30


def column_scale(diagonal):
    """√diag(AᵀWA), or 1 for a column that vanishes."""
    live = diagonal > jnp.maximum(_DEAD * jnp.max(diagonal), jnp.finfo(diagonal.dtype).tiny)
    return jnp.where(live, jnp.sqrt(jnp.where(live, diagonal, 1.0)), 1.0)


def scaled_normal_equations(design, target, weights):
    """(N, r, s): N = S⁻¹ AᵀWA S⁻¹ and r = S⁻¹ AᵀW b with S = diag(s); the solution is x = y / s
    where N y = r."""
    aw = design * weights[:, None]
    normal = design.T @ aw
    rhs = aw.T @ target
    scale = column_scale(jnp.diag(normal))
    return normal / (scale[:, None] * scale[None, :]), rhs / scale, scale
