"""A toy problem with a known answer, as a real lensframe Problem: a 3-parameter component
``TOY_POINT`` and a likelihood ``gaussian_toy`` with ln L = −½ (θ − μ)ᵀ Σ⁻¹ (θ − μ) (not normalised),
registered through an in-process plugin. With uniform priors on a box much wider than Σ the
posterior is N(μ, Σ) and the evidence is Z = (2π)^{d/2} |Σ|^{1/2} / V_box.

Optional data ``nan_below``: ln L is NaN where θ₀ < nan_below (a region where a model breaks), to
test how fitters treat NaN.
"""

from __future__ import annotations

import math
import types

import jax.numpy as jnp
import numpy as np

from lensframe import hookimpl
from lensframe.likelihood import Likelihood
from lensframe.params import ParamSpec
from lensframe.profile import LightProfile

NAMES = ("p0", "p1", "p2")
MEAN = np.array([1.0, -0.5, 2.0])
SIGMA = np.array([1.0, 0.5, 2.0])
CORR = np.array([[1.0, 0.6, -0.3],
                 [0.6, 1.0, 0.2],
                 [-0.3, 0.2, 1.0]])
COV = CORR * np.outer(SIGMA, SIGMA)
HALF_WIDTH = 15.0  # prior box: μ ± HALF_WIDTH in every parameter (> 7σ from any wall)


class ToyPoint(LightProfile):
    """A point in parameter space; only its parameters matter (test only)."""

    params = tuple(ParamSpec(n, description=f"coordinate {n}", default=0.0) for n in NAMES)

    def surface_brightness(self, x, y, **params):
        return jnp.zeros_like(x)


class GaussianToy(Likelihood):
    """ln L = −½ rᵀ Σ⁻¹ r with r = θ − μ over the component ``point``."""

    def prepare_data(self, raw, base_dir=None):
        cov = np.asarray(raw["cov"], float)
        return {"mean": np.asarray(raw["mean"], float), "precision": np.linalg.inv(cov),
                "nan_below": np.asarray(raw.get("nan_below", -np.inf), float)}

    def log_likelihood(self, values, data):
        point = values["point"]
        theta = jnp.stack([point[n] for n in NAMES])
        r = theta - data["mean"]
        ll = -0.5 * r @ data["precision"] @ r
        return jnp.where(theta[0] < data["nan_below"], jnp.nan, ll)


def plugin_module():
    module = types.ModuleType("gaussian_toy_plugin")

    @hookimpl
    def lensframe_register_profiles(registry):
        registry.add("TOY_POINT", kind="light", ref="gaussian_toy:ToyPoint",
                     params=ToyPoint.params, summary="toy point (tests)")

    @hookimpl
    def lensframe_register_likelihoods(registry):
        registry.add("gaussian_toy", kind="likelihood", ref="gaussian_toy:GaussianToy",
                     summary="correlated Gaussian (tests)")

    module.lensframe_register_profiles = lensframe_register_profiles
    module.lensframe_register_likelihoods = lensframe_register_likelihoods
    return module


def build(dim: int = 3, nan_below: float | None = None):
    """The toy Problem with ``dim`` free parameters (the others fixed at their mean); the plugin
    must be registered first (``register_plugin(plugin_module())``)."""
    from lensframe.problem import Problem

    params = {}
    for i, name in enumerate(NAMES):
        if i < dim:
            params[name] = {"prior": "uniform", "low": MEAN[i] - HALF_WIDTH,
                            "high": MEAN[i] + HALF_WIDTH}
        else:
            params[name] = float(MEAN[i])
    data = {"mean": MEAN, "cov": COV}
    if nan_below is not None:
        data["nan_below"] = nan_below
    return Problem.build({"point": {"profile": "TOY_POINT", "params": params}}, data,
                         likelihood="gaussian_toy")


def expected(dim: int = 3):
    """(mean, covariance, ln Z) of the posterior of :func:`build`. The fixed parameters sit at
    their mean, so the free ones follow the conditional Gaussian, of precision P = (Σ⁻¹)[:d, :d];
    its mass outside the box is below 1e-12, and Z = (2π)^{d/2} |P|^{-1/2} / (2 · HALF_WIDTH)^d."""
    precision = np.linalg.inv(COV)[:dim, :dim]
    log_z = (0.5 * dim * math.log(2 * math.pi) - 0.5 * np.linalg.slogdet(precision)[1]
             - dim * math.log(2 * HALF_WIDTH))
    return MEAN[:dim], np.linalg.inv(precision), log_z
