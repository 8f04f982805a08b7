"""FitResult: atomic save and faithful reload."""

import json

import numpy as np
import pytest

from lensframe.result import FitResult, atomic_write


def _result(samples=True):
    rng = np.random.default_rng(1)
    s = rng.normal(size=(500, 2)) if samples else None
    return FitResult(fitter="x", free_names=["a.b", "c.d"], best_theta=np.array([0.5, -1.0]),
                     best_fit={"a.b": 0.5, "c.d": -1.0, "c.e": 2.0}, log_density=-12.5,
                     samples=s, weights=None if s is None else np.full(len(s), 2.0),
                     diagnostics={"converged": True, "steps": np.array([3, 4])},
                     provenance={"cache_hit": False, "compile_seconds": 1.5})


def test_save_and_load_roundtrip(tmp_path):
    original = _result()
    original.save(tmp_path)
    loaded = FitResult.load(tmp_path)
    assert loaded.best_fit == original.best_fit
    np.testing.assert_array_equal(loaded.best_theta, original.best_theta)
    np.testing.assert_array_equal(loaded.samples, original.samples)
    assert loaded.provenance == original.provenance
    assert loaded.diagnostics["steps"] == [3, 4]
    summary = json.loads((tmp_path / "summary.json").read_text())
    med = summary["summary"]["a.b"]["median"]
    assert abs(med - np.median(original.samples[:, 0])) < 0.02
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


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
