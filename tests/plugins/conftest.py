"""Fixtures shared by the fitter tests: the Gaussian toy problem (tests/plugins/sample/
gaussian_toy.py), registered as a real plugin."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "sample"))
import gaussian_toy  # noqa: E402


@pytest.fixture
def toy(register_plugin):
    """``toy(dim=3, nan_below=None)`` builds the toy Problem (see gaussian_toy)."""
    register_plugin(gaussian_toy.plugin_module(), "gaussian-toy")
    return gaussian_toy.build
