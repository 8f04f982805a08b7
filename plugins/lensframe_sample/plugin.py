"""Registration of the samplers (lazy references)."""

from lensframe import hookimpl


@hookimpl
def lensframe_register_fitters(registry):
    pass
