"""Registration of the optimisers (lazy references)."""

from lensframe import hookimpl


@hookimpl
def lensframe_register_fitters(registry):
    registry.add("lbfgs", kind="fitter", ref="lensframe_optim.lbfgs:LBFGS", requires=("optax",),
                 summary="Multi-start L-BFGS (optax, zoom line search) in unconstrained space")
    registry.add("pso", kind="fitter", ref="lensframe_optim.pso:PSO",
                 summary="Particle swarm (pure JAX, compiled chunks) in the priors' unit cube")
