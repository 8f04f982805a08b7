"""nautilus on the Gaussian toy: moments, the analytic evidence within its error, reproducible."""

import numpy as np

from gaussian_toy import assert_moments, expected
from lensframe import Fitter

FAST = {"n_live": 200, "n_eff": 1000, "n_networks": 1}


def test_posterior_and_evidence_match_the_gaussian(toy):
    result = Fitter(toy(), quiet=True).run("nautilus", key=1, **FAST)
    _, _, log_z = expected()
    d = result.diagnostics
    np.testing.assert_allclose(result.weights.sum(), 1.0)
    # Kish's effective sample size of the weights
    assert d["n_eff"] >= 1000
    assert_moments(result.samples, result.weights, d["n_eff"])
    assert 0 < result.log_evidence_error < 0.1
    assert abs(result.log_evidence - log_z) < 3 * result.log_evidence_error, (
        result.log_evidence, log_z, result.log_evidence_error)
    assert d["n_likelihood_calls"] == d["n_points"] and d["n_nonfinite"] == 0
    # time inside the compiled likelihood: part of the run, the rest is the sampler's own work
    assert 0 < d["likelihood_seconds"] <= result.provenance["total_seconds"]


def test_same_key_same_result(toy):
    problem = toy(dim=2)
    run = lambda key: Fitter(problem, quiet=True).run("nautilus", key=key, n_live=100,
                                                      n_networks=1, n_like_max=400)
    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.log_evidence == b.log_evidence
    assert not np.array_equal(a.samples, c.samples)


def test_nan_region_has_no_weight_and_is_counted(toy):
    result = Fitter(toy(dim=2, nan_below=0.5), quiet=True).run(
        "nautilus", key=0, n_live=100, n_networks=1, n_like_max=600)
    kept = result.weights > 0
    assert result.samples[kept, 0].min() >= 0.5
    assert result.diagnostics["n_nonfinite"] > 0


def test_posterior_points_are_evaluated_in_bounded_blocks():
    """Points are mapped in fixed-size blocks (one program, bounded memory) and come back in
    order, whatever their number."""
    import jax.numpy as jnp
    from lensframe_sample._host import in_blocks

    calls = []

    def compiled(block, args):
        calls.append(block.shape)
        return block * args, jnp.sum(block, axis=1)

    points = np.arange(2 * 2500, dtype=float).reshape(2500, 2)
    scaled, sums = in_blocks(compiled, points, 3.0, pad_value=np.zeros(2), block=1024)
    assert calls == [(1024, 2)] * 3
    np.testing.assert_array_equal(scaled, points * 3.0)
    np.testing.assert_array_equal(sums, points.sum(axis=1))
