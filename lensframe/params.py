"""Parameter metadata: what a component's parameters are called, their units and defaults.

Pure Python, no JAX: plugins describe their parameters with :class:`ParamSpec` in a module that both
their registration (read by ``lensframe list``/``info`` without importing numerics) and their
implementation import, so the description and the code cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a component.

    Attributes:
        name: the parameter's name (lenstronomy / VBMicrolensing conventions, see docs/conventions.md).
        unit: physical unit, e.g. ``"arcsec"``, ``"dimensionless"``.
        description: one line for ``lensframe info``.
        default: value used when a configuration does not mention the parameter; ``None`` means the
            parameter must be given.
        lower, upper: the physically allowed range (inclusive); values outside are rejected.
        linear: True when the likelihood can solve this parameter analytically (an amplitude).
    """

    name: str
    unit: str = "dimensionless"
    description: str = ""
    default: float | None = None
    lower: float = -math.inf
    upper: float = math.inf
    linear: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "unit": self.unit,
            "description": self.description,
            "default": self.default,
            "lower": None if math.isinf(self.lower) else self.lower,
            "upper": None if math.isinf(self.upper) else self.upper,
            "linear": self.linear,
        }


def names(specs: tuple[ParamSpec, ...]) -> tuple[str, ...]:
    return tuple(s.name for s in specs)
