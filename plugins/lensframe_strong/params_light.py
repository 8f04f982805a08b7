"""Catalogue of the light profiles beyond SERSIC_ELLIPSE (circular Sérsic, Gaussians,
multi-Gaussian, shapelets); no JAX import. Names, order and meaning of the parameters follow lenstronomy's
LightModel (docs/conventions.md).

Two profiles have a static option that decides how many parameters they have (MULTI_GAUSSIAN: the
number of Gaussians; SHAPELETS: the order n_max). Their parameter lists are built here by
:func:`multi_gaussian_params` and :func:`shapelet_params`, used both by the classes (a ``params``
property) and, for the default option, by the registration below, so ``lensframe info`` and the
code cannot disagree.
"""

from lensframe.params import ParamSpec

from .params import CENTER, ELLIPTICITY, SERSIC_ELLIPSE

_BY_NAME = {p.name: p for p in SERSIC_ELLIPSE}

#: default number of Gaussians of MULTI_GAUSSIAN (its option ``n_components``)
MULTI_GAUSSIAN_DEFAULT_N = 3
#: default shapelet order of SHAPELETS (its option ``n_max``)
SHAPELETS_DEFAULT_N_MAX = 2

SERSIC = (_BY_NAME["amp"], _BY_NAME["R_sersic"], _BY_NAME["n_sersic"], *CENTER)

_GAUSS_AMP = ParamSpec("amp", "flux", "total flux (the integral of the profile over the sky)",
                       default=1.0, linear=True)
_SIGMA = ParamSpec("sigma", "arcsec", "standard deviation (product average of the axes if "
                   "elliptical)", lower=0.0)

GAUSSIAN = (_GAUSS_AMP, _SIGMA, *CENTER)
GAUSSIAN_ELLIPSE = (_GAUSS_AMP, _SIGMA, *ELLIPTICITY, *CENTER)


def n_shapelets(n_max: int) -> int:
    """Number of Cartesian shapelets with n1 + n2 ≤ n_max: (n_max + 1)(n_max + 2)/2."""
    return (n_max + 1) * (n_max + 2) // 2


def shapelet_orders(n_max: int) -> tuple[tuple[int, int], ...]:
    """(n1, n2) of amp_0, amp_1, … in lenstronomy's order: by total order N = n1 + n2, and within
    one N from (N, 0) down to (0, N): (0,0), (1,0), (0,1), (2,0), (1,1), (0,2), (3,0), …"""
    return tuple((total - n2, n2) for total in range(n_max + 1) for n2 in range(total + 1))


def multi_gaussian_params(n_components: int) -> tuple[ParamSpec, ...]:
    """amp_0 … amp_{n−1} (linear), sigma_0 … sigma_{n−1}, center_x, center_y."""
    amps = tuple(ParamSpec(f"amp_{i}", "flux", f"total flux of Gaussian {i} (lenstronomy "
                           f"amp[{i}]); 0 if not given", default=0.0, linear=True)
                 for i in range(n_components))
    sigmas = tuple(ParamSpec(f"sigma_{i}", "arcsec",
                             f"standard deviation of Gaussian {i} (lenstronomy sigma[{i}])",
                             lower=0.0)
                   for i in range(n_components))
    return (*amps, *sigmas, *CENTER)


def shapelet_params(n_max: int) -> tuple[ParamSpec, ...]:
    """beta, center_x, center_y, then amp_0 … amp_{k−1} (linear) in :func:`shapelet_orders`."""
    amps = tuple(ParamSpec(f"amp_{i}", "flux/arcsec²",
                           f"coefficient of shapelet (n1, n2) = ({n1}, {n2}) (lenstronomy "
                           f"amp[{i}]); 0 if not given", default=0.0, linear=True)
                 for i, (n1, n2) in enumerate(shapelet_orders(n_max)))
    beta = ParamSpec("beta", "arcsec", "shapelet scale β", lower=0.0)
    return (beta, *CENTER, *amps)


MULTI_GAUSSIAN = multi_gaussian_params(MULTI_GAUSSIAN_DEFAULT_N)
SHAPELETS = shapelet_params(SHAPELETS_DEFAULT_N_MAX)

_MOD = "lensframe_strong"

PROFILES = (
    dict(name="SERSIC", kind="light", ref=f"{_MOD}.light:Sersic", params=SERSIC,
         summary="Circular Sérsic surface brightness (Sérsic 1963), lenstronomy's SERSIC"),
    dict(name="GAUSSIAN", kind="light", ref=f"{_MOD}.light:Gaussian", params=GAUSSIAN,
         summary="Circular Gaussian; amp is the total flux (lenstronomy's GAUSSIAN)"),
    dict(name="GAUSSIAN_ELLIPSE", kind="light", ref=f"{_MOD}.light:GaussianEllipse",
         params=GAUSSIAN_ELLIPSE,
         summary="Elliptical Gaussian, product-average axes; amp is the total flux"),
    dict(name="MULTI_GAUSSIAN", kind="light", ref=f"{_MOD}.light:MultiGaussian",
         params=MULTI_GAUSSIAN,
         summary=f"Concentric circular Gaussians; option n_components (default "
                 f"{MULTI_GAUSSIAN_DEFAULT_N}) sets amp_i, sigma_i"),
    dict(name="SHAPELETS", kind="light", ref=f"{_MOD}.light:Shapelets", params=SHAPELETS,
         summary=f"Cartesian shapelets (Refregier 2003); option n_max (default "
                 f"{SHAPELETS_DEFAULT_N_MAX}) sets the linear amp_i"),
)
