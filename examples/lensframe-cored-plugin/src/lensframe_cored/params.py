"""Parameter table of CORED_ISOTHERMAL.

Pure Python (no JAX): ``lensframe list`` and ``lensframe info`` read it through the registration in
:mod:`lensframe_cored.plugin`, and the implementation in :mod:`lensframe_cored.cored` uses the very
same tuple, so the documented parameters and the code cannot drift apart. Names and units follow
lensframe's (lenstronomy's) conventions.
"""

from lensframe.params import ParamSpec

CORED_ISOTHERMAL = (
    ParamSpec("theta_E", "arcsec", "Einstein-radius scale b of κ = b / (2 √(r² + r_core²))",
              lower=0.0),
    ParamSpec("r_core", "arcsec", "core radius", default=0.1, lower=0.0),
    ParamSpec("center_x", "arcsec", "x of the profile centre (x to the right)", default=0.0),
    ParamSpec("center_y", "arcsec", "y of the profile centre (y up)", default=0.0),
)
