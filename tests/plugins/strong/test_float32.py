"""float32 mode (``lensframe fit --float32``): the whole imaging likelihood stays in float32 (no
silent promotion back to float64) and loses only float32 round-off against float64.

JAX's x64 switch is global, so each precision is evaluated in its own process by the same script.
The figures on the full benchmark problem come from ``benchmarks/float32.py``."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import jax
    jax.config.update("jax_enable_x64", sys.argv[1] == "float64")
    import numpy as np
    from lensframe.problem import Problem

    def free(**kw):
        return {k: {"prior": "uniform", "low": v - 0.1 * (1 + abs(v)), "high": v + 0.1 * (1 + abs(v))}
                for k, v in kw.items()}

    def evaluate(mass):
        sersic = dict(R_sersic=0.5, n_sersic=2.5, e1=0.05, e2=-0.03, center_x=0.02, center_y=-0.01)
        components = {
            "lens": {"profile": mass, "params": free(
                theta_E=1.0, e1=0.1, e2=-0.05, center_x=0.02, center_y=-0.01,
                **({"gamma": 2.1} if mass == "EPL" else {}))},
            "shear": {"profile": "SHEAR", "params": free(gamma1=0.03, gamma2=-0.02)},
            "lens_light": {"profile": "SERSIC_ELLIPSE", "plane": "lens",
                           "params": {**free(**sersic), "amp": 3.0}},
            "source": {"profile": "SERSIC_ELLIPSE", "plane": "source",
                       "params": {**free(**dict(sersic, R_sersic=0.2, center_x=0.1)), "amp": 10.0}},
        }
        n = 48
        x = np.linspace(-1, 1, 13)
        psf = np.exp(-0.5 * (x[:, None] ** 2 + x[None, :] ** 2) / 0.2 ** 2)
        image = np.random.default_rng(3).normal(scale=0.05, size=(n, n))
        data = {"image": image, "noise": np.full((n, n), 0.05), "psf": psf / psf.sum(),
                "pixel_scale": 0.05}
        problem = Problem.build(components, data, likelihood_options={"supersampling": 2})
        centre = {"lens.gamma": 2.1, "lens.theta_E": 1.0, "lens.e1": 0.1, "lens.e2": -0.05,
                  "shear.gamma1": 0.03, "shear.gamma2": -0.02, "source.center_x": 0.1,
                  "source.R_sersic": 0.2}
        base = {**{f"lens_light.{k}": v for k, v in sersic.items()},
                **{f"source.{k}": v for k, v in sersic.items()},
                "lens.center_x": 0.02, "lens.center_y": -0.01}
        base.update(centre)
        theta = jax.numpy.asarray([base[k] for k in problem.free_names])
        args = problem.args
        value, grad = jax.jit(jax.value_and_grad(problem.log_likelihood))(theta, args)
        model = problem.likelihood.products(problem.values(theta, args), args["data"])["model"]
        return {"value": np.asarray(value), "grad": np.asarray(grad), "model": np.asarray(model),
                "dtypes": np.asarray([str(value.dtype), str(model.dtype)])}

    results = {m: evaluate(m) for m in ("SIE", "EPL")}
    np.savez(sys.argv[2], **{f"{m}_{k}": v for m, r in results.items() for k, v in r.items()})
""")


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    """{precision: {mass: arrays}}, one process per precision, the two running side by side."""
    folder = tmp_path_factory.mktemp("float32")
    paths = {p: folder / f"{p}.npz" for p in ("float64", "float32")}
    running = {p: subprocess.Popen([sys.executable, "-c", SCRIPT, p, str(path)])
               for p, path in paths.items()}
    out = {}
    for precision, path in paths.items():
        assert running[precision].wait() == 0, f"the {precision} evaluation failed"
        with np.load(path) as z:
            out[precision] = {m: {k: z[f"{m}_{k}"] for k in ("value", "grad", "model", "dtypes")}
                              for m in ("SIE", "EPL")}
    return out


@pytest.mark.parametrize("mass", ["SIE", "EPL"])
def test_float32_stays_float32_and_loses_only_round_off(evaluations, mass):
    double, single = evaluations["float64"][mass], evaluations["float32"][mass]
    assert list(single["dtypes"]) == ["float32", "float32"]
    assert list(double["dtypes"]) == ["float64", "float64"]
    assert np.all(np.isfinite(single["grad"])) and np.isfinite(single["value"])
    peak = np.max(np.abs(double["model"]))
    # float32 has 6e-8 relative resolution; sums over 10⁴ pixels and an FFT cost a few decades
    assert np.max(np.abs(single["model"] - double["model"])) <= 2e-5 * peak
    # ln L is a sum of ~2300 χ² terms of order 1: its float32 round-off is ~1e-4 absolute
    assert abs(single["value"] - double["value"]) <= 1e-6 * abs(double["value"]) + 1e-3
    scale = np.max(np.abs(double["grad"]))
    assert np.max(np.abs(single["grad"] - double["grad"])) <= 2e-3 * scale
