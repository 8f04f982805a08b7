"""A 1000-epoch binary-lens light curve: lensframe against VBMicrolensing in the same run, and the
cost of its gradient (which VBMicrolensing cannot give).

Two cases with the example event's lens (s = 1.1, q = 0.1, rho = 5e-3; examples/binary_event):
``whole`` spreads the epochs over ±2 tE (most epochs far from the caustic, as in a real light
curve) and ``anomaly`` puts all of them within the caustic-crossing days. Timed, fastest of N:
VBMicrolensing's ``BinaryLightCurve`` (one C++ call over the epochs), VBMicrolensing's
``BinaryMag2`` in a Python loop (as users call it), lensframe's jitted light curve, and lensframe's
jitted ln L + gradient over the 7 parameters (flux solving included). Accuracy: the largest
relative difference of lensframe's magnifications from VBMicrolensing at RelTol = Tol = 1e-7.
VBMicrolensing's timings use RelTol 1e-4 (≈1e-4 relative accuracy, see docs/performance.md).
Prints one JSON object; ratios are lensframe time / VBMicrolensing time.

    .venv/bin/python benchmarks/microlensing_lightcurve.py
"""

from __future__ import annotations

import json
import math
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

LENS = {"s": 1.1, "q": 0.1, "rho": 0.005}
EVENT = {"t0": 7500.0, "u0": 0.1, "tE": 20.0, "alpha": 0.6}
CASES = {"whole": (7460.0, 7540.0), "anomaly": (7492.9, 7505.3)}
N = 1000


def fastest(fn, repeat=5):
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def vbm_curve(times, tol):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    vbm.RelTol, vbm.Tol = tol, tol
    params = [math.log(LENS["s"]), math.log(LENS["q"]), EVENT["u0"], EVENT["alpha"],
              math.log(LENS["rho"]), math.log(EVENT["tE"]), EVENT["t0"]]
    curve = lambda: np.asarray(vbm.BinaryLightCurve(params, list(times))[0])  # noqa: E731

    def loop():
        tau = (times - EVENT["t0"]) / EVENT["tE"]
        sa, ca = math.sin(EVENT["alpha"]), math.cos(EVENT["alpha"])
        return [vbm.BinaryMag2(LENS["s"], LENS["q"], EVENT["u0"] * sa - x * ca,
                               -EVENT["u0"] * ca - x * sa, LENS["rho"]) for x in tau]

    return curve, loop


def problem_for(times, flux):
    from lensframe.problem import Problem

    components = {
        "lens": {"profile": "binary_lens", "params": {
            "s": {"prior": "uniform", "low": 0.9, "high": 1.3},
            "q": {"prior": "loguniform", "low": 0.02, "high": 0.5},
            "rho": {"prior": "loguniform", "low": 1e-3, "high": 2e-2}}},
        "event": {"profile": "rectilinear", "params": {
            "t0": {"prior": "uniform", "low": 7498.0, "high": 7502.0},
            "u0": {"prior": "uniform", "low": 0.02, "high": 0.3},
            "tE": {"prior": "uniform", "low": 10.0, "high": 40.0},
            "alpha": {"prior": "uniform", "low": 0.3, "high": 0.9}}}}
    data = {"mock": {"time": times, "flux": flux, "error": np.full(times.size, 0.01)}}
    return Problem.build(components, data, likelihood="lightcurve")


def case(lo, hi):
    times = np.linspace(lo, hi, N)
    reference = vbm_curve(times, 1e-7)[0]()
    curve, loop = vbm_curve(times, 1e-4)
    problem = problem_for(times, 1.0 * reference + 0.2)
    theta = jnp.array([LENS[k] for k in ("s", "q", "rho")] +
                      [EVENT[k] for k in ("t0", "u0", "tE", "alpha")])
    args = problem.args
    lk = problem.likelihood
    magnify = jax.jit(lambda th, a: lk.magnification(problem.values(th, a), a["data"]["time"]))
    value_and_grad = jax.jit(jax.value_and_grad(problem.log_likelihood))
    t = time.perf_counter()
    ours = np.asarray(jax.block_until_ready(magnify(theta, args)))
    compile_curve = time.perf_counter() - t
    t = time.perf_counter()
    jax.block_until_ready(value_and_grad(theta, args))
    compile_grad = time.perf_counter() - t
    t_curve = fastest(lambda: jax.block_until_ready(magnify(theta, args)))
    t_grad = fastest(lambda: jax.block_until_ready(value_and_grad(theta, args)))
    t_vbm = fastest(curve)
    t_loop = fastest(loop, repeat=3)
    rel = np.abs(ours / reference - 1.0)
    return {
        "epochs": N, "span": [lo, hi],
        "lensframe_curve_ms": round(1e3 * t_curve, 2),
        "lensframe_lnL_and_grad_ms": round(1e3 * t_grad, 2),
        "vbm_lightcurve_ms": round(1e3 * t_vbm, 2),
        "vbm_python_loop_ms": round(1e3 * t_loop, 2),
        "ratio_curve_vs_vbm_lightcurve": round(t_curve / t_vbm, 2),
        "ratio_curve_vs_vbm_loop": round(t_curve / t_loop, 2),
        "ratio_grad_vs_curve": round(t_grad / t_curve, 2),
        "max_rel_error_vs_vbm_1e-7": float(f"{rel.max():.2e}"),
        "p99_rel_error_vs_vbm_1e-7": float(f"{np.quantile(rel, 0.99):.2e}"),
        "compile_s": {"curve": round(compile_curve, 1), "grad": round(compile_grad, 1)},
    }


def main():
    out = {"what": "1000-epoch binary light curve (s=1.1, q=0.1, rho=5e-3), float64, CPU; "
                   "ratios = lensframe / VBMicrolensing (same run)",
           "backend": jax.default_backend(), "devices": jax.device_count()}
    for name, (lo, hi) in CASES.items():
        out[name] = case(lo, hi)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
