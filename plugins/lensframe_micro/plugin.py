"""Registration of the microlensing profiles and the light-curve likelihood (lazy references)."""

from lensframe import hookimpl

from . import params, params_trajectory


@hookimpl
def lensframe_register_profiles(registry):
    for entry in params.PROFILES:  # the lens profiles (M1)
        registry.add(**entry)
    for entry in params_trajectory.PROFILES:  # the light curve's trajectory (M3)
        registry.add(**entry)


@hookimpl
def lensframe_register_likelihoods(registry):
    registry.add("lightcurve", kind="likelihood",
                 ref="lensframe_micro.lightcurve:LightCurveLikelihood",
                 summary="Microlensing photometry: any number of data sets, source and blend "
                         "fluxes solved per data set, optional error rescaling")
