"""Registration of the samplers (lazy references)."""

from lensframe import hookimpl


@hookimpl
def lensframe_register_fitters(registry):
    registry.add("emcee", kind="fitter", ref="lensframe_sample.emcee:Emcee", requires=("emcee",),
                 summary="Affine-invariant ensemble sampler (emcee, vectorized) in unconstrained "
                         "space")
    registry.add("nuts", kind="fitter", ref="lensframe_sample.nuts:NUTS", requires=("blackjax",),
                 summary="No-U-Turn sampler (blackjax) with window adaptation, chains vmapped")
    registry.add("nautilus", kind="fitter", ref="lensframe_sample.nautilus:Nautilus",
                 requires=("nautilus",),
                 summary="Neural-network nested sampling (nautilus): posterior and evidence")
