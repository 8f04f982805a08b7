"""Progress reporting for long runs: a rich progress bar on the terminal, or nothing when quiet."""

from __future__ import annotations


class ProgressReporter:
    """``with reporter.task("L-BFGS", total=500) as advance: advance(50)``."""

    def __init__(self, quiet: bool = False, console=None):
        self.quiet = quiet
        self.console = console

    def task(self, description: str, total: float):
        return _Task(self, description, total)


class _Task:
    def __init__(self, reporter: ProgressReporter, description: str, total: float):
        self.reporter, self.description, self.total = reporter, description, total
        self._progress = None

    def __enter__(self):
        if self.reporter.quiet:
            return lambda n=1, **fields: None
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.reporter.console, transient=False)
        self._progress.__enter__()
        task_id = self._progress.add_task(self.description, total=self.total, status="")

        def advance(n=1, status: str = ""):
            self._progress.update(task_id, advance=n, status=status)

        return advance

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)
