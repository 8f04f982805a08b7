"""A tiny synthetic survey on disk: lens subfolders with image.fits / noise.fits, and a batch
config that fits them (SIS + Sérsic source, the ``tiny_imaging_spec`` model, 20×20 pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

MODEL = """
seed = 0

[data]
pixel_scale = 0.1

[likelihood]
name = "imaging"
supersampling = 1

[components.lens]
profile = "SIS"
params.theta_E = {{ prior = "uniform", low = 0.3, high = 1.0 }}

[components.source]
profile = "SERSIC_ELLIPSE"
plane = "source"
params.amp = "linear"
params.n_sersic = 1.0
params.R_sersic = {{ prior = "loguniform", low = 0.05, high = 0.5 }}
params.center_x = {{ prior = "uniform", low = -0.3, high = 0.3 }}
params.center_y = {{ prior = "uniform", low = -0.3, high = 0.3 }}

[[fit]]
fitter = "lbfgs"
n_starts = {n_starts}
max_steps = {max_steps}
gtol = {gtol}
ftol = {ftol}

[batch]
folder = "lenses"
image = "{{name}}/image.fits"
noise = "{{name}}/noise.fits"
shape = [20, 20]
workers = {workers}
retries = {retries}
figures = {figures}
"""


def write_fits(path: Path, array) -> None:
    from astropy.io import fits

    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(np.asarray(array, dtype=np.float32)).writeto(path, overwrite=True)


def make_survey(spec, root: Path, n: int, *, n_starts=1, max_steps=60, gtol=1e-5, ftol=1e-9,
                workers=2, retries=2, figures=False) -> tuple[Path, dict]:
    """``n`` lenses ``lens00``… under ``root/lenses`` and ``root/batch.toml``; returns the config
    path and each lens's true θ_E (the lenses differ: θ_E from 0.45 to 0.8). Figures are off by
    default: drawing them costs more than fitting these lenses."""
    truths = {}
    for i in range(n):
        name = f"lens{i:02d}"
        theta_e = 0.45 + 0.35 * i / max(n - 1, 1)
        components, data, truth = _spec_with_theta(spec, theta_e, seed=i)
        write_fits(root / "lenses" / name / "image.fits", data["image"])
        write_fits(root / "lenses" / name / "noise.fits", data["noise"])
        truths[name] = truth["lens.theta_E"]
    config = root / "batch.toml"
    config.write_text(MODEL.format(n_starts=n_starts, max_steps=max_steps, gtol=gtol, ftol=ftol,
                                   workers=workers, retries=retries,
                                   figures=str(figures).lower()))
    return config, truths


def _spec_with_theta(spec, theta_e: float, seed: int):
    """tiny_imaging_spec's model with another Einstein radius, simulated by the model itself."""
    from lensframe.problem import Problem

    components, data, truth = spec(seed=seed)
    truth = {**truth, "lens.theta_E": theta_e}
    fixed = {"lens": {"profile": "SIS", "params": {"theta_E": theta_e}},
             "source": {"profile": "SERSIC_ELLIPSE", "plane": "source",
                        "params": {"n_sersic": 1.0, **{k.split(".")[1]: v for k, v in
                                                       truth.items() if k.startswith("source.")}}}}
    blank = {**data, "image": np.zeros_like(data["image"])}
    exact = Problem.build(fixed, blank, likelihood_options={"supersampling": 1})
    values = exact.values(np.zeros(0), exact.args)
    clean = np.asarray(exact.likelihood.products(values, exact.args["data"])["model"])
    noise = data["noise"]
    image = clean + np.random.default_rng(100 + seed).normal(scale=noise)
    return components, {**data, "image": image}, truth


@pytest.fixture
def survey(tmp_path, tiny_spec):
    """``survey(n, **fit_settings)`` → (config path, {lens: true θ_E}), in ``tmp_path``."""
    return lambda n, **kw: make_survey(tiny_spec, tmp_path, n, **kw)


@pytest.fixture
def fits_writer():
    """``fits_writer(path, array)``: write a float32 FITS image (making folders)."""
    return write_fits
