"""Critical curves and caustics: det J vanishes on the critical curves, and the number of separate
curves is 3 / 1 / 2 for close / resonant / wide binaries (Schneider & Weiss 1986; Erdl & Schneider
1993)."""

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lensframe_micro.caustics import caustics, closed_curve_count  # noqa: E402
from lensframe_micro.lenses import binary_lenses, triple_lenses  # noqa: E402
from lensframe_micro.point import jacobian_determinant  # noqa: E402


@pytest.mark.parametrize("s, curves", [(0.5, 3), (1.0, 1), (2.0, 2)])
def test_binary_topologies(s, curves):
    z, m = binary_lenses(s, 0.5)
    critical, caustic = caustics(z, m, 256)
    assert closed_curve_count(critical) == curves
    assert np.abs(np.asarray(jacobian_determinant(critical, z, m))).max() < 1e-10
    # the caustic is the image of the critical curve under the lens equation
    crit = np.asarray(critical)
    mapped = crit - np.sum(np.asarray(m) / np.conj(crit[..., None] - np.asarray(z)), axis=-1)
    np.testing.assert_allclose(np.asarray(caustic), mapped, atol=1e-12)
    # consecutive points of a column are close: the columns are connected curves
    assert np.abs(np.diff(crit, axis=0)).max() < 0.1


def test_triple_critical_curves_have_vanishing_determinant():
    z, m = triple_lenses(1.0, 0.3, 0.8, 0.01, 1.0)
    critical, caustic = caustics(z, m, 256)
    assert critical.shape == (257, 6)
    assert np.abs(np.asarray(jacobian_determinant(critical, z, m))).max() < 1e-9
    assert np.all(np.isfinite(np.asarray(caustic)))
