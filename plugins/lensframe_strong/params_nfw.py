"""Catalogue of the NFW family, the convergence sheet and polar shear; no JAX import.

Names, units and meanings are lenstronomy's (NFW, NFW_ELLIPSE_CSE, CONVERGENCE, SHEAR_GAMMA_PSI).

Ranges. ``Rs`` > 0 (the profile divides by it). ``alpha_Rs`` ≥ 0, as lenstronomy's default lower
limit: a halo has positive mass, and a sampler given a symmetric prior would otherwise cross into
negative-mass halos; the kernels themselves are linear in alpha_Rs and accept either sign, so a
negative-mass perturbation can still be built by calling them directly. ``kappa`` (a mass sheet,
e.g. the external convergence) may take either sign. ``gamma_ext`` ≥ 0 (its sign is redundant with
psi_ext → psi_ext + π/2); ``psi_ext`` in radians is periodic with period π and left unbounded.
"""

from lensframe.params import ParamSpec

from .params import CENTER, ELLIPTICITY, SHEAR

RS = ParamSpec("Rs", "arcsec", "NFW scale radius (angle on the sky)", lower=0.0)
ALPHA_RS = ParamSpec("alpha_Rs", "arcsec", "deflection angle at projected radius Rs", lower=0.0)

NFW = (RS, ALPHA_RS, *CENTER)
NFW_ELLIPSE_CSE = (RS, ALPHA_RS, *ELLIPTICITY, *CENTER)
CONVERGENCE = (
    ParamSpec("kappa", "dimensionless", "convergence of the mass sheet"),
    ParamSpec("ra_0", "arcsec", "x of the origin (zero deflection and potential)", default=0.0),
    ParamSpec("dec_0", "arcsec", "y of the origin (zero deflection and potential)", default=0.0),
)
SHEAR_GAMMA_PSI = (
    ParamSpec("gamma_ext", "dimensionless", "external shear strength γ", lower=0.0),
    ParamSpec("psi_ext", "rad", "shear angle ψ: γ1 = γ cos 2ψ, γ2 = γ sin 2ψ"),
    *SHEAR[2:],  # ra_0, dec_0: the shear origin
)

_MOD = "lensframe_strong"

PROFILES = (
    dict(name="NFW", kind="mass", ref=f"{_MOD}.nfw:NFW", params=NFW,
         summary="Spherical NFW (Wright & Brainerd 2000), lenstronomy Rs, alpha_Rs"),
    dict(name="NFW_ELLIPSE_CSE", kind="mass", ref=f"{_MOD}.nfw:NFWEllipseCSE",
         params=NFW_ELLIPSE_CSE,
         summary="Elliptical NFW in the convergence, 44 cored steep ellipsoids (Oguri 2021)"),
    dict(name="CONVERGENCE", kind="mass", ref=f"{_MOD}.sheet:Convergence", params=CONVERGENCE,
         summary="Uniform mass sheet κ, ψ = κ r²/2 about (ra_0, dec_0)"),
    dict(name="SHEAR_GAMMA_PSI", kind="mass", ref=f"{_MOD}.sheet:ShearGammaPsi",
         params=SHEAR_GAMMA_PSI,
         summary="External shear in polar form (gamma_ext, psi_ext) about (ra_0, dec_0)"),
)
