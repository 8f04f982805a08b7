"""Priors and parameter roles.

A parameter of a component is one of:

* :class:`Fixed` — a constant (still an *argument* of compiled programs, so changing it does not
  recompile);
* free with a prior — :class:`Uniform`, :class:`Normal`, :class:`TruncatedNormal`,
  :class:`LogUniform`;
* :class:`Linked` — equal to another component's parameter (``"lens.center_x"``);
* :class:`Linear` — solved analytically by the likelihood (amplitudes).

Priors are JAX pytrees whose hyperparameters are leaves: the prior *family* is part of the compiled
program, its numbers are arguments. Each prior offers three views of its parameter, used by the
fitters: the log density, the inverse CDF from the unit cube (PSO, nautilus) and a bijection from the
unconstrained reals with its log-Jacobian (L-BFGS, NUTS, emcee).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtr, ndtri

from .errors import ParameterError

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _pytree(cls):
    names = [f.name for f in fields(cls)]
    return jax.tree_util.register_dataclass(cls, data_fields=names, meta_fields=[])


def _bounded_from_unconstrained(z, low, high):
    """x = low + (high - low) σ(z) and log |dx/dz|."""
    s = jax.nn.sigmoid(z)
    x = low + (high - low) * s
    logdet = jnp.log(high - low) + jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z)
    return x, logdet


def _bounded_to_unconstrained(x, low, high):
    s = jnp.clip((x - low) / (high - low), 1e-15, 1.0 - 1e-15)
    return jnp.log(s) - jnp.log1p(-s)


class Prior:
    """Interface shared by all priors (all methods are pure JAX and elementwise)."""

    family: ClassVar[str] = ""

    def log_prob(self, x):
        raise NotImplementedError

    def from_unit(self, u):
        """Inverse CDF: maps u ∈ (0, 1) to the parameter."""
        raise NotImplementedError

    def from_unconstrained(self, z):
        """Maps z ∈ ℝ into the support; returns (x, log |dx/dz|)."""
        raise NotImplementedError

    def to_unconstrained(self, x):
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def check(self, where: str) -> None:
        """Reject impossible hyperparameters on the host, naming the parameter ``where``."""

    def describe(self) -> str:
        args = ", ".join(f"{f.name}={float(getattr(self, f.name)):g}" for f in fields(self))
        return f"{type(self).__name__}({args})"


@_pytree
@dataclass(frozen=True)
class Uniform(Prior):
    """Uniform on [low, high]."""

    low: float
    high: float
    family: ClassVar[str] = "uniform"

    def log_prob(self, x):
        inside = (x >= self.low) & (x <= self.high)
        return jnp.where(inside, -jnp.log(self.high - self.low), -jnp.inf)

    def from_unit(self, u):
        return self.low + (self.high - self.low) * u

    def from_unconstrained(self, z):
        return _bounded_from_unconstrained(z, self.low, self.high)

    def to_unconstrained(self, x):
        return _bounded_to_unconstrained(x, self.low, self.high)

    def support(self):
        return (float(self.low), float(self.high))

    def check(self, where):
        _check_interval(where, self.low, self.high)


@_pytree
@dataclass(frozen=True)
class LogUniform(Prior):
    """Density ∝ 1/x on [low, high], 0 < low < high."""

    low: float
    high: float
    family: ClassVar[str] = "loguniform"

    def log_prob(self, x):
        inside = (x >= self.low) & (x <= self.high)
        safe = jnp.where(inside, x, 1.0)
        return jnp.where(inside, -jnp.log(safe) - jnp.log(jnp.log(self.high / self.low)), -jnp.inf)

    def from_unit(self, u):
        return jnp.exp(jnp.log(self.low) + u * jnp.log(self.high / self.low))

    def from_unconstrained(self, z):
        log_x, logdet = _bounded_from_unconstrained(z, jnp.log(self.low), jnp.log(self.high))
        return jnp.exp(log_x), logdet + log_x

    def to_unconstrained(self, x):
        return _bounded_to_unconstrained(jnp.log(x), jnp.log(self.low), jnp.log(self.high))

    def support(self):
        return (float(self.low), float(self.high))

    def check(self, where):
        _check_interval(where, self.low, self.high)
        if self.low <= 0:
            raise ParameterError(f"{where}: LogUniform needs low > 0, got low={self.low}")


@_pytree
@dataclass(frozen=True)
class Normal(Prior):
    """Gaussian with mean ``mu`` and standard deviation ``sigma``."""

    mu: float
    sigma: float
    family: ClassVar[str] = "normal"

    def log_prob(self, x):
        return -0.5 * ((x - self.mu) / self.sigma) ** 2 - jnp.log(self.sigma) - _LOG_SQRT_2PI

    def from_unit(self, u):
        return self.mu + self.sigma * ndtri(u)

    def from_unconstrained(self, z):
        # Scaled so that z is O(1) across the prior: better conditioned for optimisers.
        return self.mu + self.sigma * z, jnp.log(self.sigma) * jnp.ones_like(z)

    def to_unconstrained(self, x):
        return (x - self.mu) / self.sigma

    def check(self, where):
        if not self.sigma > 0:
            raise ParameterError(f"{where}: Normal needs sigma > 0, got sigma={self.sigma}")


@_pytree
@dataclass(frozen=True)
class TruncatedNormal(Prior):
    """Gaussian (mu, sigma) restricted to [low, high]."""

    mu: float
    sigma: float
    low: float
    high: float
    family: ClassVar[str] = "truncnormal"

    def _cdf_bounds(self):
        return ndtr((self.low - self.mu) / self.sigma), ndtr((self.high - self.mu) / self.sigma)

    def log_prob(self, x):
        a, b = self._cdf_bounds()
        inside = (x >= self.low) & (x <= self.high)
        lp = (-0.5 * ((x - self.mu) / self.sigma) ** 2 - jnp.log(self.sigma) - _LOG_SQRT_2PI
              - jnp.log(b - a))
        return jnp.where(inside, lp, -jnp.inf)

    def from_unit(self, u):
        a, b = self._cdf_bounds()
        p = jnp.clip(a + u * (b - a), 1e-300, 1.0 - 1e-16)
        return jnp.clip(self.mu + self.sigma * ndtri(p), self.low, self.high)

    def from_unconstrained(self, z):
        return _bounded_from_unconstrained(z, self.low, self.high)

    def to_unconstrained(self, x):
        return _bounded_to_unconstrained(x, self.low, self.high)

    def support(self):
        return (float(self.low), float(self.high))

    def check(self, where):
        _check_interval(where, self.low, self.high)
        if not self.sigma > 0:
            raise ParameterError(f"{where}: TruncatedNormal needs sigma > 0, got {self.sigma}")
        # an interval far in a tail holds no mass in float64: log_prob would be −inf everywhere
        # and every unit-cube draw would land on one bound
        a, b = self._cdf_bounds()
        mass = float(b - a)
        if not mass > 1e-14:
            far = min(abs(self.low - self.mu), abs(self.high - self.mu)) / self.sigma
            raise ParameterError(
                f"{where}: TruncatedNormal(mu={self.mu}, sigma={self.sigma}) on [{self.low}, "
                f"{self.high}] cannot be sampled: the interval is {far:.0f} sigma from mu and "
                f"holds a probability of {mass:.1e} in float64; move mu or widen sigma, or use a "
                f"uniform prior on the interval")


def _check_interval(where, low, high):
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError(f"{where}: prior bounds must be finite, got [{low}, {high}]")
    if not low < high:
        raise ParameterError(
            f"{where}: prior bounds are reversed or empty: low={low} must be below high={high}")


# ------------------------------------------------------------------------------------------------
# Parameter roles that are not free.

@dataclass(frozen=True)
class Fixed:
    """A constant parameter value."""

    value: float


@dataclass(frozen=True)
class Linked:
    """Equal to another component's parameter, written ``"component.param"``."""

    target: str


@dataclass(frozen=True)
class Linear:
    """Solved analytically by the likelihood (e.g. a light amplitude)."""


PRIORS: dict[str, type[Prior]] = {
    "uniform": Uniform, "normal": Normal, "gaussian": Normal, "truncnormal": TruncatedNormal,
    "truncatednormal": TruncatedNormal, "truncated_normal": TruncatedNormal,
    "loguniform": LogUniform, "log_uniform": LogUniform,
}
