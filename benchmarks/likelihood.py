"""One imaging log-likelihood evaluation: lensframe vs lenstronomy vs JAXtronomy, in one run.

The benchmark problem of docs/performance.md (after JAXtronomy's PSO benchmark and TinyLensGpu's
model): N×N pixels at 0.05″, a 13×13 Gaussian PSF (FWHM 0.1″) by FFT, supersampling s, mass SIE
(or EPL with γ = 2.1) + external shear, one elliptical Sérsic lens light and one elliptical Sérsic
source, both amplitudes solved by weighted least squares. The peers are driven through their own
``FittingSequence(...).likelihood_class.logL(args)``. Prints one JSON object: times in ms and the
ratios peer / lensframe (> 1 means lensframe is faster). lensframe's batch is timed twice: a plain
``vmap`` over the whole batch, and ``Problem.log_likelihood_batch`` (chunks of a few ``vmap``ped
points in a ``lax.map``, what its population fitters call).

    .venv/bin/python benchmarks/likelihood.py [--cases sie100,epl100,sie100ss4,epl200ss4]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

PIXEL = 0.05
PSF_SIZE, PSF_FWHM = 13, 0.1
BATCH = 128

MASS = {"theta_E": 1.1, "e1": 0.08, "e2": -0.05, "center_x": 0.02, "center_y": -0.01}
SHEAR = {"gamma1": 0.03, "gamma2": -0.02, "ra_0": 0.0, "dec_0": 0.0}
LENS_LIGHT = {"amp": 10.0, "R_sersic": 0.8, "n_sersic": 3.5, "e1": 0.05, "e2": -0.03,
              "center_x": 0.02, "center_y": -0.01}
SOURCE = {"amp": 15.0, "R_sersic": 0.2, "n_sersic": 1.2, "e1": 0.1, "e2": 0.05,
          "center_x": 0.08, "center_y": 0.05}

# batch: parameter sets per vmapped call; 128 × 640k sub-pixels (200², ss 4) would need tens of GB
CASES = {
    "sie100": dict(n=100, ss=2, mass="SIE", batch=BATCH),
    "epl100": dict(n=100, ss=2, mass="EPL", batch=BATCH),
    "sie100ss4": dict(n=100, ss=4, mass="SIE", batch=BATCH),
    "epl200ss4": dict(n=200, ss=4, mass="EPL", batch=16),
}


def mass_kwargs(mass):
    return dict(MASS, gamma=2.1) if mass == "EPL" else dict(MASS)


def lenstronomy_setup(n, ss, mass, package):
    """Data and likelihood of ``package`` ("lenstronomy" or "jaxtronomy")."""
    from lenstronomy.Util import kernel_util

    kernel = kernel_util.kernel_gaussian(PSF_SIZE, PIXEL, PSF_FWHM)
    origin = -0.5 * PIXEL * (n - 1)
    kwargs_data = {"image_data": np.zeros((n, n)), "ra_at_xy_0": origin, "dec_at_xy_0": origin,
                   "transform_pix2angle": np.eye(2) * PIXEL, "background_rms": 0.05,
                   "noise_map": np.full((n, n), 0.05)}
    kwargs_psf = {"psf_type": "PIXEL", "kernel_point_source": kernel}
    kwargs_numerics = {"supersampling_factor": ss, "supersampling_convolution": False,
                       "convolution_type": "fft"}
    kwargs_model = {"lens_model_list": [mass, "SHEAR"],
                    "lens_light_model_list": ["SERSIC_ELLIPSE"],
                    "source_light_model_list": ["SERSIC_ELLIPSE"]}
    # the image itself, from lenstronomy's forward model, plus noise
    from lenstronomy.Data.imaging_data import ImageData
    from lenstronomy.Data.psf import PSF
    from lenstronomy.ImSim.image_model import ImageModel
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LightModel.light_model import LightModel

    model = ImageModel(ImageData(**kwargs_data), PSF(**kwargs_psf),
                       LensModel([mass, "SHEAR"]), LightModel(["SERSIC_ELLIPSE"]),
                       LightModel(["SERSIC_ELLIPSE"]), kwargs_numerics=kwargs_numerics)
    clean = model.image([mass_kwargs(mass), SHEAR], [SOURCE], [LENS_LIGHT])
    image = clean + np.random.default_rng(1).normal(scale=0.05, size=clean.shape)
    kwargs_data["image_data"] = image

    def block(kwargs, fixed):
        free = {k: v for k, v in kwargs.items() if k not in fixed}
        return [[free], [{k: 0.1 for k in free}], [fixed], [{k: -10.0 for k in free}],
                [{k: 10.0 for k in free}]]

    lens = block(mass_kwargs(mass), {})
    shear = block(SHEAR, {"ra_0": 0.0, "dec_0": 0.0})
    kwargs_params = {
        "lens_model": [lens[i] + shear[i] for i in range(5)],
        "lens_light_model": block({k: v for k, v in LENS_LIGHT.items() if k != "amp"}, {}),
        "source_model": block({k: v for k, v in SOURCE.items() if k != "amp"}, {}),
    }
    joint = {"multi_band_list": [[kwargs_data, kwargs_psf, kwargs_numerics]],
             "multi_band_type": "single-band"}
    if package == "jaxtronomy":
        from jaxtronomy.Workflow.fitting_sequence import FittingSequence
    else:
        from lenstronomy.Workflow.fitting_sequence import FittingSequence
    fs = FittingSequence(joint, kwargs_model, {}, {"check_bounds": False}, kwargs_params,
                         verbose=False)
    init = {k: v[0] for k, v in kwargs_params.items()}
    args = np.asarray(fs.param_class.kwargs2args(kwargs_lens=init["lens_model"],
                                                 kwargs_source=init["source_model"],
                                                 kwargs_lens_light=init["lens_light_model"]))
    return fs.likelihood_class.logL, args, image, kernel


def lensframe_setup(n, ss, mass, image, kernel):
    from lensframe.problem import Problem

    def free(kwargs, skip=()):
        return {k: {"prior": "uniform", "low": v - 0.5, "high": v + 0.5} for k, v in kwargs.items()
                if k not in skip}

    lens_params = free(mass_kwargs(mass))
    lens_params["theta_E"] = {"prior": "uniform", "low": 0.5, "high": 2.0}
    if mass == "EPL":
        lens_params["gamma"] = {"prior": "uniform", "low": 1.5, "high": 2.5}
    sersic = lambda kw: {**free(kw, ("amp", "R_sersic", "n_sersic")), "amp": "linear",  # noqa
                         "R_sersic": {"prior": "uniform", "low": 0.05, "high": 2.0},
                         "n_sersic": {"prior": "uniform", "low": 0.5, "high": 6.0}}
    components = {
        "lens": {"profile": mass, "params": lens_params},
        "shear": {"profile": "SHEAR", "params": free(SHEAR, ("ra_0", "dec_0"))},
        "lens_light": {"profile": "SERSIC_ELLIPSE", "plane": "lens", "params": sersic(LENS_LIGHT)},
        "source": {"profile": "SERSIC_ELLIPSE", "plane": "source", "params": sersic(SOURCE)},
    }
    data = {"image": image, "noise": np.full(image.shape, 0.05), "psf": kernel,
            "pixel_scale": PIXEL}
    problem = Problem.build(components, data, likelihood_options={"supersampling": ss})
    truth = {**{f"lens.{k}": v for k, v in mass_kwargs(mass).items()},
             **{f"shear.{k}": v for k, v in SHEAR.items()},
             **{f"lens_light.{k}": v for k, v in LENS_LIGHT.items()},
             **{f"source.{k}": v for k, v in SOURCE.items()}}
    theta = jnp.asarray([truth[k] for k in problem.free_names])
    return problem, theta


def timed(fn, *args, repeat=30):
    """(first call incl. compilation, fastest of ``repeat`` later calls) in seconds. The minimum,
    not the median: on a shared machine other work only ever adds time."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return first, min(times)


def batch_of(theta, rng, batch, scale=1e-3):
    return theta[None, :] * (1.0 + scale * jnp.asarray(rng.normal(size=(batch, theta.size))))


def run_case(name, n, ss, mass, batch, peers):
    out = {"case": name, "pixels": n, "supersampling": ss, "mass": mass, "batch": batch}
    rng = np.random.default_rng(0)
    lt_logl, lt_args, image, kernel = lenstronomy_setup(n, ss, mass, "lenstronomy")
    problem, theta = lensframe_setup(n, ss, mass, image, kernel)
    args = problem.args
    single = jax.jit(problem.log_likelihood)
    batched = jax.jit(jax.vmap(problem.log_likelihood, in_axes=(0, None)))
    chunked = jax.jit(problem.log_likelihood_batch)  # what lensframe's population fitters call
    vgrad = jax.jit(jax.value_and_grad(problem.log_likelihood))
    thetas = batch_of(theta, rng, batch)
    first, t_single = timed(single, theta, args)
    _, t_batch = timed(batched, thetas, args, repeat=8)
    _, t_chunked = timed(chunked, thetas, args, repeat=8)
    _, t_grad = timed(vgrad, theta, args)
    lf = {"single_ms": 1e3 * t_single, "vmap_per_eval_ms": 1e3 * t_batch / batch,
          "batch_per_eval_ms": 1e3 * t_chunked / batch,
          "value_and_grad_ms": 1e3 * t_grad, "first_call_s": first}
    out["lensframe"] = lf
    if "lenstronomy" in peers:
        _, t_lt = timed(lambda a: lt_logl(a), lt_args, repeat=15)
        out["lenstronomy"] = {"single_ms": 1e3 * t_lt, "logL": float(lt_logl(lt_args))}
        out["lensframe"]["logL"] = float(single(theta, args))
        out["ratio_single_vs_lenstronomy"] = t_lt / t_single
    if "jaxtronomy" in peers:
        jx_logl, jx_args, _, _ = lenstronomy_setup(n, ss, mass, "jaxtronomy")
        jx_args = jnp.asarray(jx_args)
        jx_single = jax.jit(jx_logl)
        jx_batch = jax.jit(jax.vmap(jx_logl))
        jx_grad = jax.jit(jax.value_and_grad(jx_logl))
        jfirst, jt_single = timed(jx_single, jx_args)
        _, jt_batch = timed(jx_batch, batch_of(jx_args, rng, batch), repeat=3)
        _, jt_grad = timed(jx_grad, jx_args, repeat=5)
        out["jaxtronomy"] = {"single_ms": 1e3 * jt_single,
                             "vmap_per_eval_ms": 1e3 * jt_batch / batch,
                             "value_and_grad_ms": 1e3 * jt_grad, "first_call_s": jfirst}
        out["ratio_single_vs_jaxtronomy"] = jt_single / t_single
        out["ratio_vmap_vs_jaxtronomy"] = jt_batch / t_batch
        out["ratio_batch_vs_jaxtronomy_vmap"] = jt_batch / t_chunked
        out["ratio_grad_vs_jaxtronomy"] = jt_grad / t_grad
        out["ratio_compile_vs_jaxtronomy"] = jfirst / first
    out["lensframe_vmap_over_single"] = lf["vmap_per_eval_ms"] / lf["single_ms"]
    out["lensframe_batch_over_single"] = lf["batch_per_eval_ms"] / lf["single_ms"]
    out["lensframe_grad_over_single"] = lf["value_and_grad_ms"] / lf["single_ms"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="sie100,epl100")
    parser.add_argument("--peers", default="lenstronomy,jaxtronomy")
    opts = parser.parse_args()
    from lensframe.registry import get_registry

    known = {s.name for s in get_registry().components("mass")}
    results = {"machine": f"{jax.default_backend()} x{jax.device_count()}, float64",
               "jax": jax.__version__, "cases": []}
    for name in opts.cases.split(","):
        spec = CASES[name]
        if spec["mass"] not in known:
            results["cases"].append({"case": name, "skipped": f"{spec['mass']} not registered"})
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results["cases"].append(run_case(name, **spec, peers=opts.peers.split(",")))
    print(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
