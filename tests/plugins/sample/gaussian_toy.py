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


def assert_moments(samples, weights, ess, dim: int = 3, n_sigma: float = 4.0):
    """Weighted mean and covariance of ``samples`` equal the posterior's within Monte Carlo error
    of ``ess`` effective draws per parameter: a mean's standard error is σ_i / √ESS_i, and a
    sample covariance of Gaussian draws has variance (Σ_ii Σ_jj + Σ_ij²) / ESS. Both are checked
    at ``n_sigma`` of those errors."""
    mu, cov, _ = expected(dim)
    w = np.asarray(weights, float) / np.sum(weights)
    mean = w @ samples
    centred = samples - mean
    sample_cov = (centred * w[:, None]).T @ centred
    ess = np.broadcast_to(np.asarray(ess, float), (dim,))
    sigma = np.sqrt(np.diag(cov))
    assert np.all(np.abs(mean - mu) < n_sigma * sigma / np.sqrt(ess)), (mean, mu, ess)
    cov_error = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / np.min(ess))
    assert np.all(np.abs(sample_cov - cov) < n_sigma * cov_error), (sample_cov, cov, ess)


class InterruptingProgress:
    """A progress reporter whose bar raises KeyboardInterrupt at its ``after``-th advance,
    standing in for Ctrl-C in the middle of a fit."""

    def __init__(self, after: int):
        self.after, self.calls = after, 0

    def task(self, description, total):
        outer = self

        class _Task:
            def __enter__(self):
                def advance(n=1, **fields):
                    outer.calls += 1
                    if outer.calls == outer.after:
                        raise KeyboardInterrupt
                return advance

            def __exit__(self, *exc):
                return False

        return _Task()
