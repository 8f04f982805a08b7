"""Batch throughput: lenses per hour of ``lensframe batch`` on this machine, SLACS-size cutouts.

Fits the first ``--lenses`` real SLACS HST cutouts (201×201 at 0.05″, 15×15 PSF) from
``../shared/data/slacs`` — or, when that folder is absent or ``--synthetic`` is given, as many
synthetic 201×201 lenses simulated with the same model — on a ``LocalCluster`` of ``--workers``
single-threaded processes, with one model (SIE + external shear, elliptical Sérsic lens light,
elliptical Sérsic source, both amplitudes by least squares; supersampling 1) and one L-BFGS setting.
Prints one JSON object (and writes it to ``--json`` if given):

* ``first_lens``: wall and compile seconds of the first lens on each worker process (the compile
  is cold by default: a fresh on-disk cache folder; ``--warm-cache`` keeps the user's cache),
* ``other_lenses``: median wall and compile seconds of the rest (compile ≈ 0: memo hit),
* ``lenses_per_hour``: the whole run (compile included) and ``steady_lenses_per_hour`` =
  workers × 3600 / median wall of a non-first lens (what a long survey approaches),
* ``first_over_other_wall``: the ratio of the two (how much a worker's first lens costs extra).

    .venv/bin/python benchmarks/batch.py [--lenses 6] [--workers 2] [--synthetic] [--json F]

Absolute times depend on the machine and its load; the ratios are what carries over.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLACS = ROOT.parent / "shared" / "data" / "slacs"

MODEL = """
seed = 0
[data]
pixel_scale = 0.05
[likelihood]
name = "imaging"
supersampling = 1
solver = "wls"
[components.lens]
profile = "SIE"
params.theta_E = { prior = "uniform", low = 0.5, high = 2.5 }
params.e1 = { prior = "uniform", low = -0.4, high = 0.4 }
params.e2 = { prior = "uniform", low = -0.4, high = 0.4 }
params.center_x = { prior = "normal", mu = 0.0, sigma = 0.1 }
params.center_y = { prior = "normal", mu = 0.0, sigma = 0.1 }
[components.shear]
profile = "SHEAR"
params.gamma1 = { prior = "uniform", low = -0.2, high = 0.2 }
params.gamma2 = { prior = "uniform", low = -0.2, high = 0.2 }
[components.lens_light]
profile = "SERSIC_ELLIPSE"
plane = "lens"
params.amp = "linear"
params.n_sersic = 4.0
params.R_sersic = { prior = "loguniform", low = 0.1, high = 8.0 }
params.e1 = { prior = "uniform", low = -0.5, high = 0.5 }
params.e2 = { prior = "uniform", low = -0.5, high = 0.5 }
params.center_x = { link = "lens.center_x" }
params.center_y = { link = "lens.center_y" }
[components.source]
profile = "SERSIC_ELLIPSE"
plane = "source"
params.amp = "linear"
params.n_sersic = 1.0
params.R_sersic = { prior = "loguniform", low = 0.01, high = 1.0 }
params.e1 = { prior = "uniform", low = -0.5, high = 0.5 }
params.e2 = { prior = "uniform", low = -0.5, high = 0.5 }
params.center_x = { prior = "uniform", low = -0.6, high = 0.6 }
params.center_y = { prior = "uniform", low = -0.6, high = 0.6 }
[[fit]]
fitter = "lbfgs"
n_starts = @STARTS@
max_steps = @STEPS@
[batch]
folder = "@FOLDER@"
image = "{name}/image.fits"
noise = "{name}/noise.fits"
psf = "{name}/psf.fits"
shape = [201, 201]
figures = false
"""

TRUTH = {"lens.theta_E": 1.2, "lens.e1": 0.1, "lens.e2": -0.05, "lens.center_x": 0.02,
         "lens.center_y": -0.01, "shear.gamma1": 0.03, "shear.gamma2": 0.01,
         "lens_light.amp": 30.0, "lens_light.n_sersic": 4.0, "lens_light.R_sersic": 1.0,
         "lens_light.e1": 0.1, "lens_light.e2": 0.0, "source.amp": 10.0, "source.n_sersic": 1.0,
         "source.R_sersic": 0.2, "source.e1": 0.1, "source.e2": 0.2, "source.center_x": 0.05,
         "source.center_y": 0.03}


def synthetic_lenses(folder: Path, n: int) -> None:
    """``n`` 201×201 mock lenses of the benchmark model (θ_E varied), Gaussian PSF σ = 1.5 pix,
    noise σ = 0.05 per pixel."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from astropy.io import fits

    from lensframe.problem import Problem

    yy, xx = np.mgrid[-7:8, -7:8]
    psf = np.exp(-(xx**2 + yy**2) / (2 * 1.5**2))
    psf /= psf.sum()
    for i in range(n):
        truth = {**TRUTH, "lens.theta_E": 0.9 + 0.1 * i}
        components = {}
        for key, value in truth.items():
            comp, param = key.split(".")
            components.setdefault(comp, {"params": {}})["params"][param] = value
        for comp, profile in (("lens", "SIE"), ("shear", "SHEAR"),
                              ("lens_light", "SERSIC_ELLIPSE"), ("source", "SERSIC_ELLIPSE")):
            components[comp]["profile"] = profile
        components["lens_light"]["params"].update(center_x=truth["lens.center_x"],
                                                  center_y=truth["lens.center_y"])
        components["lens_light"]["plane"] = "lens"
        components["source"]["plane"] = "source"
        data = {"image": np.zeros((201, 201)), "noise": 0.05, "pixel_scale": 0.05, "psf": psf}
        problem = Problem.build(components, data, likelihood_options={"supersampling": 1})
        values = problem.values(np.zeros(0), problem.args)
        model = np.asarray(problem.likelihood.products(values, problem.args["data"])["model"])
        image = model + np.random.default_rng(i).normal(scale=0.05, size=model.shape)
        out = folder / f"mock{i:03d}"
        out.mkdir(parents=True)
        for name, array in (("image", image), ("noise", np.full(image.shape, 0.05)),
                            ("psf", psf)):
            fits.PrimaryHDU(array.astype(np.float32)).writeto(out / f"{name}.fits")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lenses", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n-starts", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--synthetic", action="store_true", help="mock lenses even if SLACS is "
                                                                 "present")
    parser.add_argument("--warm-cache", action="store_true",
                        help="use the user's compilation cache (LENSFRAME_CACHE_DIR if set) "
                             "instead of a fresh one")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.warm_cache:  # workers inherit the environment: a cold cache for all of them
            os.environ["LENSFRAME_CACHE_DIR"] = str(tmp / "cache")
            os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
        use_slacs = SLACS.is_dir() and not args.synthetic
        if use_slacs:
            folder, source = SLACS, f"SLACS HST cutouts ({SLACS})"
        else:
            folder, source = tmp / "lenses", "synthetic 201x201 mocks"
            synthetic_lenses(folder, args.lenses)
        config = tmp / "batch.toml"
        config.write_text(MODEL.replace("@FOLDER@", str(folder))
                          .replace("@STARTS@", str(args.n_starts))
                          .replace("@STEPS@", str(args.max_steps)))
        import jax

        jax.config.update("jax_enable_x64", True)
        from lensframe.survey import load_batch, run_batch

        settings = load_batch(config, output_dir=tmp / "out", workers=args.workers,
                              limit=args.lenses)
        t0 = time.perf_counter()
        outcome = run_batch(settings, quiet=True)
        wall = time.perf_counter() - t0
        report = summarise(outcome, wall, args, source)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


def summarise(outcome, wall: float, args, source: str) -> dict:
    done = sorted((r for r in outcome.rows if r["status"] == "done"), key=lambda r: r["started"])
    first, other, seen = [], [], set()
    for row in done:
        (other if row["worker"] in seen else first).append(row)
        seen.add(row["worker"])

    def stats(rows):
        if not rows:
            return None
        return {"n": len(rows),
                "wall_s_median": round(statistics.median(r["wall_seconds"] for r in rows), 2),
                "compile_s_median": round(statistics.median(r["compile_seconds"] for r in rows), 2)}

    first_s, other_s = stats(first), stats(other)
    steady = (args.workers * 3600 / other_s["wall_s_median"]) if other_s else None
    return {
        "data": source, "cutout": "201x201, 0.05 arcsec, ss 1",
        "model": "SIE + shear, Sersic lens light (n=4), Sersic source (n=1), 2 linear amplitudes",
        "fitter": f"lbfgs n_starts={args.n_starts} max_steps={args.max_steps}",
        "workers": args.workers, "cores": os.cpu_count(), "lenses": len(outcome.rows),
        "done": len(done), "failed": sum(r["status"] == "failed" for r in outcome.rows),
        "compile_cache": "user (warm)" if args.warm_cache else "fresh (cold)",
        "wall_s": round(wall, 1),
        "lenses_per_hour": round(len(done) / wall * 3600, 1),
        "steady_lenses_per_hour": None if steady is None else round(steady, 1),
        "first_lens": first_s, "other_lenses": other_s,
        "first_over_other_wall": (round(first_s["wall_s_median"] / other_s["wall_s_median"], 2)
                                  if first_s and other_s else None),
        "theta_E": {r["name"]: round(r["lens.theta_E"], 4) for r in done},
        "disk_bytes_per_lens": _disk_per_lens(outcome),
        "worker_peak_rss_mb": max((r.get("worker_peak_rss_mb") or 0 for r in done), default=None),
    }


def _disk_per_lens(outcome) -> int | None:
    lenses = Path(outcome.files["csv"]).parent / "lenses"
    sizes = [sum(f.stat().st_size for f in d.iterdir()) for d in lenses.iterdir() if d.is_dir()]
    return int(statistics.median(sizes)) if sizes else None


if __name__ == "__main__":
    sys.exit(main())
