"""Running a batch on Dask: one task per lens, retries, resume, progress, and the final table.

A ``LocalCluster`` of single-threaded worker processes by default (JAX runs its own threads), or an
existing scheduler. Retries are driven here, in the client, rather than by Dask's ``retries``: a
task that raises and a task whose worker process died (``KilledWorker``; the local scheduler is
told to give up on the first death, ``allowed-failures = 0``) are both resubmitted as attempt
n + 1, up to ``retries`` extra attempts, so the count in the table is exact. A lens that keeps
failing gets a failed row with its error and traceback. A resubmitted lens whose first attempt did
finish (its worker died just after writing the marker) is not fitted again: the task is idempotent.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .runner import LensTask, failed_row, fit_lens, is_done, read_row, write_failure
from .settings import BatchSettings
from .table import pending_row, run_summary, write_summary, write_table


#: tasks handed to Dask at a time: enough to keep hundreds of workers busy, while the scheduler
#: holds a bounded number of task specifications (each carries the model) for a 10^5-lens survey
IN_FLIGHT = 1000


@dataclass
class BatchOutcome:
    rows: list[dict]
    summary: dict
    interrupted: bool = False
    files: dict[str, Path] = field(default_factory=dict)


def run_batch(settings: BatchSettings, *, client=None, quiet: bool = False,
              console=None) -> BatchOutcome:
    """Fit every lens of ``settings`` not already done; write the table and run summary.

    Args:
        settings: from :func:`lensframe.survey.load_batch`.
        client: an existing ``distributed.Client`` to use (not closed here); by default one is
            made for ``settings.scheduler`` or for a new ``LocalCluster``.
        quiet: no progress display.
    On Ctrl-C (SIGINT; or a ``KeyboardInterrupt`` raised in the loop) the outstanding tasks are
    cancelled, the table of what finished is written, and the outcome has ``interrupted = True``.
    """
    lenses_dir = settings.output_dir / "lenses"
    lenses_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict] = {}
    todo = []
    for lens in settings.lenses:
        if is_done(lenses_dir / lens.name):
            rows[lens.name] = {**read_row(lenses_dir / lens.name), "status": "done"}
        else:
            todo.append(lens)
    skipped = len(rows)
    run_id = uuid.uuid4().hex[:8]
    t0 = time.time()
    interrupted = False
    tracker = _Progress(len(settings.lenses), skipped, quiet, console)

    def task_for(lens, attempt):
        return LensTask(
            name=lens.name, data=dict(lens.data), model=settings.model,
            model_digest=settings.model_digest, base_dir=str(settings.base_dir),
            stages=tuple((s.fitter, dict(s.options)) for s in settings.stages),
            seed=settings.seed, lens_dir=str(lenses_dir / lens.name), shape=settings.shape,
            x64=settings.x64, figures=settings.figures, attempt=attempt)

    # nothing left to fit (a finished batch run again): no cluster to start
    with (_client(settings, client) if todo else contextlib.nullcontext()) as dask_client, \
            tracker, _ctrl_c_flag() as ctrl_c:
        from distributed import wait

        pending = {}

        def submit(lens, attempt):
            future = dask_client.submit(fit_lens, task_for(lens, attempt), pure=False,
                                        key=f"lens-{lens.name}-{run_id}-{attempt}")
            pending[future] = (lens, attempt)

        queue = list(reversed(todo))

        def top_up():
            while queue and len(pending) < IN_FLIGHT:
                submit(queue.pop(), 1)

        try:
            top_up()
            while pending:
                if ctrl_c.is_set():
                    raise KeyboardInterrupt
                try:
                    finished, _ = wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:  # nothing finished in this interval: refresh the display
                    finished = ()
                for future in finished:
                    lens, attempt = pending.pop(future)
                    if future.status == "finished":
                        rows[lens.name] = future.result()
                        tracker.finished(rows[lens.name]["status"] == "done")
                    elif attempt <= settings.retries:
                        submit(lens, attempt + 1)
                    else:
                        rows[lens.name] = _record_failure(lens, attempt, future, lenses_dir)
                        tracker.finished(False)
                top_up()
                tracker.running(_running(dask_client, pending))
        except KeyboardInterrupt:
            interrupted = True
            dask_client.cancel(list(pending))

    wall = time.time() - t0
    ordered = [rows.get(lens.name) or pending_row(lens.name) for lens in settings.lenses]
    files = write_table(ordered, settings.output_dir)
    summary = run_summary(ordered, settings, wall=wall, skipped=skipped, interrupted=interrupted)
    files["summary"] = write_summary(summary, settings.output_dir)
    return BatchOutcome(ordered, summary, interrupted, files)


@contextlib.contextmanager
def _ctrl_c_flag():
    """While the batch runs, a first Ctrl-C only sets the yielded flag, which the loop checks at
    least every half second, so the interrupt is never raised inside Dask's client machinery (or
    lost there); a second Ctrl-C raises at once. The handler is installed afresh for the run, so a
    handler left behind by other code in the process does not swallow the interrupt."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag  # signals reach only the main thread; a caller elsewhere stops it its own way
        return

    def first_press(signum, frame):
        flag.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, first_press)
    try:
        yield flag
    finally:
        # a handler installed outside Python reads as None and cannot be put back: use the default
        signal.signal(signal.SIGINT, previous if previous is not None else
                      signal.default_int_handler)


def _record_failure(lens, attempts, future, lenses_dir: Path) -> dict:
    try:
        exc, tb = future.exception(), future.traceback()
    except Exception as cancelled:  # a cancelled future has no exception of its own to give
        exc, tb = cancelled, None
    text = "".join(traceback.format_exception(type(exc), exc, tb)) if exc is not None else ""
    if type(exc).__name__ == "KilledWorker":
        message = f"the worker process died during each of {attempts} attempt(s) ({exc})"
    else:
        message = str(exc) if exc is not None else f"task {future.status}"
    row = failed_row(lens.name, exc, attempts, message=message,
                     error_type=type(exc).__name__ if exc is not None else future.status)
    write_failure(lenses_dir / lens.name, row, text or message)
    return row


def _running(client, pending) -> int:
    """Lenses a worker is processing now (the rest of ``pending`` wait in the queue)."""
    try:
        keys = {k for ks in client.processing().values() for k in ks}
    except Exception:  # a scheduler that is going away: the count is only for display
        return 0
    return sum(1 for f in pending if f.key in keys)


@contextlib.contextmanager
def _client(settings: BatchSettings, client):
    if client is not None:
        yield client
        return
    import dask
    from distributed import Client, LocalCluster

    if settings.scheduler:
        with Client(settings.scheduler) as remote:
            yield remote
        return
    # one death is enough for the scheduler to hand the task back to us: retries are counted here
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as local:
            yield local


class _Progress:
    """Rich display: lenses done / failed / running of the catalogue, and the rate."""

    def __init__(self, total: int, skipped: int, quiet: bool, console):
        self.total, self.skipped, self.quiet, self.console = total, skipped, quiet, console
        self.done = self.failed = self.now_running = 0
        self.t0 = time.time()
        self._progress = None

    def __enter__(self):
        if not self.quiet:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn)

            self._progress = Progress(
                TextColumn("[bold]lenses"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=self.console)
            self._progress.__enter__()
            self._task = self._progress.add_task("lenses", total=self.total,
                                                 completed=self.skipped, status=self._status())
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def finished(self, ok: bool) -> None:
        self.done += ok
        self.failed += not ok
        self._refresh(advance=1)

    def running(self, n: int) -> None:
        self.now_running = n
        self._refresh()

    def _status(self) -> str:
        hours = max(time.time() - self.t0, 1e-9) / 3600
        rate = (self.done + self.failed) / hours
        skipped = f", {self.skipped} done before" if self.skipped else ""
        return (f"[green]{self.done} done[/] [red]{self.failed} failed[/] "
                f"[cyan]{self.now_running} running[/]{skipped} · {rate:,.0f} lenses/h")

    def _refresh(self, advance: int = 0) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=advance, status=self._status())
