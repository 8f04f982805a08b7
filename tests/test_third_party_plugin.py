"""A real third-party plugin, end to end: examples/lensframe-cored-plugin is installed with pip into
a temporary folder, found through its entry point by a fresh interpreter, listed by the CLI, passes
its own tests (written with lensframe's pytest fixtures), and fits a mock image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "lensframe-cored-plugin"
DIST = "lensframe-cored-plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(site folder the plugin is installed in, environment for subprocesses that see it)."""
    root = tmp_path_factory.mktemp("cored_plugin")
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    source = root / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    site = root / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-input", "--disable-pip-version-check", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        hint = ""
        if "bdist_wheel" in output:
            hint = ("\nThe test environment cannot build wheels without build isolation: it needs "
                    "setuptools>=70.1 (or an older setuptools plus wheel<0.46). Add "
                    "'setuptools>=70.1' to the 'test' extra of pyproject.toml.\n")
        pytest.fail(f"pip install of {EXAMPLE} failed (exit {proc.returncode}){hint}\n"
                    f"{output[-3000:]}")
    assert (site / "lensframe_cored" / "plugin.py").is_file()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    env["LENSFRAME_CACHE_DIR"] = str(root / "cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop(  # a developer's strict setting must not turn an unrelated plugin's problem into ours
        "LENSFRAME_STRICT_PLUGINS", None)
    return site, source, env


def _run(args, env, cwd=REPO, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def test_installed_distribution_has_the_entry_point(installed):
    site, _, _ = installed
    infos = list(site.glob("lensframe_cored_plugin-*.dist-info"))
    assert len(infos) == 1, sorted(p.name for p in site.iterdir())
    entry_points = (infos[0] / "entry_points.txt").read_text()
    assert "[lensframe]" in entry_points
    assert "lensframe-cored-plugin = lensframe_cored.plugin" in entry_points


def test_cli_lists_the_new_profile(installed):
    _, _, env = installed
    proc = _run([sys.executable, "-m", "lensframe.cli", "list", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert "CORED_ISOTHERMAL" in rows, sorted(rows)
    row = rows["CORED_ISOTHERMAL"]
    assert row["kind"] == "mass"
    assert row["distribution"] == DIST
    assert row["plugin"] == DIST
    assert row["version"] == "0.1.0"
    assert row["status"] == "ok"
    assert row["ref"] == "lensframe_cored.cored:CoredIsothermal"
    # the built-ins are still there, unaffected
    assert rows["SIE"]["distribution"] == "lensframe" and rows["SIE"]["status"] == "ok"

    proc = _run([sys.executable, "-m", "lensframe.cli", "info", "cored_isothermal", "--json"],
                env)
    assert proc.returncode == 0, proc.stderr
    [info] = json.loads(proc.stdout)
    params = {p["name"]: p for p in info["params"]}
    assert list(params) == ["theta_E", "r_core", "center_x", "center_y"]
    assert params["r_core"]["default"] == 0.1 and params["r_core"]["unit"] == "arcsec"
    assert params["theta_E"]["default"] is None and params["theta_E"]["lower"] == 0.0
    assert "Hinshaw" in info["reference"]


def test_discovery_imports_no_jax(installed):
    """The plugin's registration module and parameter table are light, as a plugin's must be."""
    _, _, env = installed
    script = textwrap.dedent("""
        import sys
        from lensframe.registry import get_registry
        registry = get_registry()
        spec = registry.get("CORED_ISOTHERMAL", "profile")
        assert spec.distribution == "lensframe-cored-plugin", spec
        heavy = sorted(m for m in sys.modules if m == "jax" or m.startswith("jax."))
        assert not heavy, heavy
        assert "lensframe_cored.plugin" in sys.modules
        assert "lensframe_cored.cored" not in sys.modules
        print("ok")
    """)
    proc = _run([sys.executable, "-c", script], env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def test_plugin_own_test_suite_passes(installed):
    """The plugin's tests use the lensframe pytest fixtures (pytest11 entry point) from outside."""
    _, source, env = installed
    proc = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], env,
                cwd=source, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout, proc.stdout[-2000:]


FIT_SCRIPT = """
import json
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
from lensframe import Fitter, Problem

N, SCALE, SIGMA = 24, 0.1, 0.05
TRUTH = {"theta_E": 0.7, "r_core": 0.1, "R_sersic": 0.2, "center_x": 0.05, "center_y": -0.04}


def components(lens, source):
    return {
        "lens": {"profile": "cored_isothermal", "params": lens},  # lower case on purpose
        "source": {"profile": "SERSIC_ELLIPSE", "plane": "source",
                   "params": {"amp": "linear", "n_sersic": 1.0, **source}},
    }


# the mock: the same model at known parameters, plus Gaussian noise of constant sigma
lens = {k: TRUTH[k] for k in ("theta_E", "r_core")}
source = {k: TRUTH[k] for k in ("R_sersic", "center_x", "center_y")}
blank = {"image": np.zeros((N, N)), "noise": SIGMA, "pixel_scale": SCALE}
exact = Problem.build(components(lens, {**source, "amp": 100.0}), blank,
                      likelihood_options={"supersampling": 1})
values = exact.values(np.zeros(0), exact.args)
model = np.asarray(exact.likelihood.products(values, exact.args["data"])["model"])
assert model.max() > 50 * SIGMA, model.max()
image = model + np.random.default_rng(1).normal(scale=SIGMA, size=model.shape)

problem = Problem.build(
    components({"theta_E": {"prior": "uniform", "low": 0.4, "high": 1.0},
                "r_core": {"prior": "uniform", "low": 0.02, "high": 0.3}},
               {"R_sersic": {"prior": "loguniform", "low": 0.05, "high": 0.5},
                "center_x": {"prior": "uniform", "low": -0.2, "high": 0.2},
                "center_y": {"prior": "uniform", "low": -0.2, "high": 0.2}}),
    {"image": image, "noise": np.full((N, N), SIGMA), "pixel_scale": SCALE},
    likelihood="imaging", likelihood_options={"supersampling": 1})
result = Fitter(problem, quiet=True).run("lbfgs", n_starts=2, max_steps=60)
print(json.dumps({"free": list(problem.free_names), "best": result.best_fit,
                  "converged": result.diagnostics["converged"],
                  "components": result.provenance["components"]}))
"""


def test_fit_with_the_plugin_profile(installed, tmp_path):
    _, _, env = installed
    script = tmp_path / "fit_cored.py"
    script.write_text(FIT_SCRIPT)
    proc = _run([sys.executable, str(script)], env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["free"] == ["lens.theta_E", "lens.r_core", "source.R_sersic", "source.center_x",
                           "source.center_y"]
    best = out["best"]
    assert best["lens.theta_E"] == pytest.approx(0.7, rel=0.02), best
    assert best["lens.r_core"] == pytest.approx(0.1, rel=0.2), best
    assert best["source.center_x"] == pytest.approx(0.05, abs=0.01), best
    assert out["converged"], out
    # provenance records the registered (canonical) name and the plugin's version
    assert out["components"]["lens"] == {"profile": "CORED_ISOTHERMAL", "version": "0.1.0"}
