"""Compile once: how much of a fit's start-up the on-disk cache saves in a second process.

Runs `lensframe fit examples/sie_mock.toml` twice in fresh processes sharing a new, empty cache
folder and prints one JSON object: compile and run seconds of the cold and the warm process, and
their ratio (the target of the fitter issue: warm compile ≤ 20% of cold).

    .venv/bin/python benchmarks/compile_cache.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fit_once(cache: Path, out: Path) -> dict:
    env = dict(os.environ, LENSFRAME_CACHE_DIR=str(cache))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lensframe.cli", "fit", "examples/sie_mock.toml",
                    "--output", str(out), "--quiet", "--no-plots"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    wall = time.perf_counter() - t0
    prov = json.loads((out / "summary.json").read_text())["provenance"]
    return {"wall_s": round(wall, 2), "compile_s": round(prov["compile_seconds"], 2),
            "run_s": round(prov["run_seconds"], 2), "cache_hit": prov["cache_hit"]}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold = fit_once(tmp / "cache", tmp / "cold")
        warm = fit_once(tmp / "cache", tmp / "warm")
    print(json.dumps({"problem": "examples/sie_mock.toml (64x64, ss 2, SIE+shear, 2 Sersics, "
                                 "lbfgs x8)", "cold": cold, "warm": warm,
                      "warm_over_cold_compile": round(warm["compile_s"] / cold["compile_s"], 3)},
                     indent=2))


if __name__ == "__main__":
    main()
