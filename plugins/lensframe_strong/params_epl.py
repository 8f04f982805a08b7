"""Catalogue of the power-law mass profiles (EPL and its multipoles); no JAX import.

Names and meanings follow lenstronomy's ``EPL`` (docs/conventions.md): κ = (3−γ)/2 ·
(θ_E / √(q x'² + y'²/q))^(γ−1), γ the 3D logarithmic slope (2 = isothermal), θ_E the circularised
Einstein radius; centre and ellipticity are the same ParamSpecs as every other elliptical profile.
"""

from lensframe.params import ParamSpec

from .params import CENTER, ELLIPTICITY, THETA_E

GAMMA = ParamSpec(
    "gamma", "dimensionless",
    "3D power-law slope, κ ∝ R^(1−γ) (2 = isothermal; 1: uniform sheet; 3: point-mass limit, "
    "κ = 0 off the centre and ψ infinite)",
    lower=1.0, upper=3.0,
)

EPL = (THETA_E, GAMMA, *ELLIPTICITY, *CENTER)
# lenstronomy's EPL_MULTIPOLE_M3M4: amplitudes in units of θ_E/√q, angles relative to the EPL's
# major axis; 0 (the default) leaves the plain EPL
EPL_MULTIPOLE_M3M4 = (
    *EPL,
    ParamSpec("a3_a", "dimensionless", "m = 3 multipole amplitude a_3 / (θ_E/√q)", default=0.0),
    ParamSpec("delta_phi_m3", "rad", "m = 3 orientation relative to the major axis", default=0.0),
    ParamSpec("a4_a", "dimensionless", "m = 4 multipole amplitude a_4 / (θ_E/√q)", default=0.0),
    ParamSpec("delta_phi_m4", "rad", "m = 4 orientation relative to the major axis", default=0.0),
)

_MOD = "lensframe_strong"

PROFILES = (
    dict(name="EPL", kind="mass", ref=f"{_MOD}.epl:EPL", params=EPL,
         summary="Elliptical power law (Tessore & Metcalf 2015), lenstronomy θ_E and γ; "
                 "fixed-cost Padé form of the hypergeometric series, |Δα|/|α| < 1e-11 for q ≥ 0.2"),
    dict(name="EPL_MULTIPOLE_M3M4", kind="mass", ref=f"{_MOD}.epl:EPLMultipoleM3M4",
         params=EPL_MULTIPOLE_M3M4,
         summary="EPL + circular isothermal m = 3, 4 multipoles "
                 "(lenstronomy's EPL_MULTIPOLE_M3M4)"),
)
