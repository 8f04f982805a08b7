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
def _grid(params: dict, n: int = 7):
    """An n×n grid plus two awkward points: the origin and the profile's centre (r = 0)."""
    import jax.numpy as jnp

    axis = jnp.linspace(-1.7, 1.9, n)
    x, y = jnp.meshgrid(axis, axis + 0.05)
    cx = float(params.get("center_x", params.get("ra_0", 0.0)))
    cy = float(params.get("center_y", params.get("dec_0", 0.0)))
    return (jnp.concatenate([x.ravel(), jnp.array([0.0, cx])]),
            jnp.concatenate([y.ravel(), jnp.array([0.0, cy])]))


def _finite_tree(tree) -> bool:
    import jax
    import jax.numpy as jnp

    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))


def _check_outputs(outputs, params, x):
    """Shapes, dtypes, finiteness; jit = vmap row; finite gradients of every output."""
    import jax
    import jax.numpy as jnp

    batch = {k: jnp.full((3,), v) for k, v in params.items()}
    total = lambda p: sum(jnp.sum(leaf) for leaf in jax.tree_util.tree_leaves(outputs(p)))  # noqa
    # one compiled program for all three views keeps the suite fast
    single, rows, grads = jax.jit(
        lambda p, b: (outputs(p), jax.vmap(outputs)(b), jax.grad(total)(p)))(params, batch)
    for leaf in jax.tree_util.tree_leaves(single):
        assert leaf.shape == x.shape, f"output shape {leaf.shape} != coordinates {x.shape}"
        assert leaf.dtype == x.dtype, f"output dtype {leaf.dtype} != coordinates {x.dtype}"
    assert _finite_tree(single), f"non-finite outputs (the grid includes r = 0): {single}"
    for a, b in zip(jax.tree_util.tree_leaves(rows), jax.tree_util.tree_leaves(single)):
        assert a.shape == (3, *b.shape)
        assert jnp.allclose(a[1], b, rtol=1e-12, atol=1e-12), "vmap row differs from single call"
    assert _finite_tree(grads), f"non-finite gradient: {grads}"


def check_mass_profile(profile, params: dict) -> None:
    """Deflection, hessian, convergence (and potential if provided): shapes, dtypes, finite
    values at r = 0, vmap over parameters equal to single calls, finite gradients with respect
    to every parameter. Everything is jitted, as in a fit."""
    x, y = _grid(params)

    def outputs(p):
        out = {"deflection": profile.deflection(x, y, **p),
               "hessian": profile.hessian(x, y, **p),
               "convergence": profile.convergence(x, y, **p)}
        try:
            out["potential"] = profile.potential(x, y, **p)
        except NotImplementedError:
            pass
        return out

    assert len(outputs(params)["hessian"]) == 4, "hessian must be (f_xx, f_xy, f_yx, f_yy)"
    _check_outputs(outputs, params, x)


def check_light_profile(profile, params: dict) -> None:
    """Surface brightness: shape, dtype, finite at r = 0, vmap = single call, finite gradients."""
    x, y = _grid(params)
    _check_outputs(lambda p: profile.surface_brightness(x, y, **p), params, x)


# -- comparing with a reference code ------------------------------------------------------------------
def ellipticity(q, phi):
    """(e1, e2) of axis ratio ``q`` and position angle ``phi`` (radians), lenstronomy's convention."""
    import numpy as np

    e = (1.0 - q) / (1.0 + q)
    return e * np.cos(2.0 * phi), e * np.sin(2.0 * phi)


def param_columns(draws: dict) -> dict:
    """Parameter draws {name: (n,)} as columns (n, 1), to broadcast against points (n, m)."""
    import jax.numpy as jnp

    return {k: jnp.asarray(v, float)[:, None] for k, v in draws.items()}


def param_row(draws: dict, i: int) -> dict:
    """Draw ``i`` as a dict of floats (a reference code's keyword arguments)."""
    return {k: float(v[i]) for k, v in draws.items()}


def mass_quantities(profile, params, x, y):
    """Potential, deflection, hessian and convergence of a mass profile (pure JAX, unjitted)."""
    import jax.numpy as jnp

    return {"pot": profile.potential(x, y, **params),
            "alpha": jnp.stack(profile.deflection(x, y, **params)),
            "hess": jnp.stack(profile.hessian(x, y, **params)),
            "kappa": profile.convergence(x, y, **params)}


def profile_quantities(profile, x, y, draws) -> dict:
    """A mass profile's potential, deflection (2, n, m), hessian (4, n, m) and convergence at
    points (n, m) for n parameter draws, in one jitted call; numpy arrays keyed pot, alpha, hess,
    kappa — the layout of :func:`reference_quantities`."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    evaluate = jax.jit(mass_quantities, static_argnums=0)
    out = evaluate(profile, param_columns(draws), jnp.asarray(x), jnp.asarray(y))
    return {k: np.asarray(v) for k, v in out.items()}


def reference_quantities(model, x, y, draws) -> dict:
    """The same quantities from a lenstronomy-style ``LensModel`` (lenstronomy's or JAXtronomy's)
    holding one profile, one draw at a time."""
    import numpy as np

    out = {"pot": [], "alpha": [], "hess": [], "kappa": []}
    for i in range(x.shape[0]):
        kw = [param_row(draws, i)]
        out["pot"].append(np.asarray(model.potential(x[i], y[i], kw)))
        out["alpha"].append(np.asarray(model.alpha(x[i], y[i], kw)))
        out["hess"].append(np.asarray(model.hessian(x[i], y[i], kw)))
        out["kappa"].append(np.asarray(model.kappa(x[i], y[i], kw)))
    out = {k: np.array(v) for k, v in out.items()}
    out["alpha"] = np.moveaxis(out["alpha"], 1, 0)
    out["hess"] = np.moveaxis(out["hess"], 1, 0)
    return out


def points_around(rng, draws: dict, n: int, r_min: float, r_max: float):
    """``n`` points per draw at log-uniform distance r ∈ [r_min, r_max] from its centre
    (``center_x``, ``center_y``): arrays (draws, n) of x and y."""
    import numpy as np

    m = len(draws["center_x"])
    r = np.exp(rng.uniform(np.log(r_min), np.log(r_max), (m, n)))
    t = rng.uniform(0.0, 2.0 * np.pi, (m, n))
    return draws["center_x"][:, None] + r * np.cos(t), draws["center_y"][:, None] + r * np.sin(t)


def parameter_jvps(fn, params: dict, names):
    """Forward-mode derivatives of ``fn(params)`` with respect to each parameter in ``names``,
    stacked on a new leading axis (one ``vmap`` of ``jvp``, so it compiles once). With parameter
    draws as columns, a tangent of ones gives each independent draw its own derivative."""
    import jax
    import jax.numpy as jnp

    tangents = {k: jnp.stack([jnp.ones_like(v) if k == name else jnp.zeros_like(v)
                              for name in names]) for k, v in params.items()}
    return jax.vmap(lambda t: jax.jvp(fn, (params,), (t,))[1])(tangents)
