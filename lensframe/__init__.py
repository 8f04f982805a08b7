"""lensframe: gravitational-lens modelling in JAX, with profiles and fitters as plugins.

Importing ``lensframe`` is cheap: the names below are resolved on first use, so ``lensframe list``
and plugin discovery import no numerical code. JAX configuration is never changed at import.
"""

from __future__ import annotations

from importlib import import_module

from .hooks import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "Fitter": "lensframe.dispatch",
    "Problem": "lensframe.problem",
    "FitResult": "lensframe.result",
    "Profile": "lensframe.profile",
    "MassProfile": "lensframe.profile",
    "LightProfile": "lensframe.profile",
    "MicrolensProfile": "lensframe.profile",
    "Likelihood": "lensframe.likelihood",
    "Solver": "lensframe.likelihood",
    "Component": "lensframe.likelihood",
    "FitterPlugin": "lensframe.fitter",
    "ParamSpec": "lensframe.params",
    "Uniform": "lensframe.priors",
    "Normal": "lensframe.priors",
    "TruncatedNormal": "lensframe.priors",
    "LogUniform": "lensframe.priors",
    "Fixed": "lensframe.priors",
    "Linked": "lensframe.priors",
    "Linear": "lensframe.priors",
    "get_registry": "lensframe.registry",
    "load_config": "lensframe.config",
}

__all__ = ["hookimpl", "get_profile", "get_likelihood", "get_solver", "get_fitter", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        module = import_module(_LAZY[name])
        return getattr(module, "load" if name == "load_config" else name)
    raise AttributeError(f"module 'lensframe' has no attribute '{name}'")


def _instance(name: str, namespace: str):
    from .registry import get_registry

    obj = get_registry().get(name, namespace).load()
    return obj() if isinstance(obj, type) else obj


def get_profile(name: str, **options):
    """The profile registered as ``name`` (case-insensitive), e.g. ``get_profile("SIE")``;
    ``options`` are the profile's static options, e.g. ``get_profile("SHAPELETS", n_max=6)``."""
    from .options import make_options
    from .registry import get_registry

    spec = get_registry().get(name, "profile")
    cls = spec.load()
    if not isinstance(cls, type):
        return cls
    return cls(make_options(cls.Options, options, f"profile '{spec.name}'"))


def get_solver(name: str):
    return _instance(name, "solver")


def get_likelihood(name: str):
    """The likelihood *class* registered as ``name`` (it is bound to components when used)."""
    from .registry import get_registry

    return get_registry().get(name, "likelihood").load()


def get_fitter(name: str):
    return _instance(name, "fitter")
