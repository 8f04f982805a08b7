"""pytest plugin for lensframe and for authors of lensframe plugins.

Installed as the ``pytest11`` entry point ``lensframe``, so these fixtures are available in any
project that has lensframe installed:

* ``lensframe_registry`` — an isolated registry (entry points discovered afresh), restored after
  the test;
* ``register_plugin(obj, name)`` — register an in-process plugin object into that registry;
* ``plugin_distribution(name, entry_points, files)`` — write a minimal installed distribution
  (``.dist-info`` with ``entry_points.txt``) plus its modules into a temporary folder on
  ``sys.path``, exactly what ``pip install`` leaves behind, so discovery sees it as real.

And conformance checks any profile can run: :func:`check_mass_profile` and
:func:`check_light_profile` (``jit``, ``vmap``, ``grad`` finite, shapes and dtypes).
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from . import registry as registry_mod


@pytest.fixture
def lensframe_registry(monkeypatch):
    """A freshly discovered registry used by every lookup during the test."""
    fresh = registry_mod.Registry()
    fresh.load_entry_points()
    monkeypatch.setattr(registry_mod, "_default", fresh)
    yield fresh


@pytest.fixture
def register_plugin(lensframe_registry):
    def register(obj, name: str = "test-plugin", distribution: str = "<test>", version: str = ""):
        return lensframe_registry.add_plugin(obj, name, distribution=distribution, version=version)

    return register


@pytest.fixture
def plugin_distribution(tmp_path, monkeypatch):
    """Factory: ``plugin_distribution("my-dist", {"my-dist": "my_pkg.plugin"}, {"my_pkg/plugin.py":
    "..."})`` makes the distribution visible and returns its folder. The process-wide registry is
    reset so the next ``get_registry()`` discovers it; a registry object fetched earlier (e.g. from
    the ``lensframe_registry`` fixture) does not see it, so call ``get_registry()`` afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created_modules: list[str] = []

    def make(dist: str, entry_points: dict[str, str], files: dict[str, str],
             version: str = "0.0.1") -> Path:
        for rel, text in files.items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
            created_modules.append(rel.removesuffix(".py").replace("/", ".")
                                   .removesuffix(".__init__"))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = ["[lensframe]"] + [f"{k} = {v}" for k, v in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        importlib.invalidate_caches()
        registry_mod.reset_registry()
        return site

    yield make
    for name in created_modules:
        sys.modules.pop(name, None)
    registry_mod.reset_registry()


# -- conformance ------------------------------------------------------------------------------------
def _grid(n: int = 7):
    import jax.numpy as jnp

    x = jnp.linspace(-1.7, 1.9, n)
    return jnp.meshgrid(x, x + 0.05)


def _finite_tree(tree) -> bool:
    import jax
    import jax.numpy as jnp

    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))


def check_mass_profile(profile, params: dict) -> None:
    """Deflection, potential, hessian and convergence: shapes, dtypes, jit = eager, vmap over a
    batch of parameters, finite gradients with respect to every parameter."""
    import jax
    import jax.numpy as jnp

    x, y = _grid()
    ax, ay = profile.deflection(x, y, **params)
    assert ax.shape == x.shape and ay.shape == x.shape, "deflection shape"
    assert ax.dtype == x.dtype, "deflection dtype"
    h = profile.hessian(x, y, **params)
    assert len(h) == 4 and all(c.shape == x.shape for c in h), "hessian shape"
    kappa = profile.convergence(x, y, **params)
    assert kappa.shape == x.shape
    assert _finite_tree((ax, ay, h, kappa)), "non-finite outputs"
    jitted = jax.jit(lambda p: profile.deflection(x, y, **p))(params)
    assert jnp.allclose(jitted[0], ax, rtol=1e-12, atol=1e-12), "jit differs from eager"
    batch = {k: jnp.full((3,), v) for k, v in params.items()}
    vm = jax.vmap(lambda p: profile.deflection(x, y, **p))(batch)
    assert vm[0].shape == (3, *x.shape)
    assert jnp.allclose(vm[0][1], ax, rtol=1e-12, atol=1e-12), "vmap differs from single call"
    grads = jax.grad(lambda p: jnp.sum(sum(profile.deflection(x, y, **p))))(params)
    assert _finite_tree(grads), f"non-finite deflection gradient: {grads}"


def check_light_profile(profile, params: dict) -> None:
    """Surface brightness: shape, dtype, jit = eager, vmap, finite gradients."""
    import jax
    import jax.numpy as jnp

    x, y = _grid()
    sb = profile.surface_brightness(x, y, **params)
    assert sb.shape == x.shape and sb.dtype == x.dtype
    assert _finite_tree(sb)
    jitted = jax.jit(lambda p: profile.surface_brightness(x, y, **p))(params)
    assert jnp.allclose(jitted, sb, rtol=1e-12, atol=1e-12)
    batch = {k: jnp.full((3,), v) for k, v in params.items()}
    vm = jax.vmap(lambda p: profile.surface_brightness(x, y, **p))(batch)
    assert jnp.allclose(vm[2], sb, rtol=1e-12, atol=1e-12)
    grads = jax.grad(lambda p: jnp.sum(profile.surface_brightness(x, y, **p)))(params)
    assert _finite_tree(grads), f"non-finite surface-brightness gradient: {grads}"
