"""Fixtures of the proof tests: lenstronomy mocks, made once per session and seed."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lenstronomy_mocks import simulate  # noqa: E402

# 64 × 64 at 0.08″ with a 9 × 9 PSF and supersampling 2: the shape and model of
# examples/sie_mock.toml, so in one pytest session the fit programs compiled for the example
# serve the proof fits too
N_PIX = 64

_mocks: dict = {}


@pytest.fixture(scope="session")
def lenstronomy_mock():
    """``lenstronomy_mock(seed)``: the mock of that seed (simulated on first use)."""
    def get(seed: int):
        if seed not in _mocks:
            _mocks[seed] = simulate(seed, N_PIX)
        return _mocks[seed]
    return get
