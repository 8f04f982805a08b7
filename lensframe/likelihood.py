"""The Likelihood and Solver interfaces.

A likelihood is bound to the problem's components (static structure) and validated options when the
problem is built. ``prepare_data`` runs once on the host: it reads and checks the data and returns a
dict of arrays, which every compiled program then takes as an *argument*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from .options import NoOptions
from .profile import Profile


@dataclass(frozen=True)
class Component:
    """A named model component: a profile plus its options: the keys the likelihood reads (e.g.
    ``plane``) and the profile's own static options (prefixed ``profile.``)."""

    name: str
    profile_name: str
    profile: Profile = field(compare=False)
    version: str = ""
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default=None):
        return dict(self.options).get(key, default)


class Likelihood:
    """Interface of a likelihood plugin.

    Subclasses set ``Options`` (a frozen dataclass) and ``component_options`` (which extra keys a
    component may carry, e.g. ``{"plane": ("lens", "source")}``) and implement the methods below.
    ``values`` is always ``{component: {param: scalar}}`` without the linear parameters.
    """

    Options: ClassVar[type] = NoOptions
    component_options: ClassVar[Mapping[str, tuple]] = {}

    def __init__(self, components: Mapping[str, Component], linear: frozenset[str], options):
        self.components = dict(components)
        self.linear = linear
        self.options = options

    def prepare_data(self, raw: Mapping[str, Any], base_dir=None) -> dict:
        """Read and validate the data on the host; returns a dict of arrays."""
        raise NotImplementedError

    def log_likelihood(self, values, data):
        """ln L (a scalar), pure JAX."""
        raise NotImplementedError

    def linear_solution(self, values, data) -> dict:
        """The solved linear parameters, keyed ``"component.param"``."""
        return {}

    def products(self, values, data) -> dict:
        """Arrays for plots and results (e.g. model image, residuals)."""
        return {}

    def degrees_of_freedom(self, data, n_free: int) -> int | None:
        return None

    def figures(self, values, data, directory, title: str = "") -> list:
        """Write this likelihood's own figures of a fit (e.g. data/model/residual panels, a light
        curve) into ``directory``; returns the paths written. Called on the host by ``lensframe
        fit`` after fitting; the default writes nothing."""
        return []


class Solver:
    """Interface of a linear solver plugin: amplitudes x minimising Σ w (A x − b)²."""

    def solve(self, design, target, weights):
        """``design`` (n, k), ``target`` (n,), ``weights`` (n,) ≥ 0 → (x (k,), info dict)."""
        raise NotImplementedError
