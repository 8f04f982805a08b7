"""Annual parallax: the Sun's apparent motion seen from the orbiting Earth, projected on the sky at
the event, computed on the host with astropy (outside compiled programs) and handed to the
trajectory as data.

For epochs t (HJD − 2450000), ``sun_offsets`` returns (ΔN, ΔE) in AU: the Sun's position relative to
the Earth projected on the north and east directions at the event, minus its value and its linear
trend at the reference epoch t0_par (Gould 2004, ApJ 606, 319, eqs. 4–6), so a fit's t0, u0, tE
stay those of the geocentric trajectory tangent at t0_par. Positions from astropy's built-in solar
system ephemeris (``get_body_barycentric``), times taken as TDB Julian dates; the slope at t0_par by
a central difference over ±0.01 d. The parallax shifts of the trajectory are then
Δτ = π_E,N ΔN + π_E,E ΔE and Δβ = π_E,N ΔE − π_E,E ΔN (``trajectory.parallax_shift``);
VBMicrolensing (``parallaxsystem = 1``, ``t0_par`` fixed) agrees to ~5e-5 θ_E over ±70 days
(tests/plugins/micro/test_trajectory.py), the difference of the two ephemerides.
"""

from __future__ import annotations

import math

import numpy as np
from lensframe.errors import ConfigError

_SLOPE_STEP = 0.01  # days


def event_direction(coords: str):
    """(north, east) unit vectors (ICRS, 3-vectors) on the sky at ``coords`` ("RA Dec" as
    "17:55:23.50 -30:12:26.1", hours and degrees, or two numbers in degrees)."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    try:
        if ":" in coords or "h" in coords:
            sky = SkyCoord(coords, unit=(u.hourangle, u.deg))
        else:
            sky = SkyCoord(*map(float, coords.split()), unit=(u.deg, u.deg))
    except Exception as exc:
        raise ConfigError(f"data.coords: cannot read {coords!r} as 'RA Dec' "
                          f"(e.g. \"17:55:23.50 -30:12:26.1\"): {exc}") from None
    ra, dec = sky.ra.rad, sky.dec.rad
    east = np.array([-math.sin(ra), math.cos(ra), 0.0])
    north = np.array([-math.sin(dec) * math.cos(ra), -math.sin(dec) * math.sin(ra),
                      math.cos(dec)])
    return north, east


def _sun_projected(t, north, east):
    from astropy import units as u
    from astropy.coordinates import get_body_barycentric
    from astropy.time import Time

    when = Time(np.asarray(t, float) + 2450000.0, format="jd", scale="tdb")
    sun = (get_body_barycentric("sun", when).xyz - get_body_barycentric("earth", when).xyz)
    sun = sun.to(u.au).value
    return north @ sun, east @ sun


def sun_offsets(t, coords: str, t0_par: float) -> np.ndarray:
    """(n, 2) array of (ΔN, ΔE) in AU at epochs ``t`` (see the module docstring)."""
    north, east = event_direction(coords)
    t = np.asarray(t, float)
    n, e = _sun_projected(t, north, east)
    around = np.array([t0_par - _SLOPE_STEP, t0_par, t0_par + _SLOPE_STEP])
    n_ref, e_ref = _sun_projected(around, north, east)
    slope_n = (n_ref[2] - n_ref[0]) / (2 * _SLOPE_STEP)
    slope_e = (e_ref[2] - e_ref[0]) / (2 * _SLOPE_STEP)
    return np.stack([n - n_ref[1] - (t - t0_par) * slope_n,
                     e - e_ref[1] - (t - t0_par) * slope_e], axis=-1)
