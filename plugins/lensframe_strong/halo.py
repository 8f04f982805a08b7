"""Physical NFW halos → lensing parameters (Rs, alpha_Rs) of NFW / NFW_ELLIPSE_CSE.

Parameterisation. A halo of mass M200 (solar masses, physical, no h: the mass inside r200, where the
mean density is 200 ρ_crit(z_lens)) and concentration c = r200 / r_s, at redshift z_lens, lensing a
source at z_source in a given cosmology. With D_d the angular-diameter distance to the lens (Mpc),
Σ_crit = c_light² D_s / (4π G D_d D_ds) (M_sun/Mpc²) and m(c) = ln(1 + c) − c/(1 + c):

    r200 = (3 M200 / (800 π ρ_crit))^{1/3},   r_s = r200 / c,   ρ0 = (200/3) ρ_crit c³ / m(c),
    Rs = r_s / D_d,   alpha_Rs = 4 ρ0 r_s² (1 − ln 2) / (Σ_crit D_d)   (both converted to arcsec),

i.e. the deflection of the projected NFW at projected radius r_s (the NFW profile's alpha_Rs). This
is lenstronomy's ``LensCosmo(z_lens, z_source, cosmo).nfw_physical2angle(M, c)``.

Concentration. Either given, or from the mass–concentration relation of Duffy et al. (2008, MNRAS
390, L64), Table 1, NFW fits to the full sample, 0 < z < 2, Δ = 200 ρ_crit:
c200 = A (M200 / M_pivot)^B (1 + z)^C with A = 5.71, B = −0.084, C = −0.47, M_pivot = 2e12 h⁻¹ M_sun
(other rows of the table through A, B, C). (A JAX Ludlow et al. 2016 relation, as in PyAutoGalaxy's
study, needs a power spectrum and growth factor; it is not provided here.)

What is compiled and what is not. The distances, ρ_crit(z_lens) and Σ_crit are computed once with
astropy on the host (``LensDistances.from_cosmology``), outside the compiled path: they depend on
the redshifts and the cosmology only, which are fixed in a lens model. The conversion from
(M200, c, those numbers) to (Rs, alpha_Rs), and the Duffy relation, are pure JAX, so they ``jit``,
``vmap`` and differentiate with respect to M200 and c (and to the distances, if a caller passes
traced values). Constants are astropy's (CODATA G, IAU nominal M_sun); lenstronomy hard-codes older
ones (G = 6.67384e-11, M_sun = 1.9891e30 kg, ρ_crit,0 = 2.77536627e11 h² M_sun/Mpc³), so the two
agree to ~1e-3, and to round-off when given the same distances and densities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp

ARCSEC = math.pi / (180.0 * 3600.0)  # radians
_ONE_MINUS_LN2 = 1.0 - math.log(2.0)

# Duffy et al. (2008), Table 1: NFW, full sample, z = 0–2, M200 with respect to ρ_crit
DUFFY08_200C = dict(A=5.71, B=-0.084, C=-0.47)
DUFFY08_PIVOT = 2e12  # h⁻¹ M_sun


@dataclass(frozen=True)
class LensDistances:
    """Fixed numbers of a lens–source pair in a cosmology (floats, or JAX values).

    Attributes: z_lens, z_source; D_d, D_s, D_ds angular-diameter distances (Mpc); sigma_crit the
    critical surface density (M_sun/Mpc²); rho_crit the critical density at z_lens (M_sun/Mpc³);
    h = H0 / (100 km/s/Mpc).
    """

    z_lens: float
    z_source: float
    D_d: float
    D_s: float
    D_ds: float
    sigma_crit: float
    rho_crit: float
    h: float

    @classmethod
    def from_cosmology(cls, z_lens: float, z_source: float, cosmo=None) -> "LensDistances":
        """Evaluate with astropy (host side, not traced). ``cosmo``: an astropy cosmology; default
        astropy's default cosmology."""
        from astropy import constants as const
        from astropy import units as u
        from astropy.cosmology import default_cosmology

        cosmo = default_cosmology.get() if cosmo is None else cosmo
        d_d = cosmo.angular_diameter_distance(z_lens).to_value(u.Mpc)
        d_s = cosmo.angular_diameter_distance(z_source).to_value(u.Mpc)
        try:  # astropy ≥ 7 takes (z1, z2) here and deprecates angular_diameter_distance_z1z2
            d_ds = cosmo.angular_diameter_distance(z_lens, z_source)
        except TypeError:
            d_ds = cosmo.angular_diameter_distance_z1z2(z_lens, z_source)
        d_ds = d_ds.to_value(u.Mpc)
        factor = (const.c**2 / (4.0 * math.pi * const.G)).to_value(u.Msun / u.Mpc)
        return cls(z_lens=float(z_lens), z_source=float(z_source), D_d=float(d_d),
                   D_s=float(d_s), D_ds=float(d_ds), sigma_crit=float(factor * d_s / (d_d * d_ds)),
                   rho_crit=float(cosmo.critical_density(z_lens).to_value(u.Msun / u.Mpc**3)),
                   h=float(cosmo.H0.to_value(u.km / u.s / u.Mpc) / 100.0))


def duffy08_concentration(M200, z, h, A=DUFFY08_200C["A"], B=DUFFY08_200C["B"],
                          C=DUFFY08_200C["C"]):
    """c200 = A (M200 h / 2e12)^B (1 + z)^C, M200 in M_sun (physical), Duffy et al. (2008)."""
    return A * (M200 * h / DUFFY08_PIVOT) ** B * (1.0 + z) ** C


def _m(c):
    """m(c) = ln(1 + c) − c/(1 + c), the NFW mass inside r = c r_s in units of 4π ρ0 r_s³."""
    return jnp.log1p(c) - c / (1.0 + c)


def nfw_physical_to_angle(M200, c200, D_d, rho_crit, sigma_crit):
    """(Rs, alpha_Rs) in arcsec from M200 (M_sun), c200, D_d (Mpc), ρ_crit (M_sun/Mpc³) and
    Σ_crit (M_sun/Mpc²). Pure JAX (module docstring for the formulae)."""
    r200 = (3.0 * M200 / (800.0 * math.pi * rho_crit)) ** (1.0 / 3.0)  # Mpc
    r_s = r200 / c200
    rho0 = (200.0 / 3.0) * rho_crit * c200**3 / _m(c200)  # M_sun/Mpc³
    alpha_rs = 4.0 * rho0 * r_s * r_s * _ONE_MINUS_LN2 / (sigma_crit * D_d)  # radians
    return r_s / D_d / ARCSEC, alpha_rs / ARCSEC


def nfw_halo_to_angle(M200, distances: LensDistances, c200=None):
    """(Rs, alpha_Rs) in arcsec for a halo of mass M200 (M_sun) with concentration c200, or the
    Duffy et al. (2008) concentration at (M200, z_lens) when c200 is None."""
    if c200 is None:
        c200 = duffy08_concentration(M200, distances.z_lens, distances.h)
    return nfw_physical_to_angle(M200, c200, distances.D_d, distances.rho_crit,
                                 distances.sigma_crit)
