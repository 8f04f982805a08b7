"""Registration of the strong-lensing components: lazy references only, nothing heavy imported."""

from lensframe import hookimpl

from . import params

_MOD = "lensframe_strong"


@hookimpl
def lensframe_register_profiles(registry):
    registry.add("SIS", kind="mass", ref=f"{_MOD}.isothermal:SIS", params=params.SIS,
                 summary="Singular isothermal sphere")
    registry.add("SIE", kind="mass", ref=f"{_MOD}.isothermal:SIE", params=params.SIE,
                 summary="Singular isothermal ellipsoid (Kormann et al. 1994), lenstronomy θ_E")
    registry.add("SHEAR", kind="mass", ref=f"{_MOD}.shear:Shear", params=params.SHEAR,
                 summary="External shear (γ1, γ2) about (ra_0, dec_0)")
    registry.add("SERSIC_ELLIPSE", kind="light", ref=f"{_MOD}.sersic:SersicEllipse",
                 params=params.SERSIC_ELLIPSE,
                 summary="Elliptical Sérsic surface brightness (Sérsic 1963), lenstronomy axes")


@hookimpl
def lensframe_register_likelihoods(registry):
    registry.add("imaging", kind="likelihood", ref=f"{_MOD}.imaging:ImagingLikelihood",
                 summary="Pixel image: supersampled ray tracing, PSF by FFT, mask, noise map, "
                         "linear amplitudes")
