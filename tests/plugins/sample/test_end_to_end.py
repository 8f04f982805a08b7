"""Every fitter by name on the small imaging problem of tests/conftest.py, through the command
line (`lensframe fit CONFIG --fitter NAME --option ...`): the Einstein radius comes out right and
summary.json records the fitter's diagnostics. (The Gaussian-toy tests run every fitter by name
from Python.)"""

import json

import numpy as np
import pytest

from lensframe.cli.main import main

# small but real runs; the posterior of θ_E on this mock is ~0.002″ wide
CASES = {
    "pso": ["n_particles=32", "n_iterations=60", "chunk=30"],
    "emcee": ["n_steps=200", "burn=100", "n_walkers=16"],
    "nuts": ["n_chains=2", "n_warmup=100", "n_samples=100", "chunk=50"],
    "nautilus": ["n_live=100", "n_eff=300", "n_networks=1"],
}


def write_config(tmp_path, tiny_spec, fitter="lbfgs"):
    components, data, truth = tiny_spec()
    np.save(tmp_path / "image.npy", data["image"])
    np.save(tmp_path / "noise.npy", data["noise"])
    lines = ['[data]', 'image = "image.npy"', 'noise = "noise.npy"',
             f'pixel_scale = {data["pixel_scale"]}', '', '[likelihood]', 'name = "imaging"',
             'supersampling = 1', '']
    for name, comp in components.items():
        lines.append(f"[components.{name}]")
        lines += [f'{k} = "{v}"' for k, v in comp.items() if k != "params"]
        for p, v in comp["params"].items():
            if isinstance(v, dict):
                inner = ", ".join(f'{k} = "{x}"' if isinstance(x, str) else f"{k} = {x}"
                                  for k, x in v.items())
                lines.append(f"params.{p} = {{ {inner} }}")
            elif isinstance(v, str):
                lines.append(f'params.{p} = "{v}"')
            else:
                lines.append(f"params.{p} = {v}")
        lines.append("")
    lines += ["[[fit]]", f'fitter = "{fitter}"', "", "[output]", "plots = false"]
    path = tmp_path / "tiny.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, truth


# compiling NUTS' or nautilus' programs for the imaging likelihood takes 20–40 s on a busy 2-core
# machine: emcee (the cheapest) runs by default, all four with -m slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=[] if n == "emcee" else pytest.mark.slow)
                                  for n in CASES])
def test_fitter_runs_from_the_command_line(tmp_path, tiny_spec, name):
    config, truth = write_config(tmp_path, tiny_spec)
    out = tmp_path / "out"
    argv = ["fit", str(config), "--output", str(out), "--quiet", "--fitter", name]
    for option in CASES[name]:
        argv += ["--option", option]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["fitter"] == name
    theta_e = summary["best_fit"]["lens.theta_E"]
    assert abs(theta_e - truth["lens.theta_E"]) < 0.02, theta_e
    d = summary["diagnostics"]
    assert d["interrupted"] is False and d["n_nonfinite"] == 0
    if name != "pso":
        assert summary["n_samples"] > 0
        median = summary["summary"]["lens.theta_E"]["median"]
        assert abs(median - truth["lens.theta_E"]) < 0.02, median
