"""One conformance suite over every registered mass and light profile.

The profiles are read from the registry when the tests are collected, so a profile added by any
installed plugin is checked without touching this file. Each runs lensframe.testing's checks
(shapes, dtypes, jit = eager, vmap, finite gradients) at parameters built from its own ParamSpecs:
at the defaults, and at values moved off them (so that, e.g., an ellipticity default of 0 is also
checked away from 0).
"""

import math

import jax

jax.config.update("jax_enable_x64", True)

import lensframe  # noqa: E402
import pytest  # noqa: E402
from lensframe.registry import get_registry  # noqa: E402
from lensframe.testing import check_light_profile, check_mass_profile  # noqa: E402

MASS = [spec.name for spec in get_registry().components("mass")]
LIGHT = [spec.name for spec in get_registry().components("light")]


def spec_of(name):
    return get_registry().get(name, "profile")


def inside(spec, *candidates):
    """The first candidate value within the parameter's allowed range [lower, upper]."""
    for value in candidates:
        if spec.lower <= value <= spec.upper:
            return float(value)
    lo, hi = spec.lower, spec.upper
    if math.isfinite(lo) and math.isfinite(hi):
        return 0.5 * (lo + hi)
    return float(lo + 1.0 if math.isfinite(lo) else hi - 1.0)


def parameters(specs, moved: bool) -> dict:
    """amp = 1; otherwise the default or, without one, 1.0 (or 0.3) inside the range. With
    ``moved``, every value is shifted by 0.1 inside the range (amplitudes stay 1)."""
    values = {}
    for p in specs:
        if p.name == "amp":
            values[p.name] = 1.0
            continue
        base = p.default if p.default is not None else inside(p, 1.0, 0.3)
        values[p.name] = inside(p, base + 0.1, base - 0.1) if moved else float(base)
    return values


def test_registry_lists_the_standard_profiles():
    # guards against this suite silently running over nothing
    assert {"SIS", "SIE", "SHEAR"} <= set(MASS)
    assert "SERSIC_ELLIPSE" in LIGHT


@pytest.mark.parametrize("name", MASS + LIGHT)
def test_registered_params_match_the_class(name):
    spec = spec_of(name)
    profile = lensframe.get_profile(name)
    assert profile.kind == spec.kind
    assert tuple(p.name for p in spec.params) == profile.param_names


@pytest.mark.parametrize("moved", [False, True], ids=["defaults", "moved"])
@pytest.mark.parametrize("name", MASS)
def test_mass_profile_conformance(name, moved):
    check_mass_profile(lensframe.get_profile(name), parameters(spec_of(name).params, moved))


@pytest.mark.parametrize("moved", [False, True], ids=["defaults", "moved"])
@pytest.mark.parametrize("name", LIGHT)
def test_light_profile_conformance(name, moved):
    check_light_profile(lensframe.get_profile(name), parameters(spec_of(name).params, moved))
