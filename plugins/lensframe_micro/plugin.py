"""Registration of the microlensing profiles and the light-curve likelihood (lazy references)."""

from lensframe import hookimpl


@hookimpl
def lensframe_register_profiles(registry):
    pass
