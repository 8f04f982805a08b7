"""Parameters of the source trajectory (no JAX import: read by ``lensframe list``/``info``).

Times are in days on the data's time axis, HJD − 2450000 (see ``photometry.py``); angles in
radians; u0 in units of θ_E of the total lens mass (``../shared/design/microlensing.md``)."""

from lensframe.params import ParamSpec

RECTILINEAR = (
    ParamSpec("t0", "day (HJD - 2450000)", "time of closest approach to the origin (the binary's "
              "centre of mass)"),
    ParamSpec("u0", "theta_E", "impact parameter: signed distance of closest approach"),
    ParamSpec("tE", "day", "Einstein time: time to cross one theta_E", lower=1e-6),
    ParamSpec("alpha", "rad", "angle of the trajectory to the lens axis (VBMicrolensing convention; "
              "microJAX / Skowron et al. 2011 use alpha + pi)", default=0.0),
)

RECTILINEAR_PARALLAX = RECTILINEAR + (
    ParamSpec("piEN", "dimensionless", "north component of the microlens parallax vector pi_E "
              "(Gould 2004)", default=0.0),
    ParamSpec("piEE", "dimensionless", "east component of the microlens parallax vector pi_E",
              default=0.0),
)

PROFILES = (
    {"name": "rectilinear", "kind": "microlens",
     "ref": "lensframe_micro.trajectory:Rectilinear", "params": RECTILINEAR,
     "summary": "Source trajectory for the lightcurve likelihood: straight line (t0, u0, tE, "
                "alpha); gives positions, not magnifications"},
    {"name": "rectilinear_parallax", "kind": "microlens",
     "ref": "lensframe_micro.trajectory:RectilinearParallax", "params": RECTILINEAR_PARALLAX,
     "summary": "Source trajectory with annual parallax (piEN, piEE); needs data.coords and "
                "data.t0_par"},
)
