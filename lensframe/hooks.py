"""The plugin hook specification.

Every plugin (standard or third-party) is a module named in the ``lensframe`` entry-point group that
implements some of these hooks. Each hook receives a *registrar* and records lazy references on it
(``"package.module:Object"`` plus metadata), so discovering and listing components imports no numerical
code. The pattern follows pytest and llm: built-ins go through the very same hooks as third parties.
"""

from __future__ import annotations

import pluggy

PROJECT = "lensframe"
ENTRY_POINT_GROUP = "lensframe"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Hooks:
    """Hook specifications; a plugin implements any subset of them."""

    @hookspec
    def lensframe_register_profiles(self, registry) -> None:
        """Register mass, light and microlens profiles with ``registry.add(...)``."""

    @hookspec
    def lensframe_register_likelihoods(self, registry) -> None:
        """Register likelihoods with ``registry.add(...)``."""

    @hookspec
    def lensframe_register_solvers(self, registry) -> None:
        """Register solvers (linear inversion, lens-equation roots) with ``registry.add(...)``."""

    @hookspec
    def lensframe_register_fitters(self, registry) -> None:
        """Register fitters with ``registry.add(...)``."""


#: hook name -> the component kinds that hook may register
HOOK_KINDS: dict[str, frozenset[str]] = {
    "lensframe_register_profiles": frozenset({"mass", "light", "microlens"}),
    "lensframe_register_likelihoods": frozenset({"likelihood"}),
    "lensframe_register_solvers": frozenset({"solver"}),
    "lensframe_register_fitters": frozenset({"fitter"}),
}
KINDS: tuple[str, ...] = ("mass", "light", "microlens", "likelihood", "solver", "fitter")
