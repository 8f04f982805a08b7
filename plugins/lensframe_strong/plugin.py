"""Registration of the strong-lensing components: lazy references only, nothing heavy imported.

Profiles come from the catalogue modules (one per profile family, each defining ``PROFILES``)."""

from lensframe import hookimpl

from . import params, params_epl, params_light, params_nfw

CATALOGS = (params, params_epl, params_nfw, params_light)


@hookimpl
def lensframe_register_profiles(registry):
    for catalog in CATALOGS:
        for entry in catalog.PROFILES:
            registry.add(**entry)


@hookimpl
def lensframe_register_likelihoods(registry):
    registry.add("imaging", kind="likelihood", ref="lensframe_strong.imaging:ImagingLikelihood",
                 summary="Pixel image: supersampled ray tracing, PSF by FFT, mask, noise map, "
                         "linear amplitudes")
