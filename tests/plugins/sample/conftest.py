"""Fixtures of the sampler tests: the Gaussian toy problem registered as a real plugin."""

import pytest

import gaussian_toy


@pytest.fixture
def toy(register_plugin):
    """``toy(dim=3, nan_below=None)`` builds the toy Problem (see gaussian_toy)."""
    register_plugin(gaussian_toy.plugin_module(), "gaussian-toy")
    return gaussian_toy.build
