"""Mock strong lenses simulated by lenstronomy (an independent code) for the proof tests.

Each seed draws its own truth (SIE + external shear, elliptical Sérsic lens light centred on the
lens, elliptical Sérsic source) and noise: background σ plus Poisson noise of an exposure, as a
telescope image has. The image is lenstronomy's ``ImageModel`` with sub-pixel sampling and a
Gaussian PSF; lensframe never sees the simulation code, only the image, noise map and PSF.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

PIXEL_SCALE = 0.08      # arcsec
PSF_FWHM = 0.16         # arcsec
PSF_SIZE = 9            # pixels
SUPERSAMPLING = 2
# the noise of examples/sie_mock: the posterior of θ_E on these mocks is ~0.5 % wide (1σ)
BACKGROUND_RMS = 0.05   # counts / s / pixel
EXPOSURE_TIME = 1000.0  # s


@dataclass
class Mock:
    seed: int
    image: np.ndarray
    noise: np.ndarray
    psf: np.ndarray
    truth: dict          # "component.param" -> value, lensframe's names


def draw_truth(rng) -> dict:
    u = rng.uniform
    cx, cy = u(-0.05, 0.05), u(-0.05, 0.05)
    return {
        "lens": {"theta_E": u(0.9, 1.25), "e1": u(-0.1, 0.1), "e2": u(-0.1, 0.1),
                 "center_x": cx, "center_y": cy},
        "shear": {"gamma1": u(-0.04, 0.04), "gamma2": u(-0.04, 0.04)},
        "lens_light": {"amp": 8.0, "R_sersic": u(0.6, 0.9), "n_sersic": u(2.5, 4.0),
                       "e1": u(-0.08, 0.08), "e2": u(-0.08, 0.08), "center_x": cx,
                       "center_y": cy},
        "source": {"amp": 14.0, "R_sersic": u(0.15, 0.3), "n_sersic": u(1.0, 2.0),
                   "e1": u(-0.15, 0.15), "e2": u(-0.15, 0.15), "center_x": u(-0.15, 0.15),
                   "center_y": u(-0.15, 0.15)},
    }


def lenstronomy_image(truth: dict, n_pix: int):
    """(noise-free image, PSF kernel) of the model ``truth`` ({"component.param": value}) by
    lenstronomy's ``ImageModel``."""
    from lenstronomy.Data.imaging_data import ImageData
    from lenstronomy.Data.psf import PSF
    from lenstronomy.ImSim.image_model import ImageModel
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LightModel.light_model import LightModel
    from lenstronomy.Util import kernel_util

    nested: dict = {"lens": {}, "shear": {"ra_0": 0.0, "dec_0": 0.0}, "lens_light": {},
                    "source": {}}
    for key, value in truth.items():
        component, param = key.split(".", 1)
        nested[component][param] = value
    origin = -0.5 * PIXEL_SCALE * (n_pix - 1)
    data = ImageData(image_data=np.zeros((n_pix, n_pix)), ra_at_xy_0=origin, dec_at_xy_0=origin,
                     transform_pix2angle=np.eye(2) * PIXEL_SCALE)
    kernel = kernel_util.kernel_gaussian(PSF_SIZE, PIXEL_SCALE, PSF_FWHM)
    model = ImageModel(data, PSF(psf_type="PIXEL", kernel_point_source=kernel),
                       lens_model_class=LensModel(["SIE", "SHEAR"]),
                       source_model_class=LightModel(["SERSIC_ELLIPSE"]),
                       lens_light_model_class=LightModel(["SERSIC_ELLIPSE"]),
                       kwargs_numerics={"supersampling_factor": SUPERSAMPLING,
                                        "supersampling_convolution": False})
    image = model.image([nested["lens"], nested["shear"]], [nested["source"]],
                        [nested["lens_light"]])
    return image, kernel


# 64 × 64 at 0.08″ with a 9 × 9 PSF and supersampling 2: the shape and model of
# examples/sie_mock.toml, so in one pytest session the fit programs compiled for the example
# serve the proof fits too
N_PIX = 64


@functools.lru_cache(maxsize=None)
def mock(seed: int) -> Mock:
    """The proof mock of ``seed`` (N_PIX a side), simulated once per process."""
    return simulate(seed, N_PIX)


def simulate(seed: int, n_pix: int) -> Mock:
    rng = np.random.default_rng(seed)
    truth = {f"{c}.{p}": float(v) for c, params in draw_truth(rng).items()
             for p, v in params.items()}
    clean, kernel = lenstronomy_image(truth, n_pix)
    sigma = np.sqrt(BACKGROUND_RMS ** 2 + np.clip(clean, 0, None) / EXPOSURE_TIME)
    image = clean + rng.normal(size=clean.shape) * sigma
    return Mock(seed, image, sigma, kernel, truth)


def lensframe_problem(mock: Mock, free_light: bool = True):
    """The lensframe model of a mock: broad priors (θ_E uniform in [0.5, 2]″, lens centre normal
    σ = 0.1″ around the origin, ...), both amplitudes linear, the lens light centred on the mass.
    With ``free_light=False`` the light profiles' shapes are fixed at the truth (a smaller problem:
    mass and shear only)."""
    from lensframe.problem import Problem

    def uniform(lo, hi):
        return {"prior": "uniform", "low": lo, "high": hi}

    t = mock.truth

    def light(name, r_range, n_range, e_max, centre):
        if not free_light:
            shape = {p: t[f"{name}.{p}"] for p in ("R_sersic", "n_sersic", "e1", "e2")}
            if centre is None:
                shape.update(center_x=t[f"{name}.center_x"], center_y=t[f"{name}.center_y"])
        else:
            shape = {"R_sersic": {"prior": "loguniform", "low": r_range[0], "high": r_range[1]},
                     "n_sersic": uniform(*n_range), "e1": uniform(-e_max, e_max),
                     "e2": uniform(-e_max, e_max)}
            if centre is None:
                shape.update(center_x=uniform(-0.5, 0.5), center_y=uniform(-0.5, 0.5))
        if centre is not None:
            shape.update(center_x={"link": f"{centre}.center_x"},
                         center_y={"link": f"{centre}.center_y"})
        return {"amp": "linear", **shape}

    components = {
        "lens": {"profile": "SIE", "params": {
            "theta_E": uniform(0.5, 2.0), "e1": uniform(-0.3, 0.3), "e2": uniform(-0.3, 0.3),
            "center_x": {"prior": "normal", "mu": 0.0, "sigma": 0.1},
            "center_y": {"prior": "normal", "mu": 0.0, "sigma": 0.1}}},
        "shear": {"profile": "SHEAR", "params": {"gamma1": uniform(-0.15, 0.15),
                                                 "gamma2": uniform(-0.15, 0.15)}},
        "lens_light": {"profile": "SERSIC_ELLIPSE", "plane": "lens",
                       "params": light("lens_light", (0.2, 3.0), (1.0, 6.0), 0.3, "lens")},
        "source": {"profile": "SERSIC_ELLIPSE", "plane": "source",
                   "params": light("source", (0.05, 1.0), (0.5, 4.0), 0.4, None)},
    }
    data = {"image": mock.image, "noise": mock.noise, "psf": mock.psf,
            "pixel_scale": PIXEL_SCALE}
    return Problem.build(components, data,
                         likelihood_options={"supersampling": SUPERSAMPLING})
