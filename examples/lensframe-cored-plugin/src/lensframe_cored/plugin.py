"""Registration of this plugin's components.

lensframe imports this module (named in the ``lensframe`` entry-point group of pyproject.toml) to
discover the plugin, for every ``lensframe list`` too, so it imports only light modules: lensframe's
hook marker and the parameter table. The implementation is named by a lazy ``"module:Object"``
reference and imported only when a model uses the profile.
"""

from lensframe import hookimpl

from . import params


@hookimpl
def lensframe_register_profiles(registry):
    registry.add(
        "CORED_ISOTHERMAL",
        kind="mass",
        ref="lensframe_cored.cored:CoredIsothermal",
        params=params.CORED_ISOTHERMAL,
        summary="Cored (softened) isothermal sphere, κ = θ_E / (2√(r² + r_core²))",
    )
