"""Point-source magnification throughput: lensframe (jit, vmapped in blocks of ``--block`` points,
``point.in_blocks``; 0 = one vmap over all points) against VBMicrolensing called in a Python loop,
measured in the same run; plus the cost of the gradient and a triple lens.

Prints one JSON object. Ratios > 1 mean lensframe is faster. Timings are the fastest of ``--repeat``
runs (the machine is shared). Usage: python benchmarks/microlensing_point.py [--n 10000] [--block 16]
"""

from __future__ import annotations

import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import VBMicrolensing  # noqa: E402

from lensframe_micro.lenses import binary_lenses, triple_lenses  # noqa: E402
from lensframe_micro.point import BLOCK, in_blocks, point_magnification  # noqa: E402


def fastest(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--block", type=int, default=BLOCK)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.n
    s = 10 ** rng.uniform(np.log10(0.2), np.log10(5.0), n)
    q = 10 ** rng.uniform(-5.0, 0.0, n)
    y1, y2 = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    vbm = VBMicrolensing.VBMicrolensing()

    def binary(s, q, y1, y2):
        return point_magnification(y1 + 1j * y2, *binary_lenses(s, q))

    def batched(fn):
        if args.block <= 0:
            return jax.jit(jax.vmap(fn))
        return jax.jit(lambda *a: in_blocks(fn, *a, block=args.block))

    batch = batched(binary)
    grad = batched(jax.grad(binary, argnums=(0, 1, 2, 3)))
    args_j = tuple(jnp.asarray(a) for a in (s, q, y1, y2))
    ours = np.asarray(batch(*args_j))
    jax.block_until_ready(grad(*args_j))
    t_ours = fastest(lambda: batch(*args_j).block_until_ready(), args.repeat)
    t_grad = fastest(lambda: jax.block_until_ready(grad(*args_j)), args.repeat)
    ref = np.empty(n)

    def loop():
        for i in range(n):
            ref[i] = vbm.BinaryMag0(s[i], q[i], y1[i], y2[i])
    t_vbm = fastest(loop, args.repeat)
    rel = np.abs(ours / ref - 1)

    # triple: one configuration, n positions (VBMicrolensing's MultiMag0 after SetLensGeometry)
    z3, m3 = triple_lenses(1.0, 0.1, 0.8, 0.01, 1.0)
    zn, mn = np.asarray(z3), np.asarray(m3)
    vbm.SetLensGeometry([x for k in range(3) for x in (zn[k].real, zn[k].imag, mn[k])])
    w = jnp.asarray(y1 + 1j * y2)
    triple = batched(point_magnification)
    z3n, m3n = (jnp.broadcast_to(a, (n,) + a.shape) for a in (z3, m3))
    ours3 = np.asarray(triple(w, z3n, m3n))
    t_ours3 = fastest(lambda: triple(w, z3n, m3n).block_until_ready(), args.repeat)
    ref3 = np.empty(n)

    def loop3():
        for i in range(n):
            ref3[i] = vbm.MultiMag0(y1[i], y2[i])
    t_vbm3 = fastest(loop3, args.repeat)
    rel3 = np.abs(ours3 / ref3 - 1)

    print(json.dumps({
        "n": n, "block": args.block,
        "binary_throughput_ratio_vs_vbm": t_vbm / t_ours,
        "binary_gradient_cost_vs_value": t_grad / t_ours,
        "binary_gradient_ratio_vs_vbm_value_loop": t_vbm / t_grad,
        "binary_median_rel_diff": float(np.median(rel)),
        "binary_p999_rel_diff": float(np.quantile(rel, 0.999)),
        "triple_throughput_ratio_vs_vbm": t_vbm3 / t_ours3,
        "triple_max_rel_diff": float(rel3.max()),
        "seconds": {"binary_lensframe": t_ours, "binary_grad": t_grad, "binary_vbm": t_vbm,
                    "triple_lensframe": t_ours3, "triple_vbm": t_vbm3},
        "device": jax.devices()[0].platform,
    }, indent=1))


if __name__ == "__main__":
    main()
