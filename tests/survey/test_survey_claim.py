"""One task at a time per lens: ``claim.json`` in ``runner.fit_lens``.

The fit itself is replaced by a stub that records who ran it, so these tests are about the claim
alone: a second task for a lens being fitted waits for that fit and returns its row, an abandoned
claim (dead process, or a stale time stamp from another host) is taken over, and the claim is gone
once the fit ends, however it ends. The Dask-level case (a resumed batch while a cancelled task of
the interrupted run still runs) is ``test_survey_faults``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from lensframe.survey import runner
from lensframe.survey.runner import CLAIM, LensTask, fit_lens, read_events


@pytest.fixture
def fits(monkeypatch):
    """Replace the problem and the fit with stubs; the list records the tasks that fitted."""
    ran: list[str] = []
    gate = threading.Event()
    gate.set()

    def fake_fit(problem, task):
        ran.append(f"{task.name}/{task.attempt}")
        assert gate.wait(10)
        if problem == "raise":
            raise RuntimeError("fit broke")
        return {"name": task.name, "status": "done", "worker": runner.worker_id(),
                "attempt_that_fitted": task.attempt}

    monkeypatch.setattr(runner, "_problem_for", lambda task: task.data.get("problem", "ok"))
    monkeypatch.setattr(runner, "_fit", fake_fit)
    monkeypatch.setattr(runner, "CLAIM_POLL_SECONDS", 0.01)
    return ran, gate


def make_task(tmp_path, attempt=1, **data):
    return LensTask(name="lens00", data=data, model={}, model_digest="d", base_dir=str(tmp_path),
                    stages=(), seed=0, lens_dir=str(tmp_path / "lens00"), attempt=attempt)


def write_claim(lens_dir, *, pid, host=None, age=0.0):
    lens_dir.mkdir(parents=True, exist_ok=True)
    path = lens_dir / CLAIM
    path.write_text(json.dumps({"worker": "elsewhere", "host": host or socket.gethostname(),
                                "pid": pid, "attempt": 1, "time": time.time()}))
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_task_waits_for_the_fit_in_progress_and_returns_its_row(tmp_path, fits):
    ran, gate = fits
    gate.clear()  # the first task stays inside its fit until released
    first = threading.Thread(target=fit_lens, args=(make_task(tmp_path, attempt=1),))
    first.start()
    while not ran:
        time.sleep(0.005)
    assert (tmp_path / "lens00" / CLAIM).exists()

    result: dict = {}
    second = threading.Thread(target=lambda: result.update(fit_lens(make_task(tmp_path, 2))))
    second.start()
    time.sleep(0.2)
    assert second.is_alive() and not result  # waiting, not fitting
    gate.set()
    first.join(10)
    second.join(10)

    assert ran == ["lens00/1"]
    assert result["attempt_that_fitted"] == 1
    events = [(e["event"], e["attempt"]) for e in read_events(tmp_path / "lens00")]
    assert events == [("start", 1), ("done", 1), ("waited", 2)]
    assert not (tmp_path / "lens00" / CLAIM).exists()


def test_the_claim_is_released_when_the_fit_raises(tmp_path, fits):
    ran, _ = fits
    with pytest.raises(RuntimeError, match="fit broke"):
        fit_lens(make_task(tmp_path, problem="raise"))
    assert not (tmp_path / "lens00" / CLAIM).exists()
    row = fit_lens(make_task(tmp_path, attempt=2))  # the retry is not kept waiting
    assert row["attempt_that_fitted"] == 2 and ran == ["lens00/1", "lens00/2"]


def test_a_claim_of_a_dead_process_is_taken_over(tmp_path, fits):
    ran, _ = fits
    write_claim(tmp_path / "lens00", pid=dead_pid())
    row = fit_lens(make_task(tmp_path, attempt=2))
    assert row["attempt_that_fitted"] == 2 and ran == ["lens00/2"]
    assert sorted(p.name for p in (tmp_path / "lens00").iterdir()) == [
        "attempts.jsonl", "done.json", "row.json"]  # no claim, nor a renamed one, left behind


def test_a_claim_from_another_host_counts_while_its_time_stamp_is_fresh(tmp_path, fits,
                                                                        monkeypatch):
    ran, _ = fits
    monkeypatch.setattr(runner, "CLAIM_STALE_SECONDS", 0.5)
    # a pid that is dead here must not matter: the claimant lives on another machine
    claim = write_claim(tmp_path / "lens00", pid=dead_pid(), host="another-node")
    started = time.time()
    row = fit_lens(make_task(tmp_path, attempt=2))
    assert time.time() - started >= 0.45  # waited until the time stamp went stale
    assert row["attempt_that_fitted"] == 2 and ran == ["lens00/2"]
    assert not claim.exists()


def test_a_live_claim_released_without_a_result_is_fitted_by_the_waiter(tmp_path, fits):
    ran, _ = fits
    claim = write_claim(tmp_path / "lens00", pid=os.getpid())
    threading.Timer(0.2, claim.unlink).start()  # its owner gave up without finishing
    row = fit_lens(make_task(tmp_path, attempt=2))
    assert row["attempt_that_fitted"] == 2 and ran == ["lens00/2"]


def test_the_heartbeat_keeps_a_long_fit_claimed(tmp_path, fits, monkeypatch):
    ran, gate = fits
    monkeypatch.setattr(runner, "CLAIM_HEARTBEAT_SECONDS", 0.05)
    gate.clear()
    first = threading.Thread(target=fit_lens, args=(make_task(tmp_path),))
    first.start()
    while not ran:
        time.sleep(0.005)
    claim = tmp_path / "lens00" / CLAIM
    os.utime(claim, (0, 0))
    time.sleep(0.3)
    assert time.time() - claim.stat().st_mtime < 0.2
    gate.set()
    first.join(10)


def test_removing_an_abandoned_claim_puts_back_a_newer_one(tmp_path):
    lens_dir = tmp_path / "lens00"
    abandoned = {"worker": "gone", "host": "h", "pid": 1, "attempt": 1, "time": 0.0}
    newer = write_claim(lens_dir, pid=os.getpid())
    text = newer.read_text()
    runner._remove_abandoned_claim(newer, abandoned)  # another task claimed it in between
    assert newer.read_text() == text
    runner._remove_abandoned_claim(newer, json.loads(text))
    assert list(lens_dir.iterdir()) == []
