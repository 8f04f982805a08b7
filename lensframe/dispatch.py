"""``Fitter(problem).run(name, **options)``: resolve → validate → compile once → run → FitResult.

Compile once: each program a fitter asks for is memoised in this process under a *combination key*
(fitter and its version, static options, the problem's structure — components, plugin versions,
parameter layout, prior families, likelihood options, data shapes and dtypes — plus jax version,
backend and x64) and the shapes of its arguments. Data, priors and keys are arguments, so a second
data set of the same shapes reuses the compiled program; JAX's persistent cache (switched on at the
first fit, see :mod:`lensframe.cache`) serves other processes, and the traced programs themselves are
kept on disk too (:mod:`lensframe.exports`), so a later process does not even trace them. The
numpyro MCMC driver's cache of compiled functions keyed by hashable arguments is the model for this.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import jax
import numpy as np

from . import cache, exports
from .errors import LensframeError
from .options import make_options
from .progress import ProgressReporter
from .registry import get_registry


@dataclass
class _Compiled:
    executable: Any
    compile_seconds: float
    persistent_hit: bool


_memo: dict[tuple, _Compiled] = {}
_memo_lock = threading.Lock()


def clear_memo() -> None:
    """Forget compiled programs of this process (tests use this to force a compile)."""
    with _memo_lock:
        _memo.clear()


class CompileSession:
    """The ``programs`` object handed to a fitter: compiles each program once and keeps score."""

    def __init__(self, combination: str):
        self.combination = combination
        self.compile_seconds = 0.0
        self.compiled_now = 0
        self.memo_hits = 0
        self.persistent_hits = 0
        self.exports_loaded = 0

    def compile(self, name: str, fn: Callable) -> Callable:
        jitted = jax.jit(fn)

        def call(*args):
            signature = _signature(args)
            key = (self.combination, name, signature)
            entry = _memo.get(key)
            if entry is None:
                with _memo_lock:
                    entry = _memo.get(key)
                    if entry is None:
                        entry = self._compile(name, fn, jitted, args, signature)
                        _memo[key] = entry
                        self.compiled_now += 1
                        self.persistent_hits += int(entry.persistent_hit)
                    else:
                        self.memo_hits += 1
            else:
                self.memo_hits += 1
            return entry.executable(*args)

        call.__name__ = name
        return call

    def _compile(self, name, fn, jitted, args, signature) -> _Compiled:
        t0 = time.perf_counter()
        with cache.count_events() as events:
            executable = self._from_export_store(name, fn, args, signature)
            if executable is None:
                executable = jitted.lower(*args).compile()
        seconds = time.perf_counter() - t0
        self.compile_seconds += seconds
        if os.environ.get("LENSFRAME_DEBUG_COMPILE"):
            print(f"[lensframe] compiled {name} in {seconds:.2f} s", file=sys.stderr)
        hit = events.get("/jax/compilation_cache/cache_hits", 0) > 0
        return _Compiled(executable, seconds, hit)

    def _from_export_store(self, name, fn, args, signature):
        """Compile through the on-disk store of traced programs (:mod:`lensframe.exports`), so a
        later process skips tracing; None when the store is off or the program cannot be
        exported (it is then compiled directly)."""
        if exports.directory() is None:
            return None
        key = f"{self.combination}|{name}|{signature}"
        program = exports.load(key)
        if program is not None:
            self.exports_loaded += 1
        else:
            try:
                program = exports.trace(fn, args)
            except Exception:  # not exportable (e.g. a host callback): compile it directly
                return None
            exports.save(key, program)
        return program.compile(args)

    @property
    def cache_hit(self) -> bool:
        """True when nothing had to be compiled from scratch: every program came from this
        process's memo or from the on-disk cache."""
        return self.compiled_now == self.persistent_hits


def _signature(args) -> tuple:
    leaves, treedef = jax.tree_util.tree_flatten(args)
    return (str(treedef), tuple((np.shape(x), str(getattr(x, "dtype", type(x)))) for x in leaves))


def combination_key(problem, fitter_spec, options) -> str:
    parts = [fitter_spec.name, fitter_spec.distribution, fitter_spec.version, repr(options),
             problem.structure_key(), jax.__version__, jax.default_backend(),
             str(jax.config.jax_enable_x64)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class Fitter:
    """Runs any registered fitter on a :class:`~lensframe.problem.Problem` by name.

    >>> result = Fitter(problem).run("lbfgs", n_starts=8, key=0)
    """

    def __init__(self, problem, quiet: bool = False, console=None):
        self.problem = problem
        self.progress = ProgressReporter(quiet=quiet, console=console)

    def run(self, name: str, *, key=0, init_from=None, **options):
        """Fit with the fitter registered as ``name`` (any case).

        Args:
            name: fitter name, e.g. ``"lbfgs"``; an unknown name lists close matches.
            key: an int seed or a JAX PRNG key; the same key reproduces the same fit.
            init_from: a previous :class:`~lensframe.result.FitResult` to start from.
            **options: the fitter's options (see ``lensframe info NAME``); an unknown option
                raises ``TypeError`` naming the fitter and its valid options.
        """
        spec = get_registry().get(name, "fitter")
        plugin_cls = spec.load()
        opts = make_options(plugin_cls.Options, options, f"fitter '{spec.name}'")
        if init_from is not None and list(init_from.free_names) != list(self.problem.free_names):
            raise LensframeError(
                f"init_from: the previous result's free parameters {init_from.free_names} differ "
                f"from this problem's {list(self.problem.free_names)}")
        prng = jax.random.key(key) if isinstance(key, (int, np.integer)) else key
        cache_state = cache.enable()
        session = CompileSession(combination_key(self.problem, spec, opts))
        t0 = time.perf_counter()
        result = plugin_cls().run(self.problem, opts, key=prng, init_from=init_from,
                                  programs=session, progress=self.progress)
        total = time.perf_counter() - t0
        result.provenance.update({
            "fitter": spec.name, "fitter_plugin": spec.plugin,
            "fitter_distribution": spec.distribution, "fitter_version": spec.version,
            "options": {k: v for k, v in vars(opts).items()},
            "components": {c.name: {"profile": c.profile_name, "version": c.version}
                           for c in self.problem.components.values()},
            "likelihood": {"name": self.problem.likelihood_name,
                           "version": self.problem.likelihood_version},
            "combination_key": session.combination, "cache_hit": session.cache_hit,
            "programs_compiled": session.compiled_now,
            "persistent_cache_hits": session.persistent_hits,
            "traces_loaded": session.exports_loaded,
            "compile_seconds": session.compile_seconds,
            "run_seconds": total - session.compile_seconds, "total_seconds": total,
            "persistent_cache": cache_state.as_dict(), "jax_version": jax.__version__,
            "backend": jax.default_backend(), "x64": bool(jax.config.jax_enable_x64),
        })
        return result
