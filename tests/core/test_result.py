"""FitResult: atomic save, faithful reload from FITS, summaries and point estimates."""

import json

import numpy as np
import pytest
from astropy.io import fits

from lensframe.errors import DataError
from lensframe.result import FitResult, add_point_estimates, atomic_write


def _result(samples=True, chains=False):
    rng = np.random.default_rng(1)
    s = rng.normal(size=(500, 2)) if samples else None
    c = rng.normal(size=(4, 50, 2)) if chains else None
    return FitResult(fitter="x", free_names=["a.b", "c.d"], best_theta=np.array([0.5, -1.0]),
                     best_fit={"a.b": 0.5, "c.d": -1.0, "c.e": 2.0}, log_density=-12.5,
                     samples=s, weights=None if s is None else rng.uniform(0.5, 2, size=len(s)),
                     log_evidence=-20.25 if samples else None,
                     log_evidence_error=0.125 if samples else None,
                     diagnostics={"converged": True, "steps": np.array([3, 4]),
                                  "rhat": [1.001, 1.02], "interrupted": False},
                     provenance={"cache_hit": False, "compile_seconds": 1.5}, chains=c,
                     max_likelihood_theta=np.array([0.25, -0.75]), max_log_likelihood=-3.0)


def test_save_and_load_roundtrip_restores_everything(tmp_path):
    original = _result(chains=True)
    original.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.fits", "summary.json"]
    loaded = FitResult.load(tmp_path)
    assert loaded.fitter == "x" and loaded.free_names == original.free_names
    assert loaded.best_fit == original.best_fit
    np.testing.assert_array_equal(loaded.best_theta, original.best_theta)
    np.testing.assert_array_equal(loaded.samples, original.samples)
    np.testing.assert_array_equal(loaded.weights, original.weights)
    np.testing.assert_array_equal(loaded.chains, original.chains)
    np.testing.assert_array_equal(loaded.max_likelihood_theta, original.max_likelihood_theta)
    assert loaded.log_evidence == original.log_evidence
    assert loaded.log_evidence_error == original.log_evidence_error
    assert loaded.log_density == original.log_density
    assert loaded.provenance == original.provenance
    assert loaded.diagnostics["steps"] == [3, 4] and loaded.diagnostics["rhat"] == [1.001, 1.02]
    assert loaded.summary() == original.summary()


def test_fits_file_is_readable_by_astropy_alone(tmp_path):
    original = _result(chains=True)
    original.save(tmp_path)
    with fits.open(tmp_path / "result.fits") as hdul:
        assert hdul[0].header["FITTER"] == "x"
        assert hdul[0].header["LOGZ"] == pytest.approx(-20.25)
        table = hdul["SAMPLES"].data
        np.testing.assert_array_equal(table["a.b"], original.samples[:, 0])
        np.testing.assert_array_equal(table["weight"], original.weights)
        best = hdul["BEST_FIT"].data
        assert list(best["parameter"]) == ["a.b", "c.d", "c.e"]
        assert list(best["free"]) == [True, True, False]
        assert hdul["CHAINS"].data.shape == (4, 50, 2)


def test_summary_quantiles_are_weighted(tmp_path):
    original = _result()
    original.save(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    x, w = original.samples[:, 0], original.weights
    row = summary["summary"]["a.b"]
    # reference: quantiles of the sample resampled in proportion to its weights
    rng = np.random.default_rng(0)
    resampled = rng.choice(x, size=200_000, p=w / w.sum())
    assert row["median"] == pytest.approx(np.median(resampled), abs=0.02)
    assert row["p16"] == pytest.approx(np.quantile(resampled, 0.16), abs=0.02)
    assert row["p84"] == pytest.approx(np.quantile(resampled, 0.84), abs=0.02)
    assert row["mean"] == pytest.approx(np.average(x, weights=w))
    assert row["best"] == 0.5 and row["max_likelihood"] == 0.25
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_optimiser_result_without_samples_roundtrips(tmp_path):
    original = _result(samples=False)
    original.save(tmp_path)
    loaded = FitResult.load(tmp_path / "result.fits")
    assert loaded.samples is None and loaded.chains is None and loaded.log_evidence is None
    assert "median" not in loaded.summary()["a.b"]


def test_legacy_folder_with_samples_npz_still_loads(tmp_path):
    original = _result()
    meta = original.to_json()
    (tmp_path / "summary.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "samples.npz", samples=original.samples, weights=original.weights)
    loaded = FitResult.load(tmp_path)
    np.testing.assert_array_equal(loaded.samples, original.samples)
    assert loaded.best_fit == original.best_fit


def test_load_of_a_folder_without_a_result_names_it(tmp_path):
    with pytest.raises(DataError, match="not a saved FitResult"):
        FitResult.load(tmp_path)
    (tmp_path / "result.fits").write_bytes(b"garbage")
    with pytest.raises(DataError, match="result.fits"):
        FitResult.load(tmp_path)


def test_point_estimates_match_direct_evaluation(tiny_spec):
    """ln L / ln π at the MAP and the best-likelihood sample, against ln L evaluated point by
    point with the problem's own functions, unbatched."""
    from lensframe.problem import Problem

    components, data, truth = tiny_spec(seed=3, n=12)
    problem = Problem.build(components, data, likelihood_options={"supersampling": 1})
    names = list(problem.free_names)
    theta_truth = np.array([truth[n] for n in names])
    rng = np.random.default_rng(0)
    samples = theta_truth + rng.normal(scale=0.01, size=(16, len(names)))
    result = FitResult(fitter="t", free_names=names, best_theta=samples[5],
                       best_fit=problem.named(samples[5]), log_density=0.0, samples=samples,
                       weights=np.ones(len(samples)))
    add_point_estimates(result, problem)
    import jax
    single = jax.jit(problem.log_likelihood)   # one point at a time, not the vmapped batch
    ll = np.array([float(single(s, problem.args)) for s in samples])
    assert result.log_likelihood == pytest.approx(ll[5], rel=1e-9)
    assert result.log_prior == pytest.approx(float(problem.log_prior(samples[5], problem.args)))
    np.testing.assert_array_equal(result.max_likelihood_theta, samples[np.argmax(ll)])
    assert result.max_log_likelihood == pytest.approx(ll.max(), rel=1e-9)


def test_failed_write_keeps_previous_file(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("previous")

    def explode(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
