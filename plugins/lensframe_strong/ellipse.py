"""Ellipticity helpers (lenstronomy convention: e1 = (1-q)/(1+q) cos 2φ, e2 = (1-q)/(1+q) sin 2φ)."""

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
