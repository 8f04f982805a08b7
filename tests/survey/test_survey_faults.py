"""Fault tolerance of ``lensframe batch`` on a real ``LocalCluster`` (worker processes, loopback):
bad cutouts are reported and do not stop the batch, a worker killed mid-fit loses no lens and fits
none twice, and an interrupted batch resumes without refitting or losing a lens.

The tests share one two-worker cluster and one fitter setting, so the compiled program is made once
per worker (from JAX's persistent cache when a previous run left it) and then served from each
worker's memo. The per-lens attempt log (``attempts.jsonl``, one line per start and finish) is the
ground truth for "fitted exactly once"."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lensframe.survey import executor, load_batch, run_batch
from lensframe.survey.runner import read_events

FIT = {"n_starts": 3, "max_steps": 60}


@pytest.fixture(scope="module")
def client():
    import dask
    from distributed import Client, LocalCluster

    # as the executor's own cluster: the first worker death hands the task back to the client
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def done_events(lens_dir: Path) -> list[dict]:
    return [e for e in read_events(lens_dir) if e["event"] == "done"]


def test_bad_cutouts_are_reported_and_the_rest_is_fitted(survey, tmp_path, client,
                                                        fits_writer, monkeypatch):
    config, truths = survey(5, **FIT)
    lenses = tmp_path / "lenses"
    (lenses / "lens01" / "noise.fits").write_bytes(b"SIMPLE  = this is not a FITS file")
    fits_writer(lenses / "lens03" / "image.fits", np.zeros((21, 20)))
    fits_writer(lenses / "lens03" / "noise.fits", np.ones((21, 20)))
    settings = load_batch(config, output_dir=tmp_path / "out")
    monkeypatch.setattr(executor, "IN_FLIGHT", 2)  # lenses are handed out as others finish

    outcome = run_batch(settings, client=client, quiet=True)

    rows = {r["name"]: r for r in outcome.rows}
    assert {n: r["status"] for n, r in rows.items()} == {
        "lens00": "done", "lens01": "failed", "lens02": "done", "lens03": "failed",
        "lens04": "done"}
    assert rows["lens01"]["error_type"] == "DataError" and "data.noise" in rows["lens01"]["error"]
    assert "noise.fits" in rows["lens01"]["error"]
    assert rows["lens03"]["error_type"] == "DataError"
    assert "(21, 20)" in rows["lens03"]["error"] and "batch.shape" in rows["lens03"]["error"]
    for name in ("lens01", "lens03"):  # deterministic data errors are not retried
        assert rows[name]["attempts"] == 1
        error = json.loads((tmp_path / "out/lenses" / name / "error.json").read_text())
        assert error["error_type"] == "DataError"
        assert "DataError" in (tmp_path / "out/lenses" / name / "traceback.txt").read_text()
    for name in ("lens00", "lens02", "lens04"):
        row = rows[name]
        # each fit recovers the Einstein radius its image was simulated with
        assert row["lens.theta_E"] == pytest.approx(truths[name], abs=0.02)
        assert 0.5 < row["chi2_dof"] < 1.5
        assert row["dof"] == 400 - 5 and row["fitters"] == "lbfgs"
        summary = json.loads((tmp_path / "out/lenses" / name / "summary.json").read_text())
        assert summary["best_fit"]["lens.theta_E"] == row["lens.theta_E"]
        assert len(done_events(tmp_path / "out/lenses" / name)) == 1

    # the table, as CSV and FITS, has one row per lens of the catalogue, failures included
    with open(outcome.files["csv"], newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["name"] for r in table] == sorted(truths)
    assert [r["status"] for r in table] == [rows[n]["status"] for n in sorted(truths)]
    assert float(table[0]["lens.theta_E"]) == rows["lens00"]["lens.theta_E"]
    assert table[1]["lens.theta_E"] == "" and table[1]["error_type"] == "DataError"
    from astropy.table import Table

    fits_table = Table.read(outcome.files["fits"])
    assert list(fits_table["name"]) == sorted(truths)
    assert fits_table["lens.theta_E"][2] == rows["lens02"]["lens.theta_E"]
    assert np.isnan(np.ma.filled(fits_table["lens.theta_E"], np.nan)[3])  # empty cell
    run = json.loads(outcome.files["summary"].read_text())
    assert (run["lenses"], run["done"], run["failed"], run["pending"]) == (5, 3, 2, 0)
    # lenses after the first on a worker reuse its compiled program
    assert run["other_lens_compile_seconds_median"] in (None, 0.0)


def test_interrupted_batch_resumes_without_refitting_or_losing_a_lens(survey, tmp_path, client):
    config, truths = survey(10, **FIT)
    settings = load_batch(config, output_dir=tmp_path / "out")
    lenses_dir = tmp_path / "out" / "lenses"

    def interrupt_after_first_lens():
        while not any((lenses_dir / n / "done.json").exists() for n in truths):
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends

    watcher = threading.Thread(target=interrupt_after_first_lens, daemon=True)
    watcher.start()
    previous_handler = signal.getsignal(signal.SIGINT)
    first = run_batch(settings, client=client, quiet=True)
    watcher.join(timeout=5)
    assert signal.getsignal(signal.SIGINT) is previous_handler  # the batch's handler is removed
    assert first.interrupted
    assert first.summary["pending"] > 0, "the interrupt came after every lens had finished"
    # resumed at once: tasks that were running when the run was cancelled go on (Dask cannot stop
    # a running function), and the second run must wait for those fits rather than repeat them
    done_before = {n for n in truths if (lenses_dir / n / "done.json").exists()}

    second = run_batch(settings, client=client, quiet=True)

    assert not second.interrupted
    assert second.summary["done"] == 10
    assert second.summary["skipped_already_done"] >= len(done_before)
    for name in truths:
        assert len(done_events(lenses_dir / name)) == 1, name
    with open(second.files["csv"], newline="") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["done"] * 10


def test_worker_killed_mid_fit_every_lens_finishes_exactly_once(survey, tmp_path, client):
    config, truths = survey(6, **FIT)
    settings = load_batch(config, output_dir=tmp_path / "out")
    lenses_dir = tmp_path / "out" / "lenses"
    kills: list[tuple[str, int]] = []

    def kill_a_worker_fitting_a_lens():
        """SIGKILL the worker process of the first lens seen started and not yet done; should the
        lens finish before the signal lands, try the next one (at most three kills)."""
        seen = set()
        while len(kills) < 3 and time.time() < deadline:
            for name in truths:
                events = read_events(lenses_dir / name) if (lenses_dir / name).exists() else []
                starts = [e for e in events if e["event"] == "start"]
                if name in seen or not starts or (lenses_dir / name / "done.json").exists():
                    continue
                seen.add(name)
                pid = int(starts[-1]["worker"].rsplit(":", 1)[1])
                os.kill(pid, signal.SIGKILL)
                kills.append((name, pid))
                time.sleep(0.5)
                if landed():
                    return
            time.sleep(0.002)

    def landed():
        """A kill that interrupted a fit: its lens has no finish by the killed process."""
        return any(not any(e["worker"].endswith(f":{pid}") for e in done_events(lenses_dir / n))
                   for n, pid in kills)

    deadline = time.time() + 60
    killer = threading.Thread(target=kill_a_worker_fitting_a_lens, daemon=True)
    killer.start()
    outcome = run_batch(settings, client=client, quiet=True)
    killer.join(timeout=5)

    assert kills and landed(), "no kill landed while a lens was being fitted"
    rows = {r["name"]: r for r in outcome.rows}
    assert all(r["status"] == "done" for r in rows.values()), rows
    for name in truths:
        assert len(done_events(lenses_dir / name)) == 1, name
        assert rows[name]["lens.theta_E"] == pytest.approx(truths[name], abs=0.02)
    killed = [n for n, pid in kills
              if not any(e["worker"].endswith(f":{pid}") for e in done_events(lenses_dir / n))]
    for name in killed:
        starts = [e for e in read_events(lenses_dir / name) if e["event"] == "start"]
        assert len(starts) >= 2 and rows[name]["attempts"] >= 2
