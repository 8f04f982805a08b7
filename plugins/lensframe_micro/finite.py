"""Finite-source magnification: the entry point ``magnification`` (see ``FiniteSettings``).

Point source at rho = 0; otherwise the hexadecapole approximation (``multipole.py``, Gould 2008)
where its error estimate allows, the full contour integral (``contour.py``) elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from .multipole import multipole
from .point import point_magnification


@dataclass(frozen=True)
class FiniteSettings:
    """Static (hashable) accuracy/speed knob of the finite-source magnification.

    Attributes:
        tol: relative accuracy aimed at; the multipole approximation is used where its last term
            is below ``tol`` times the magnification.
    """

    tol: float = 1e-4


DEFAULT = FiniteSettings()


def magnification(w, z, m, rho, a1=0.0, settings: FiniteSettings = DEFAULT):
    """Magnification of a disk source of radius ``rho`` (θ_E) centred at complex ``w``.

    Returns the point-source value at rho = 0. Placeholder: hexadecapole approximation elsewhere
    (full contour integral to follow).
    """
    point = point_magnification(w, z, m)
    multi = multipole(w, z, m, jnp.where(rho > 0, rho, 1.0), a1)
    return jnp.where(rho > 0, multi["hexadecapole"], point)
