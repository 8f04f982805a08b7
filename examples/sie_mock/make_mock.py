"""Make the small mock lens used by ``examples/sie_mock.toml`` (deterministic: fixed seed).

The image is simulated with lenstronomy, an independent code, so the demo fit also checks that
lensframe's conventions agree with lenstronomy's. Run from anywhere:

    pip install lenstronomy      # (already in lensframe's test extras)
    python examples/sie_mock/make_mock.py

Writes ``sie_mock.fits`` (extensions IMAGE, NOISE, PSF) and ``truth.json`` beside this script.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from astropy.io import fits
from lenstronomy.Data.imaging_data import ImageData
from lenstronomy.Data.psf import PSF
from lenstronomy.ImSim.image_model import ImageModel
from lenstronomy.LensModel.lens_model import LensModel
from lenstronomy.LightModel.light_model import LightModel
from lenstronomy.Util import kernel_util

HERE = Path(__file__).resolve().parent
SEED = 20261122
N_PIX = 64
PIXEL_SCALE = 0.08  # arcsec
PSF_FWHM = 0.16  # arcsec, Gaussian
PSF_SIZE = 9  # pixels
SUPERSAMPLING = 2
BACKGROUND_RMS = 0.05  # counts/s per pixel
EXPOSURE_TIME = 1000.0  # s

TRUTH = {
    "lens": {"theta_E": 1.12, "e1": 0.09, "e2": -0.04, "center_x": 0.03, "center_y": -0.02},
    "shear": {"gamma1": 0.035, "gamma2": -0.015},
    "lens_light": {"amp": 8.0, "R_sersic": 0.75, "n_sersic": 3.5, "e1": 0.06, "e2": -0.03,
                   "center_x": 0.03, "center_y": -0.02},
    "source": {"amp": 12.0, "R_sersic": 0.22, "n_sersic": 1.3, "e1": 0.12, "e2": 0.06,
               "center_x": 0.10, "center_y": 0.07},
}


def simulate():
    origin = -0.5 * PIXEL_SCALE * (N_PIX - 1)
    data = ImageData(image_data=np.zeros((N_PIX, N_PIX)), ra_at_xy_0=origin, dec_at_xy_0=origin,
                     transform_pix2angle=np.eye(2) * PIXEL_SCALE)
    kernel = kernel_util.kernel_gaussian(PSF_SIZE, PIXEL_SCALE, PSF_FWHM)
    psf = PSF(psf_type="PIXEL", kernel_point_source=kernel)
    model = ImageModel(data, psf, lens_model_class=LensModel(["SIE", "SHEAR"]),
                       source_model_class=LightModel(["SERSIC_ELLIPSE"]),
                       lens_light_model_class=LightModel(["SERSIC_ELLIPSE"]),
                       kwargs_numerics={"supersampling_factor": SUPERSAMPLING,
                                        "supersampling_convolution": False})
    shear = dict(TRUTH["shear"], ra_0=0.0, dec_0=0.0)
    clean = model.image([TRUTH["lens"], shear], [TRUTH["source"]], [TRUTH["lens_light"]])
    rng = np.random.default_rng(SEED)
    variance = BACKGROUND_RMS**2 + np.clip(clean, 0, None) / EXPOSURE_TIME
    noisy = clean + rng.normal(size=clean.shape) * np.sqrt(variance)
    return noisy, np.sqrt(variance), kernel


def main() -> None:
    image, noise, kernel = simulate()
    hdus = fits.HDUList([
        fits.PrimaryHDU(),
        fits.ImageHDU(image.astype(np.float64), name="IMAGE"),
        fits.ImageHDU(noise.astype(np.float64), name="NOISE"),
        fits.ImageHDU(kernel.astype(np.float64), name="PSF"),
    ])
    hdus[1].header["PIXSCALE"] = (PIXEL_SCALE, "arcsec per pixel")
    hdus[1].header["SEED"] = (SEED, "numpy default_rng seed of the noise")
    hdus.writeto(HERE / "sie_mock.fits", overwrite=True)
    truth = {f"{c}.{p}": v for c, params in TRUTH.items() for p, v in params.items()}
    (HERE / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(f"wrote {HERE / 'sie_mock.fits'} and truth.json; peak S/N "
          f"{np.max(image / noise):.0f}")


if __name__ == "__main__":
    main()
