"""Parameters of the lens profiles (no JAX import: read by ``lensframe list``/``info``).

Conventions of ``../shared/design/microlensing.md`` (VBMicrolensing's): lengths in θ_E of the total
lens mass, angles in radians."""

from lensframe.params import ParamSpec

SOURCE = (
    ParamSpec("rho", "theta_E", "source radius; 0 means a point source", default=0.0, lower=0.0),
    ParamSpec("a1", "dimensionless", "linear limb-darkening coefficient: I(r) ∝ 1 − a1 (1 − "
              "√(1 − r²/ρ²))", default=0.0, lower=0.0, upper=1.0),
)
BINARY = (
    ParamSpec("s", "theta_E", "separation of lenses 1 and 2", lower=1e-12),
    ParamSpec("q", "dimensionless", "mass ratio m2/m1 (may exceed 1)", lower=1e-12),
)
TRIPLE = BINARY + (
    ParamSpec("s13", "theta_E", "separation of lens 3 from lens 1", lower=1e-12),
    ParamSpec("q3", "dimensionless", "mass ratio m3/m1", lower=1e-12),
    ParamSpec("psi", "rad", "angle of lens 3 seen from lens 1, counter-clockwise from the 1→2 axis",
              default=0.0),
)


def multi_lens_params(n_lenses: int) -> tuple[ParamSpec, ...]:
    """x_k, y_k (θ_E) and m_k (named x_1, y_1, m_1, ...) (fractions of the total mass; normalised to sum 1) for k = 1..n."""
    specs = []
    for k in range(1, n_lenses + 1):
        specs += [ParamSpec(f"x_{k}", "theta_E", f"x of lens {k}", default=0.0),
                  ParamSpec(f"y_{k}", "theta_E", f"y of lens {k}", default=0.0),
                  ParamSpec(f"m_{k}", "dimensionless", f"mass of lens {k} (masses are normalised "
                            "to sum 1)", default=1.0 / n_lenses, lower=1e-12)]
    return tuple(specs)


_MOD = "lensframe_micro.profiles"

PROFILES = (
    {"name": "point_lens", "kind": "microlens", "ref": f"{_MOD}:PointLens", "params": SOURCE,
     "summary": "Single point lens (Paczyński 1986), point or finite limb-darkened source"},
    {"name": "binary_lens", "kind": "microlens", "ref": f"{_MOD}:BinaryLens",
     "params": BINARY + SOURCE,
     "summary": "Binary point lens (s, q), VBMicrolensing frame; point or finite source"},
    {"name": "triple_lens", "kind": "microlens", "ref": f"{_MOD}:TripleLens",
     "params": TRIPLE + SOURCE,
     "summary": "Triple point lens (s, q, s13, q3, psi); point or finite source"},
    {"name": "multi_lens", "kind": "microlens", "ref": f"{_MOD}:MultiLens",
     "params": multi_lens_params(2) + SOURCE,
     "summary": "Any number of point lenses at explicit positions and masses (option n_lenses)"},
)
