"""Compare a SLACS batch run's Einstein radii with Bolton et al. (2008) and with TinyLensGpu.

Reads the batch results table (``OUT/results.csv`` of ``lensframe batch examples/slacs.toml``, or
while the run is still going the ``row.json`` of each finished lens) and
the data set's ``joint_table.csv`` (Bolton et al. 2008's SIE Einstein radius ``bSIE`` and
TinyLensGpu's posterior median ``thetaE_lens_m``, both in arcsec), and prints, for lensframe and for
TinyLensGpu on the *same* lenses (and TinyLensGpu on all lenses of the table):

- the fraction of lenses whose θ_E is within 5 % and within 10 % of Bolton's,
- NMAD = 1.4826 · median(|δ − median(δ)|) of the fractional deviation δ = θ_E / bSIE − 1
  (the normalised median absolute deviation, a robust σ; Hoaglin, Mosteller & Tukey 1983),
- the number of lenses off by more than 25 % (|δ| > 0.25, "catastrophic"),
- lensframe's wall time per lens (from the table's ``wall_seconds``, and the run's throughput),
- how often lensframe and TinyLensGpu, fitting the same model to the same data, agree with each
  other (within 5 % and 10 %): where both are off from Bolton's value by the same amount, the
  model is the cause (or the data), not one search.

Run from the repository root:

    python examples/slacs/compare.py out/slacs [--joint ../shared/data/slacs/joint_table.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_JOINT = REPO.parent / "shared" / "data" / "slacs" / "joint_table.csv"
THETA_E = "lens.theta_E"


def read_rows(path: Path) -> list[dict]:
    """Rows of a CSV file as dicts; a missing file is an error that names it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def finished_rows(out_dir: Path) -> list[dict]:
    """The run's rows: ``results.csv`` as the batch wrote it at its end, unless more lenses are
    marked done since (a run resumed and still going: its table is the last stop's), then the
    ``row.json`` of each lens marked done."""
    out_dir = Path(out_dir)
    done = [d for d in sorted((out_dir / "lenses").glob("*"))
            if (d / "done.json").is_file() and (d / "row.json").is_file()]
    if (out_dir / "results.csv").is_file():
        table = read_rows(out_dir / "results.csv")
        if sum(r.get("status") == "done" for r in table) >= len(done):
            return table
    rows = [{**json.loads((d / "row.json").read_text()), "status": "done"} for d in done]
    if not rows:
        raise FileNotFoundError(f"{out_dir}: neither results.csv nor any finished lens")
    return rows


def fitted_radii(out_dir: Path) -> tuple[dict[str, float], dict[str, float]]:
    """θ_E (arcsec) and wall seconds of every lens whose status is ``done``."""
    rows = finished_rows(out_dir)
    results_csv = Path(out_dir) / "results.csv"
    if rows and THETA_E not in rows[0]:
        raise KeyError(f"{results_csv}: no column '{THETA_E}' (is this a SLACS batch table?)")
    done = [r for r in rows if r.get("status") == "done"]
    theta = {r["name"]: float(r[THETA_E]) for r in done}
    wall = {r["name"]: float(r["wall_seconds"]) for r in done if r.get("wall_seconds")}
    return theta, wall


def reference_radii(joint_csv: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Bolton et al.'s ``bSIE`` and TinyLensGpu's median ``thetaE_lens_m`` per lens (arcsec)."""
    rows = read_rows(joint_csv)
    bolton = {r["lens_name"]: float(r["bSIE"]) for r in rows}
    tinylens = {r["lens_name"]: float(r["thetaE_lens_m"]) for r in rows}
    return bolton, tinylens


def fractional_deviations(estimate: dict[str, float], reference: dict[str, float]) -> dict:
    """δ = estimate / reference − 1 for every lens in both."""
    return {n: estimate[n] / reference[n] - 1.0 for n in sorted(estimate) if n in reference}


def scores(deviations) -> dict:
    """Agreement figures of fractional deviations δ: n, fractions within 5 % and 10 %, NMAD,
    number with |δ| > 25 %."""
    d = np.asarray(list(deviations), float)
    if d.size == 0:
        return {"n": 0, "within_5": math.nan, "within_10": math.nan, "nmad": math.nan,
                "off_25": 0}
    return {"n": int(d.size),
            "within_5": float(np.mean(np.abs(d) <= 0.05)),
            "within_10": float(np.mean(np.abs(d) <= 0.10)),
            "nmad": float(1.4826 * np.median(np.abs(d - np.median(d)))),
            "off_25": int(np.sum(np.abs(d) > 0.25))}


def _line(label: str, s: dict) -> str:
    return (f"{label:<34} {s['n']:>3}  {100 * s['within_5']:6.1f} %  {100 * s['within_10']:6.1f} %"
            f"  {100 * s['nmad']:6.1f} %  {s['off_25']:>4}")


def report(out_dir: Path, joint_csv: Path) -> str:
    out_dir = Path(out_dir)
    theta, wall = fitted_radii(out_dir)
    bolton, tinylens = reference_radii(joint_csv)
    ours = fractional_deviations(theta, bolton)
    same = {n: tinylens[n] for n in ours if n in tinylens}
    theirs = fractional_deviations(same, bolton)
    theirs_all = fractional_deviations(tinylens, bolton)
    lines = [f"θ_E vs Bolton et al. (2008) bSIE — {len(ours)} of {len(bolton)} lenses fitted",
             f"{'':<34} {'n':>3}  {'≤5 %':>8}  {'≤10 %':>8}  {'NMAD':>8}  {'>25 %':>4}",
             _line("lensframe", scores(ours.values())),
             _line("TinyLensGpu, same lenses", scores(theirs.values())),
             _line("TinyLensGpu, all lenses", scores(theirs_all.values()))]
    versus = np.array(list(fractional_deviations(theta, tinylens).values()))
    if versus.size:
        lines.append(f"lensframe vs TinyLensGpu (same model): within 5 % on "
                     f"{int(np.sum(np.abs(versus) <= 0.05))} of {versus.size}, within 10 % on "
                     f"{int(np.sum(np.abs(versus) <= 0.10))}")
    if wall:
        w = np.array(list(wall.values()))
        lines.append(f"wall time per lens (one worker): median {np.median(w):.0f} s, "
                     f"mean {w.mean():.0f} s, max {w.max():.0f} s")
    run_json = out_dir / "run.json"
    if run_json.is_file():
        run = json.loads(run_json.read_text())
        total = run.get("wall_seconds")
        # a resumed run's wall covers only the lenses it fitted, not those done before it
        fitted = run.get("finished_this_run", len(ours))   # 0: a rerun with nothing left
        if total and fitted:
            lines.append(f"last run's wall time {total:.0f} s for {fitted} lenses → "
                         f"{total / fitted:.0f} s per lens (all workers together)")
    off = {n: d for n, d in ours.items() if abs(d) > 0.10}
    if off:
        lines.append("lensframe lenses off by > 10 % (θ_E, bSIE, δ; TinyLensGpu's δ):")
        for n, d in sorted(off.items(), key=lambda kv: -abs(kv[1])):
            lines.append(f"  {n}  {theta[n]:.3f}″  {bolton[n]:.2f}″  {100 * d:+6.1f} %  "
                         f"({100 * theirs.get(n, math.nan):+6.1f} %)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out/slacs", help="batch output folder")
    parser.add_argument("--joint", default=str(DEFAULT_JOINT), help="joint_table.csv of the data")
    args = parser.parse_args(argv)
    try:
        print(report(Path(args.out), Path(args.joint)))
    except (FileNotFoundError, KeyError) as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
