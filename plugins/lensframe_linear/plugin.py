"""Registration of the linear solvers (lazy references)."""

from lensframe import hookimpl


@hookimpl
def lensframe_register_solvers(registry):
    registry.add("wls", kind="solver", ref="lensframe_linear.wls:WeightedLeastSquares",
                 summary="Weighted least squares by Jacobi-scaled normal equations (any sign)")
    registry.add("nnls", kind="solver", ref="lensframe_linear.nnls:NonNegativeLeastSquares",
                 summary="Non-negative weighted least squares (Lawson–Hanson active set, fixed "
                         "iteration budget; jit/vmap/grad)")
