"""Parameter tables of this plugin's profiles (no JAX import: read by ``lensframe list``/``info``
and by the implementations alike). Names and units follow lenstronomy (docs/conventions.md).

Each profile family has a catalogue module like this one, ending in ``PROFILES``: the entries that
``plugin.py`` registers (name, kind, lazy reference, parameters, one-line summary)."""

from lensframe.params import ParamSpec

CENTER = (
    ParamSpec("center_x", "arcsec", "x of the profile centre (x to the right)", default=0.0),
    ParamSpec("center_y", "arcsec", "y of the profile centre (y up)", default=0.0),
)
ELLIPTICITY = (
    ParamSpec("e1", "dimensionless", "ellipticity (1-q)/(1+q) cos 2φ", default=0.0,
              lower=-1.0, upper=1.0),
    ParamSpec("e2", "dimensionless", "ellipticity (1-q)/(1+q) sin 2φ", default=0.0,
              lower=-1.0, upper=1.0),
)
THETA_E = ParamSpec("theta_E", "arcsec", "Einstein radius (circularised, product-average)",
                    lower=0.0)

SIS = (THETA_E, *CENTER)
SIE = (THETA_E, *ELLIPTICITY, *CENTER)
SHEAR = (
    ParamSpec("gamma1", "dimensionless", "external shear γ cos 2ψ"),
    ParamSpec("gamma2", "dimensionless", "external shear γ sin 2ψ"),
    ParamSpec("ra_0", "arcsec", "x of the shear origin", default=0.0),
    ParamSpec("dec_0", "arcsec", "y of the shear origin", default=0.0),
)
SERSIC_ELLIPSE = (
    ParamSpec("amp", "flux/arcsec²", "surface brightness at R_sersic", default=1.0, linear=True),
    ParamSpec("R_sersic", "arcsec", "half-light radius (product-average of the axes)", lower=0.0),
    ParamSpec("n_sersic", "dimensionless", "Sérsic index", lower=0.2, upper=10.0),
    *ELLIPTICITY,
    *CENTER,
)


_MOD = "lensframe_strong"

PROFILES = (
    dict(name="SIS", kind="mass", ref=f"{_MOD}.isothermal:SIS", params=SIS,
         summary="Singular isothermal sphere"),
    dict(name="SIE", kind="mass", ref=f"{_MOD}.isothermal:SIE", params=SIE,
         summary="Singular isothermal ellipsoid (Kormann et al. 1994), lenstronomy θ_E"),
    dict(name="SHEAR", kind="mass", ref=f"{_MOD}.shear:Shear", params=SHEAR,
         summary="External shear (γ1, γ2) about (ra_0, dec_0)"),
    dict(name="SERSIC_ELLIPSE", kind="light", ref=f"{_MOD}.sersic:SersicEllipse",
         params=SERSIC_ELLIPSE,
         summary="Elliptical Sérsic surface brightness (Sérsic 1963), lenstronomy axes"),
)
