"""The Profile interface: mass, light and microlens profiles.

A profile is a thin class around pure JAX functions. Its parameters are keyword arguments named as in
``docs/conventions.md`` (lenstronomy's names for strong lensing, VBMicrolensing's for microlensing);
each method broadcasts over array-valued coordinates and must ``jit``, ``vmap`` and ``grad``.

Only the minimum is abstract. A mass profile implements ``deflection`` (and ideally ``potential``);
``hessian`` and ``convergence`` default to forward-mode derivatives of the deflection, which are exact
and elementwise, so a plugin author gets a complete profile from one function.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from .options import NoOptions
from .params import ParamSpec


_MAX_E_SQ = (1.0 - 1e-6) ** 2  # |e| < 1 − 1e-6, i.e. q > 5e-7


class Profile:
    """Base of all profiles.

    Class attributes:
        kind: ``"mass"``, ``"light"`` or ``"microlens"``.
        params: the parameters, as :class:`~lensframe.params.ParamSpec` (name, unit, default, range);
            a profile whose parameters depend on its options overrides it with a property.
        reference: the paper the implementation follows.
        Options: frozen dataclass of static options, passed to the constructor.
    """

    kind: ClassVar[str] = ""
    params: tuple[ParamSpec, ...] = ()
    reference: ClassVar[str] = ""
    #: static options (a frozen dataclass) that shape the profile, e.g. a shapelet order; given as
    #: keys of the component in a config, they are part of the compiled program's structure
    Options: ClassVar[type] = NoOptions

    def __init__(self, options=None):
        self.options = self.Options() if options is None else options

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def domain_violation(self, **params):
        """How far ``params`` are outside the profile's domain (0 inside), pure JAX.

        The default checks each parameter's [lower, upper] range and, for profiles with the
        ellipticity pair (e1, e2), that |e| < 1 (an axis ratio q > 0). A fit that strays outside
        gets a finite, heavily penalised log-likelihood instead of NaN (see ``Problem``)."""
        violation = jnp.zeros(())
        for spec in self.params:
            if spec.name not in params:
                continue
            value = params[spec.name]
            if spec.lower > -jnp.inf:
                violation = violation + jnp.maximum(spec.lower - value, 0.0)
            if spec.upper < jnp.inf:
                violation = violation + jnp.maximum(value - spec.upper, 0.0)
        if "e1" in params and "e2" in params:
            e_sq = params["e1"] ** 2 + params["e2"] ** 2
            violation = violation + jnp.maximum(e_sq - _MAX_E_SQ, 0.0)
        return violation

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self.param_names)})"


class MassProfile(Profile):
    """A lens mass distribution in one lens plane. Angles in arcsec.

    Conventions: deflection α = ∇ψ, convergence κ = ½ ∇²ψ, hessian (ψ_xx, ψ_xy, ψ_yx, ψ_yy).
    """

    kind: ClassVar[str] = "mass"

    def potential(self, x, y, **params):
        """Lensing potential ψ(x, y) in arcsec²."""
        raise NotImplementedError(f"{type(self).__name__} does not provide a potential")

    def deflection(self, x, y, **params):
        """Deflection angle (α_x, α_y) in arcsec. Defaults to the gradient of the potential."""
        x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
        f = lambda xx, yy: self.potential(xx, yy, **params)  # noqa: E731
        one = jnp.ones_like(x)
        _, ax = jax.jvp(lambda xx: f(xx, y), (x,), (one,))
        _, ay = jax.jvp(lambda yy: f(x, yy), (y,), (one,))
        return ax, ay

    def hessian(self, x, y, **params):
        """Second derivatives of ψ: (f_xx, f_xy, f_yx, f_yy), dimensionless."""
        x, y = jnp.broadcast_arrays(jnp.asarray(x, float), jnp.asarray(y, float))
        one = jnp.ones_like(x)
        _, (fxx, fyx) = jax.jvp(lambda xx: self.deflection(xx, y, **params), (x,), (one,))
        _, (fxy, fyy) = jax.jvp(lambda yy: self.deflection(x, yy, **params), (y,), (one,))
        return fxx, fxy, fyx, fyy

    def convergence(self, x, y, **params):
        """Convergence κ = ½ (f_xx + f_yy), dimensionless."""
        fxx, _, _, fyy = self.hessian(x, y, **params)
        return 0.5 * (fxx + fyy)


class LightProfile(Profile):
    """A surface-brightness distribution. ``surface_brightness`` is flux per unit area (per arcsec²)
    at the given coordinates; an amplitude parameter ``amp`` scales it linearly."""

    kind: ClassVar[str] = "light"

    def surface_brightness(self, x, y, **params):
        raise NotImplementedError


class MicrolensProfile(Profile):
    """A microlens: magnification of a (point or finite) source at (y1, y2), in units of θ_E."""

    kind: ClassVar[str] = "microlens"

    def magnification(self, y1, y2, **params):
        raise NotImplementedError
