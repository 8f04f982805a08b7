"""Test-wide settings: double precision, as the accuracy targets need it."""

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np
import pytest


def tiny_imaging_spec(seed: int = 0, n: int = 20, noise: float = 0.05):
    """A small SIS + Sérsic-source imaging problem: (components, data, truth) for
    ``Problem.build``. The data are simulated with the model itself at ``truth`` plus Gaussian
    noise from ``seed``: a fast problem for testing machinery, not physics."""
    from lensframe.problem import Problem

    truth = {"lens.theta_E": 0.6, "source.amp": 20.0, "source.R_sersic": 0.15,
             "source.center_x": 0.05, "source.center_y": -0.03}
    priors = {
        "lens.theta_E": {"prior": "uniform", "low": 0.3, "high": 1.0},
        "source.amp": "linear",
        "source.R_sersic": {"prior": "loguniform", "low": 0.05, "high": 0.5},
        "source.center_x": {"prior": "uniform", "low": -0.3, "high": 0.3},
        "source.center_y": {"prior": "uniform", "low": -0.3, "high": 0.3},
    }

    def components(params):
        split = {"lens": {}, "source": {"n_sersic": 1.0}}
        for key, value in params.items():
            c, p = key.split(".")
            split[c][p] = value
        return {"lens": {"profile": "SIS", "params": split["lens"]},
                "source": {"profile": "SERSIC_ELLIPSE", "plane": "source",
                           "params": split["source"]}}

    blank = {"image": np.zeros((n, n)), "noise": np.full((n, n), noise), "pixel_scale": 0.1}
    exact = Problem.build(components(truth), blank, likelihood_options={"supersampling": 1})
    values = exact.values(np.zeros(0), exact.args)
    clean = np.asarray(exact.likelihood.products(values, exact.args["data"])["model"])
    image = clean + np.random.default_rng(seed).normal(scale=noise, size=clean.shape)
    data = {"image": image, "noise": np.full((n, n), noise), "pixel_scale": 0.1}
    return components(priors), data, truth


@pytest.fixture(scope="session")
def tiny_spec():
    return tiny_imaging_spec


@pytest.fixture
def tiny_problem():
    from lensframe.problem import Problem

    components, data, truth = tiny_imaging_spec()
    return Problem.build(components, data, likelihood_options={"supersampling": 1}), truth
