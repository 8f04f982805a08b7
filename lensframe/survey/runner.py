"""Fitting one lens of a batch, in whatever process runs the task (a Dask worker, usually).

The task is idempotent: a lens whose ``done.json`` marker exists is not fitted again, its stored row
is returned. A lens is fitted by one task at a time: the task that creates ``claim.json`` (an
exclusive create) fits it, keeping the claim's time stamp fresh; a second task for the same lens
(a resumed batch started while a cancelled task of the interrupted run still runs on a worker, as
Dask cannot stop a running function) waits for that fit and returns its row. A claim whose process
is gone (same host) or whose time stamp is older than ``CLAIM_STALE_SECONDS`` (a worker on another
host died) is taken over. Otherwise the lens's problem is made from this process's template problem for the
batch with ``with_data``, so every lens of the same cutout shape is served by the dispatcher's memo
(zero compiles after the first; the persistent cache serves the first one in later processes). Its
result, row, figures and finally the marker are written atomically into ``OUT/lenses/<name>/``.

Data that cannot be used (unreadable file, wrong shape) is a ``LensframeError``: deterministic, so
it is returned as a failed row at once instead of being retried. Any other exception propagates so
the executor can retry the task.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, LensframeError
from ..result import atomic_write

DONE = "done.json"
ROW = "row.json"
ATTEMPTS = "attempts.jsonl"
CLAIM = "claim.json"
#: how often a fitting task refreshes its claim's time stamp, and the age at which a claim from
#: another host counts as abandoned (on the claimant's own host a dead process is seen at once)
CLAIM_HEARTBEAT_SECONDS = 10.0
CLAIM_STALE_SECONDS = 120.0
#: how often a task waiting on another task's fit of the same lens looks again
CLAIM_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class LensTask:
    """Everything a worker needs to fit one lens; plain data, so it pickles."""

    name: str
    data: dict
    model: dict
    model_digest: str
    base_dir: str
    stages: tuple  # ((fitter, options), ...)
    seed: int
    lens_dir: str
    shape: tuple | None = None
    x64: bool = True
    figures: bool = True
    attempt: int = 1


_templates: dict[str, Any] = {}
_templates_lock = threading.Lock()


def fit_lens(task: LensTask) -> dict:
    """Fit one lens (or return its stored row when it is already done); returns its table row."""
    lens_dir = Path(task.lens_dir)
    if (lens_dir / DONE).exists():
        return read_row(lens_dir)
    lens_dir.mkdir(parents=True, exist_ok=True)
    while not _take_claim(lens_dir, task.attempt):
        # another live task is fitting this lens: its result is this task's result
        if _wait_for_claimant(lens_dir):
            log_event(lens_dir, "waited", task.attempt)
            return read_row(lens_dir)
    with _heartbeat(lens_dir):
        try:
            if is_done(lens_dir):  # the previous claimant finished between the check and the claim
                return read_row(lens_dir)
            return _fit_claimed(task, lens_dir)
        finally:
            (lens_dir / CLAIM).unlink(missing_ok=True)


def _fit_claimed(task: LensTask, lens_dir: Path) -> dict:
    # before anything is built: the precision of the whole batch, whatever this process did before
    import jax

    jax.config.update("jax_enable_x64", task.x64)
    log_event(lens_dir, "start", task.attempt)
    started = time.time()
    t0 = time.perf_counter()
    try:
        problem = _problem_for(task)
    except LensframeError as exc:
        row = failed_row(task.name, exc, task.attempt)
        write_failure(lens_dir, row, traceback.format_exc())
        log_event(lens_dir, "failed", task.attempt)
        return row
    row = _fit(problem, task)
    row["wall_seconds"] = time.perf_counter() - t0
    row["started"] = started
    row = finite_or_none(row)
    text = json.dumps(row, indent=2, allow_nan=False, default=str)
    atomic_write(lens_dir / ROW, lambda fh: fh.write(text.encode()))
    for stale in ("error.json", "traceback.txt"):  # from an earlier failed run
        (lens_dir / stale).unlink(missing_ok=True)
    # the marker goes last: its presence means everything above is complete
    marker = json.dumps({"name": task.name, "finished": time.time(), "worker": row["worker"]})
    atomic_write(lens_dir / DONE, lambda fh: fh.write(marker.encode()))
    log_event(lens_dir, "done", task.attempt)
    return row


def _take_claim(lens_dir: Path, attempt: int) -> bool:
    """Create ``claim.json`` exclusively; False when another task holds it."""
    text = json.dumps({"worker": worker_id(), "host": socket.gethostname(), "pid": os.getpid(),
                       "attempt": attempt, "time": time.time()})
    try:
        fd = os.open(lens_dir / CLAIM, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    return True


def _wait_for_claimant(lens_dir: Path) -> bool:
    """Wait while another task holds this lens's claim. True when that task finished the lens;
    False when the claim was released without a result or was abandoned (and has been removed),
    so the caller may claim the lens itself."""
    claim = lens_dir / CLAIM
    while True:
        if is_done(lens_dir):
            return True
        try:
            owner = json.loads(claim.read_text())
            age = time.time() - claim.stat().st_mtime
        except FileNotFoundError:
            return is_done(lens_dir)
        except json.JSONDecodeError:  # caught between the exclusive create and its write
            time.sleep(CLAIM_POLL_SECONDS)
            continue
        if not _claimant_alive(owner, age):
            _remove_abandoned_claim(claim, owner)
            return is_done(lens_dir)
        time.sleep(CLAIM_POLL_SECONDS)


def _remove_abandoned_claim(claim: Path, owner: dict) -> None:
    """Remove the claim found abandoned. The rename succeeds for one of several tasks that all
    found it so; should the file renamed be a newer claim (another task removed the abandoned one
    and claimed the lens in between), it is put back (``link`` fails if yet another claim exists)."""
    taken = claim.with_name(f"claim.abandoned-{os.getpid()}-{time.time_ns()}")
    try:
        os.rename(claim, taken)
    except FileNotFoundError:
        return
    try:
        newer = json.loads(taken.read_text()) != owner
    except json.JSONDecodeError:  # a newer claim caught before its write
        newer = True
    if newer:
        with contextlib.suppress(FileExistsError):
            os.link(taken, claim)
    taken.unlink()


def _claimant_alive(owner: dict, age: float) -> bool:
    if age > CLAIM_STALE_SECONDS:
        return False
    if owner.get("host") != socket.gethostname():
        return True  # only its time stamp can tell
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a live process of another user
        return True
    return True


@contextlib.contextmanager
def _heartbeat(lens_dir: Path):
    """Refresh the claim's time stamp while the fit runs, so a task on another host waiting for
    it does not take the lens over from a fit that is alive."""
    stop = threading.Event()

    def beat():
        while not stop.wait(CLAIM_HEARTBEAT_SECONDS):
            with contextlib.suppress(FileNotFoundError):
                os.utime(lens_dir / CLAIM)

    thread = threading.Thread(target=beat, daemon=True, name="lensframe-claim")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _problem_for(task: LensTask):
    """This lens's problem: the batch's template problem with this lens's data."""
    from .. import config as config_mod

    data = {**task.model["data"], **task.data}
    with _templates_lock:
        template = _templates.get(task.model_digest)
    if template is None:
        raw = {**task.model, "data": data}
        problem = config_mod.from_dict(raw, base_dir=task.base_dir).problem
        with _templates_lock:
            _templates.setdefault(task.model_digest, problem)
    else:
        problem = template.with_data(data, task.base_dir)
    image = problem.data.get("image")
    if task.shape is not None and image is not None and tuple(image.shape) != tuple(task.shape):
        raise DataError(f"lens '{task.name}': data.image has shape {tuple(image.shape)}, but "
                        f"batch.shape is {list(task.shape)}")
    return problem


def _fit(problem, task: LensTask) -> dict:
    from ..cli.fit import _products
    from ..dispatch import Fitter

    fitter = Fitter(problem, quiet=True)
    result = None
    compile_seconds, cache_hit, compiled = 0.0, True, 0
    for i, (name, options) in enumerate(task.stages):
        result = fitter.run(name, key=task.seed + i, init_from=result, **options)
        if result.diagnostics.get("interrupted"):
            # a fitter returns what it has on SIGINT; a half-finished fit must not be marked done
            raise InterruptedError(f"lens '{task.name}': {name} was interrupted "
                                   f"({result.diagnostics.get('interrupted_at', '')})")
        compile_seconds += result.provenance["compile_seconds"]
        compiled += result.provenance["programs_compiled"]
        cache_hit &= bool(result.provenance["cache_hit"])
    lens_dir = Path(task.lens_dir)
    result.save(lens_dir)
    products = _products(problem, result)
    chi2, dof = products.pop("_chi2", None), products.pop("_dof", None)
    figures = []
    if task.figures:
        import jax.numpy as jnp

        values = problem.values(jnp.asarray(result.best_theta), problem.args)
        figures = [str(p) for p in problem.likelihood.figures(values, problem.args["data"],
                                                              lens_dir, title=task.name)]
    row: dict[str, Any] = {"name": task.name, "status": "done"}
    row.update(result.best_fit)
    for pname, stats in result.summary().items():
        for stat in ("median", "p16", "p84"):
            row[f"{pname}_{stat}"] = stats.get(stat)
    row.update({
        "log_density": result.log_density, "chi2": chi2, "dof": dof,
        "chi2_dof": chi2 / dof if chi2 is not None and dof else None,
        "fitters": ">".join(name for name, _ in task.stages),
        "diagnostics": _compact(result.diagnostics),
        "compile_seconds": compile_seconds, "programs_compiled": compiled, "cache_hit": cache_hit,
        "worker": worker_id(), "worker_peak_rss_mb": _peak_rss_mb(),
        "attempts": task.attempt, "figures": ";".join(figures),
        "error_type": None, "error": None,
    })
    return row


def failed_row(name: str, exc: BaseException | None, attempts: int,
               error_type: str | None = None, message: str | None = None) -> dict:
    return {"name": name, "status": "failed", "attempts": attempts,
            "error_type": error_type or type(exc).__name__,
            "error": message if message is not None else str(exc), "worker": worker_id()}


def write_failure(lens_dir: Path, row: dict, tb: str) -> None:
    """``error.json`` (type, message, attempts) and ``traceback.txt`` of a lens that failed."""
    lens_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(lens_dir / "traceback.txt", lambda fh: fh.write(tb.encode()))
    text = json.dumps({k: row.get(k) for k in ("name", "error_type", "error", "attempts",
                                                "worker")}, indent=2)
    atomic_write(lens_dir / "error.json", lambda fh: fh.write(text.encode()))


def read_row(lens_dir: Path) -> dict:
    return json.loads((Path(lens_dir) / ROW).read_text())


def is_done(lens_dir: Path) -> bool:
    return (Path(lens_dir) / DONE).exists() and (Path(lens_dir) / ROW).exists()


def log_event(lens_dir: Path, event: str, attempt: int) -> None:
    """One line per start and finish of a lens: the audit trail that shows no lens was fitted
    twice. A single small ``O_APPEND`` write, so concurrent writers cannot interleave lines."""
    line = json.dumps({"event": event, "attempt": attempt, "worker": worker_id(),
                       "time": time.time()}) + "\n"
    fd = os.open(Path(lens_dir) / ATTEMPTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_events(lens_dir: Path) -> list[dict]:
    path = Path(lens_dir) / ATTEMPTS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _peak_rss_mb() -> float | None:
    """Peak resident memory of this (worker) process so far, MB: what a worker needs."""
    try:
        import resource
    except ImportError:  # not on every platform
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return kb / 1024


def finite_or_none(row: dict) -> dict:
    """NaN and ±inf become None (an empty cell), so rows are valid JSON."""
    import math

    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()}


def _compact(diagnostics: dict, limit: int = 2000) -> str:
    text = json.dumps(diagnostics, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"
