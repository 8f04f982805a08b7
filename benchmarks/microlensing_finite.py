"""Finite-source magnifications near caustics: lensframe against VBMicrolensing in the same run.

Binary lens s = 0.9, q = 0.05; source centres within 1.5 ρ of random caustic points (M1's
``caustics``), ρ = 1e-3, uniform and linearly limb-darkened (a1 = 0.5). Timed per point, after
compilation: lensframe's jitted ``magnification_batch`` over all points (default settings) and
VBMicrolensing's ``BinaryMag2`` in a Python loop at matched accuracy (RelTol 1e-4, ≈1e-4 relative,
see docs/performance.md) and at its default settings. Accuracy: relative differences from
VBMicrolensing at RelTol = Tol = 1e-7 (median, 99th percentile, worst). Prints one JSON object;
ratios are lensframe time / VBMicrolensing time; ``--tol``, ``--n-limb``, ``--n-rounds``,
``--n-refine``, ``--n-rings``, ``--chunk`` set lensframe's knobs (unset: the defaults). The
limb-darkened case is slow in lensframe, so it uses its own (smaller) number of points ``--n-ld``.

    .venv/bin/python benchmarks/microlensing_finite.py --n 1000 --n-ld 100
"""

from __future__ import annotations

import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

S, Q, RHO, A1 = 0.9, 0.05, 1e-3, 0.5


def source_centres(n, seed):
    from lensframe_micro.caustics import caustics
    from lensframe_micro.lenses import binary_lenses

    z, m = binary_lenses(S, Q)
    caustic = np.asarray(caustics(z, m, 256)[1]).ravel()
    rng = np.random.default_rng(seed)
    centre = caustic[rng.integers(0, caustic.size, n)]
    return centre + RHO * rng.uniform(0.0, 1.5, n) * np.exp(2j * np.pi * rng.uniform(size=n))


def vbm_loop(w, a1, rel_tol=None, tol=None):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    if rel_tol is not None:
        vbm.RelTol = rel_tol
    if tol is not None:
        vbm.Tol = tol
    vbm.a1 = a1
    start = time.perf_counter()
    values = np.array([vbm.BinaryMag2(S, Q, x.real, x.imag, RHO) for x in w])
    return values, (time.perf_counter() - start) / len(w)


def accuracy(values, reference):
    error = np.abs(values / reference - 1)
    return {"median": float(np.median(error)), "p99": float(np.quantile(error, 0.99)),
            "worst": float(error.max())}


def case(w, a1, knobs):
    from lensframe_micro.finite import FiniteSettings, magnification_batch
    from lensframe_micro.lenses import binary_lenses

    z, m = binary_lenses(S, Q)
    settings = FiniteSettings(**knobs)
    run = jax.jit(lambda w: magnification_batch(w, z, m, RHO, a1, settings))
    start = time.perf_counter()
    run(jnp.asarray(w))[0].block_until_ready()
    first = time.perf_counter() - start
    start = time.perf_counter()
    values, info = run(jnp.asarray(w))
    values = np.asarray(values.block_until_ready())
    per_point = (time.perf_counter() - start) / len(w)
    reference, _ = vbm_loop(w, a1, 1e-7, 1e-7)
    matched, t_matched = vbm_loop(w, a1, rel_tol=1e-4)
    default, t_default = vbm_loop(w, a1)
    return {
        "n_points": len(w),
        "lensframe_ms_per_point": per_point * 1e3,
        "lensframe_first_call_s": first,
        "lensframe_full_integral_fraction": float(np.mean(np.asarray(info["full"]))),
        "lensframe_unresolved": int(np.sum(np.asarray(info["unresolved"]))),
        "vbm_reltol1e-4_ms_per_point": t_matched * 1e3,
        "vbm_default_ms_per_point": t_default * 1e3,
        "ratio_vs_vbm_reltol1e-4": per_point / t_matched,
        "ratio_vs_vbm_default": per_point / t_default,
        "accuracy_lensframe": accuracy(values, reference),
        "accuracy_vbm_reltol1e-4": accuracy(matched, reference),
        "accuracy_vbm_default": accuracy(default, reference),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="uniform-source points")
    parser.add_argument("--n-ld", type=int, default=100, help="limb-darkened points")
    parser.add_argument("--seed", type=int, default=1)
    knob_types = {"tol": float, "n_limb": int, "n_rounds": int, "n_refine": int, "n_rings": int,
                  "chunk": int}
    for knob, kind in knob_types.items():
        parser.add_argument("--" + knob.replace("_", "-"), type=kind, default=None,
                            help=f"FiniteSettings.{knob} (default: the default)")
    args = parser.parse_args()
    w = source_centres(max(args.n, args.n_ld), args.seed)
    knobs = {k: v for k in knob_types if (v := getattr(args, k)) is not None}
    out = {"lens": {"s": S, "q": Q}, "rho": RHO, "settings": knobs,
           "uniform": case(w[: args.n], 0.0, knobs) if args.n else None,
           "limb_darkened": case(w[: args.n_ld], A1, knobs) if args.n_ld else None}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
