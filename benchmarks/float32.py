"""float32 against float64 on the imaging benchmark problem: accuracy lost and time saved.

Each precision runs in its own process (JAX's x64 switch is global), on exactly the problem of
``benchmarks/likelihood.py`` (imported from it), evaluated at the true parameters: ln L, the model
image, the gradient of ln L, and the fastest-of-N times of a single evaluation, a ``vmap`` batch and
``value_and_grad``. Prints one JSON object with the differences and the float64 / float32 time ratios.

    .venv/bin/python benchmarks/float32.py [--cases sie100,epl100]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("lensframe_benchmark_likelihood",
                                                  HERE / "likelihood.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(case: str, precision: str, out: Path) -> None:
    bench = _benchmark_module()  # switches x64 on at import; the precision is set right after
    import jax

    jax.config.update("jax_enable_x64", precision == "float64")
    spec = bench.CASES[case]
    _, _, image, kernel = bench.lenstronomy_setup(spec["n"], spec["ss"], spec["mass"],
                                                  "lenstronomy")
    problem, theta = bench.lensframe_setup(spec["n"], spec["ss"], spec["mass"], image, kernel)
    args = problem.args
    single = jax.jit(problem.log_likelihood)
    batched = jax.jit(jax.vmap(problem.log_likelihood, in_axes=(0, None)))
    vgrad = jax.jit(jax.value_and_grad(problem.log_likelihood))
    thetas = bench.batch_of(theta, np.random.default_rng(0), spec["batch"])
    _, t_single = bench.timed(single, theta, args)
    _, t_batch = bench.timed(batched, thetas, args, repeat=5)
    _, t_grad = bench.timed(vgrad, theta, args)
    value, grad = vgrad(theta, args)
    products = problem.likelihood.products(problem.values(theta, args), args["data"])
    np.savez(out, log_likelihood=np.asarray(value), grad=np.asarray(grad),
             model=np.asarray(products["model"]), dtype=str(np.asarray(value).dtype),
             single_ms=1e3 * t_single, vmap_per_eval_ms=1e3 * t_batch / spec["batch"],
             value_and_grad_ms=1e3 * t_grad, names=np.asarray(problem.free_names))


def compare(case: str) -> dict:
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("float64", "float32"):
            out = Path(tmp) / f"{precision}.npz"
            subprocess.run([sys.executable, __file__, "--worker", case, precision, str(out)],
                           check=True)
            with np.load(out) as z:
                runs[precision] = {k: z[k] for k in z.files}
    d, s = runs["float64"], runs["float32"]
    peak = float(np.max(np.abs(d["model"])))
    grad_scale = float(np.max(np.abs(d["grad"])))
    return {
        "case": case, "float32_dtype": str(s["dtype"]),
        "log_likelihood_float64": float(d["log_likelihood"]),
        "delta_log_likelihood": float(s["log_likelihood"] - d["log_likelihood"]),
        "model_max_abs_error_over_peak": float(np.max(np.abs(s["model"] - d["model"]))) / peak,
        "grad_max_abs_error_over_max_grad":
            float(np.max(np.abs(s["grad"] - d["grad"]))) / grad_scale,
        "times_ms": {p: {k: float(runs[p][k]) for k in
                         ("single_ms", "vmap_per_eval_ms", "value_and_grad_ms")} for p in runs},
        "speedup_float64_over_float32": {k: float(d[k] / s[k]) for k in
                                         ("single_ms", "vmap_per_eval_ms", "value_and_grad_ms")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="sie100,epl100")
    parser.add_argument("--worker", nargs=3, metavar=("CASE", "PRECISION", "OUT"),
                        help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        worker(opts.worker[0], opts.worker[1], Path(opts.worker[2]))
        return
    print(json.dumps({"cases": [compare(c) for c in opts.cases.split(",")]}, indent=2))


if __name__ == "__main__":
    main()
