"""The executor's retry and failure bookkeeping, on an in-process Dask cluster (threads) with the
per-lens fit replaced by a stand-in that fails on one lens: that lens is attempted exactly
1 + retries times, then recorded with its error and traceback, and the others are not held up."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from lensframe.survey import executor, load_batch, run_batch


def flaky_fit(task):
    """Stand-in for ``runner.fit_lens``: logs the attempt; lens01 always raises, lens02 raises on
    its first attempt only."""
    lens_dir = Path(task.lens_dir)
    lens_dir.mkdir(parents=True, exist_ok=True)
    with open(lens_dir / "calls.txt", "a") as fh:
        fh.write(f"{task.attempt}\n")
    if task.name == "lens01" or (task.name == "lens02" and task.attempt == 1):
        raise RuntimeError(f"flaky failure of {task.name} on attempt {task.attempt}")
    return {"name": task.name, "status": "done", "lens.theta_E": 0.5, "attempts": task.attempt}


@pytest.fixture
def threaded_client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


@pytest.mark.parametrize("retries", [0, 2])
def test_a_failing_lens_is_retried_then_recorded_never_dropped(survey, tmp_path, monkeypatch,
                                                              threaded_client, retries):
    config, truths = survey(4)
    settings = load_batch(config, output_dir=tmp_path / "out", retries=retries)
    monkeypatch.setattr(executor, "fit_lens", flaky_fit)

    outcome = run_batch(settings, client=threaded_client, quiet=True)

    lenses = tmp_path / "out" / "lenses"
    calls = {n: (lenses / n / "calls.txt").read_text().split() for n in truths}
    assert calls["lens01"] == [str(a) for a in range(1, retries + 2)]
    assert calls["lens00"] == calls["lens03"] == ["1"]
    rows = {r["name"]: r for r in outcome.rows}
    assert rows["lens01"]["status"] == "failed" and rows["lens01"]["attempts"] == retries + 1
    assert rows["lens01"]["error_type"] == "RuntimeError"
    assert f"attempt {retries + 1}" in rows["lens01"]["error"]
    assert "flaky_fit" in (lenses / "lens01" / "traceback.txt").read_text()
    assert json.loads((lenses / "lens01" / "error.json").read_text())["attempts"] == retries + 1
    # a transient failure is cured by a retry when one is allowed
    assert rows["lens02"]["status"] == ("done" if retries else "failed")
    assert outcome.summary["failed"] == (1 if retries else 2)
    assert [r["name"] for r in outcome.rows] == sorted(truths)
