"""The results table of a batch (one row per lens, CSV and FITS) and the run summary (JSON and a
printed rich table). All files are written atomically."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from pathlib import Path

from ..result import atomic_write

#: columns that come first, in this order; parameter columns follow, then the rest
LEADING = ("name", "status")
TRAILING = ("log_density", "chi2", "dof", "chi2_dof", "fitters", "diagnostics", "wall_seconds",
            "started", "compile_seconds", "programs_compiled", "cache_hit", "worker",
            "worker_peak_rss_mb", "attempts", "figures", "error_type", "error")


def pending_row(name: str) -> dict:
    """The row of a lens this run did not reach (interrupted)."""
    return {"name": name, "status": "pending"}


def columns(rows: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    middle = [k for k in seen if k not in LEADING and k not in TRAILING]
    return list(LEADING) + middle + list(TRAILING)


def write_table(rows: list[dict], directory: Path) -> dict[str, Path]:
    """``results.csv`` and ``results.fits`` in ``directory``; empty cells for missing values."""
    directory = Path(directory)
    names = columns(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in names})
    csv_path = directory / "results.csv"
    atomic_write(csv_path, lambda fh: fh.write(buffer.getvalue().encode()))
    fits_path = directory / "results.fits"
    table = _fits_table(rows, names)
    atomic_write(fits_path, lambda fh: table.write(fh, format="fits"))
    return {"csv": csv_path, "fits": fits_path}


def _csv_cell(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def _fits_table(rows, names):
    """Numbers as float64 (NaN when missing), booleans as bool, everything else as text."""
    import numpy as np
    from astropy.table import Table

    table = Table()
    for name in names:
        values = [row.get(name) for row in rows]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, bool) for v in present):
            table[name] = np.array([bool(v) for v in values])
        elif present and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                             for v in present):
            table[name] = np.array([np.nan if v is None else float(v) for v in values])
        else:
            # FITS text is ASCII: error messages with "…", "σ" or "θ" are escaped, not fatal
            table[name] = np.array(["" if v is None else
                                    str(v).encode("ascii", "backslashreplace").decode()
                                    for v in values], dtype=str)
    return table


def run_summary(rows: list[dict], settings, *, wall: float, skipped: int,
                interrupted: bool) -> dict:
    """Counts, rates and where the time went, for ``run.json`` and the printed summary.

    ``first_lens_compile_seconds`` is the compile time of the first lens fitted by each worker
    process (the memo is per process); ``other_lens_compile_seconds`` the median over the rest, which is
    ~0 when the shared program is reused.
    """
    status = [r["status"] for r in rows]
    fitted = [r for r in rows if r["status"] == "done" and r.get("wall_seconds") is not None]
    fitted_now = sum(1 for r in rows if r["status"] in ("done", "failed")) - skipped
    first, rest, seen = [], [], set()
    for r in sorted(fitted, key=lambda r: r.get("started") or 0.0):
        (rest if r.get("worker") in seen else first).append(r.get("compile_seconds") or 0.0)
        seen.add(r.get("worker"))
    walls = [r["wall_seconds"] for r in fitted]
    return {
        "config": str(settings.source) if settings.source else None,
        "output": str(settings.output_dir),
        "lenses": len(rows), "done": status.count("done"), "failed": status.count("failed"),
        "pending": status.count("pending"), "skipped_already_done": skipped,
        "finished_this_run": fitted_now, "interrupted": interrupted,
        "wall_seconds": wall,
        "lenses_per_hour": fitted_now / wall * 3600 if wall > 0 and fitted_now > 0 else 0.0,
        "median_lens_wall_seconds": statistics.median(walls) if walls else None,
        "first_lens_compile_seconds": first,
        "other_lens_compile_seconds_median": statistics.median(rest) if rest else None,
        "cache_hits": sum(1 for r in fitted if r.get("cache_hit")),
        "workers": settings.workers if not settings.scheduler else None,
        "scheduler": settings.scheduler or "LocalCluster",
        "fitters": [s.fitter for s in settings.stages],
        "failed_lenses": {r["name"]: f"{r.get('error_type')}: {r.get('error')}"
                          for r in rows if r["status"] == "failed"},
    }


def write_summary(summary: dict, directory: Path) -> Path:
    path = Path(directory) / "run.json"
    text = json.dumps(summary, indent=2, default=str)
    atomic_write(path, lambda fh: fh.write(text.encode()))
    return path


def print_summary(console, summary: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table("", "", title="batch summary", title_justify="left", show_header=False)
    rate = summary["lenses_per_hour"]
    first = summary["first_lens_compile_seconds"]
    rest = summary["other_lens_compile_seconds_median"]
    for label, value in [
        ("lenses", summary["lenses"]),
        ("done", f"[green]{summary['done']}[/] ({summary['skipped_already_done']} before this run)"),
        ("failed", f"[red]{summary['failed']}[/]" if summary["failed"] else "0"),
        ("pending", summary["pending"]),
        ("wall time", f"{summary['wall_seconds']:.1f} s"),
        ("rate", f"{rate:,.0f} lenses/hour"),
        ("compile, first lens per worker", ", ".join(f"{s:.1f} s" for s in first) or "—"),
        ("compile, other lenses (median)", "—" if rest is None else f"{rest:.2f} s"),
    ]:
        table.add_row(label, str(value))
    console.print(table)
    for name, error in summary["failed_lenses"].items():
        console.print(f"[red]failed[/] {escape(name)}: {escape(error)}", highlight=False)
