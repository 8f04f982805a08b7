"""Ellipticity helpers (lenstronomy convention: e1 = (1-q)/(1+q) cos 2φ, e2 = (1-q)/(1+q) sin 2φ)."""

import jax
import jax.numpy as jnp


def elliptical_radius_squared(dx, dy, e1, e2):
    """R² = q x'² + y'²/q written as a polynomial in (e1, e2).

    With e = |(e1, e2)|, q = (1-e)/(1+e) and x' along the major axis, expanding the rotation gives
    R² = [(1+e²)(dx²+dy²) − 2 e1 (dx²−dy²) − 4 e2 dx dy] / (1−e²). No angle and no square root of
    e appear, so the value and every derivative stay smooth through e1 = e2 = 0.
    """
    e_sq = e1 * e1 + e2 * e2
    return ((1.0 + e_sq) * (dx * dx + dy * dy) - 2.0 * e1 * (dx * dx - dy * dy)
            - 4.0 * e2 * dx * dy) / (1.0 - e_sq)


def safe_sqrt(value, floor):
    """√max(value, floor²): finite value and gradient at 0."""
    return jnp.sqrt(jnp.maximum(value, floor * floor))


def branch_on_roundness(e1, e2, threshold, elliptical, near_round, *args):
    """``elliptical(e1, e2, *args)`` where |e| ≥ threshold, ``near_round(e1, e2, *args)`` below.

    Closed forms in the ellipse's frame need the axis angle, undefined at e = 0, while the
    profile is smooth there; below ``threshold`` an expansion in (e1, e2) takes over. The
    elliptical branch always receives a well-defined (e1, e2) (the double-where trick), so its
    gradient cannot leak NaN. With scalar (e1, e2), as in a fit, ``lax.cond`` evaluates only the
    branch taken; under ``vmap`` it becomes a select of both, still NaN-free.
    """
    round_ = e1 * e1 + e2 * e2 < threshold * threshold
    e1_ell = jnp.where(round_, 2.0 * threshold, e1)
    e2_ell = jnp.where(round_, 0.0, e2)
    if jnp.ndim(round_) == 0:
        return jax.lax.cond(round_, lambda: near_round(e1, e2, *args),
                            lambda: elliptical(e1_ell, e2_ell, *args))
    near = near_round(e1, e2, *args)
    ell = elliptical(e1_ell, e2_ell, *args)
    return jax.tree_util.tree_map(lambda a, b: jnp.where(round_, a, b), near, ell)
