"""Batched log-density on a CPU: one point at a time (``chunk = 1``, the default) vs vmapped pairs.

``Problem.log_density_batch`` is what pso, emcee and nautilus call. Per point, fastest of 5 calls,
three rounds interleaved, against one jitted single call, on the benchmark mocks of
``benchmarks/likelihood.py`` and (when ``../shared/data/slacs`` is there) one SLACS lens with the
model of ``examples/slacs.toml``. Prints one JSON object; ``chunk2_over_chunk1`` > 1 means the
default is faster.

    .venv/bin/python benchmarks/batch_chunk.py [--lens J0008-0004]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import warnings
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

REPO = Path(__file__).resolve().parent.parent
SLACS = REPO.parent / "shared" / "data" / "slacs"


def mock_case(n, ss, mass, batch):
    from likelihood import batch_of, lensframe_setup, lenstronomy_setup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, image, kernel = lenstronomy_setup(n, ss, mass, "lenstronomy")
    problem, theta = lensframe_setup(n, ss, mass, image, kernel)
    return problem, batch_of(theta, np.random.default_rng(0), batch)


def slacs_case(lens, batch=64):
    from lensframe.problem import Problem

    raw = tomllib.loads((REPO / "examples" / "slacs.toml").read_text())
    options = {k: v for k, v in raw["likelihood"].items() if k != "name"}
    data = {**raw["data"], **{k: str(SLACS / lens / f"{k}.fits") for k in ("image", "noise", "psf")}}
    problem = Problem.build(raw["components"], data, "imaging", options)
    u = jax.random.uniform(jax.random.PRNGKey(0), (batch, problem.dim))
    return problem, jax.vmap(lambda v: problem.from_unit(v, problem.args))(u)


def measure(problem, thetas, rounds=3):
    from likelihood import timed

    args, n = problem.args, thetas.shape[0]
    batched = {c: jax.jit(lambda t, a, c=c: problem.log_density_batch(t, a, c)) for c in (1, 2)}
    single = jax.jit(problem.log_density)
    best = {"chunk1": [], "chunk2": [], "single": []}
    for _ in range(rounds):
        for c, fn in batched.items():
            best[f"chunk{c}"].append(timed(fn, thetas, args, repeat=5)[1] / n)
        best["single"].append(timed(single, thetas[0], args, repeat=20)[1])
    out = {k: round(1e3 * min(v), 3) for k, v in best.items()}
    out = {f"{k}_ms": v for k, v in out.items()}
    out["chunk2_over_chunk1"] = round(out["chunk2_ms"] / out["chunk1_ms"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lens", default="J0008-0004")
    opts = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    cases = {"sie100": lambda: mock_case(100, 2, "SIE", 64),
             "epl100": lambda: mock_case(100, 2, "EPL", 64),
             "epl200ss4": lambda: mock_case(200, 4, "EPL", 16)}
    if (SLACS / opts.lens).is_dir():
        cases[f"slacs {opts.lens}"] = lambda: slacs_case(opts.lens)
    out = {"backend": jax.default_backend(), "cases": {}}
    for name, make in cases.items():
        out["cases"][name] = measure(*make())
        print(name, out["cases"][name], file=sys.stderr, flush=True)
    if len(cases) == 3:
        out["note"] = f"no SLACS case: {SLACS / opts.lens} not found"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
