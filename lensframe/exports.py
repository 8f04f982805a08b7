"""Traced programs kept on disk, so a later process skips Python tracing as well as compilation.

JAX's persistent cache spares a second process the XLA compilation, but to find the cache entry the
program must still be traced and lowered in Python, which for an L-BFGS step through an imaging
likelihood is most of the warm start (seconds). lensframe therefore also stores each program it
compiles as a serialized ``jax.export`` artifact (StableHLO plus its input and output structure).
A later process with the same key deserialises it and compiles that, which the persistent cache
then serves without tracing a line of Python.

The key is the dispatcher's combination key, the program's name and argument signature, and a
fingerprint of everything that could change the trace without changing those: the versions of all
installed distributions and the modification times and sizes of the source files of lensframe and
of every registered plugin's package. Editing a profile in an editable install therefore misses
the store and traces afresh. Unreadable or stale entries are ignored (and replaced).

The store lives in ``<cache dir>/lensframe-exports`` and only when lensframe manages the
compilation cache (:mod:`lensframe.cache`); with the cache off or in a folder of the user's own it is
not used.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import pickle
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import jax

from . import cache
from .result import atomic_write

_FORMAT = 1
_fingerprint: str | None = None
_lock = threading.Lock()


def directory() -> Path | None:
    """Where exports are kept, or None when the store is not in use."""
    state = cache.state()
    if state is None or not state.enabled or state.managed_by != "lensframe":
        return None
    return Path(state.directory) / "lensframe-exports"


def code_fingerprint() -> str:
    """Hash of installed distribution versions and lensframe/plugin source files (once per
    process)."""
    global _fingerprint
    with _lock:
        if _fingerprint is None:
            digest = hashlib.sha256(f"{_FORMAT} {sys.version}".encode())
            for dist in sorted(f"{d.metadata['Name']}=={d.version}"
                               for d in importlib.metadata.distributions()):
                digest.update(dist.encode())
            for path in sorted(_source_files()):
                try:
                    st = path.stat()
                except OSError:
                    continue
                digest.update(f"{path}:{st.st_mtime_ns}:{st.st_size}".encode())
            _fingerprint = digest.hexdigest()[:20]
        return _fingerprint


def _source_files() -> set[Path]:
    from .registry import get_registry

    tops = {"lensframe"}
    for spec in get_registry().components():
        tops.add(spec.ref.split(":", 1)[0].split(".", 1)[0])
    files: set[Path] = set()
    for top in tops:
        module = sys.modules.get(top)
        try:
            found = importlib.util.find_spec(top) if module is None else module.__spec__
        except (ImportError, ValueError):
            found = None
        if found is None:
            continue
        if found.submodule_search_locations:
            for location in found.submodule_search_locations:
                files.update(Path(location).rglob("*.py"))
        elif found.origin:
            files.add(Path(found.origin))
    return files


def _entry_path(key: str) -> Path | None:
    folder = directory()
    if folder is None:
        return None
    return folder / f"{hashlib.sha256(f'{key}|{code_fingerprint()}'.encode()).hexdigest()[:32]}.bin"


class Program:
    """A program taking and returning pytrees, run through a flat exported function.

    PRNG key arrays cross the flat boundary as their raw key data and are wrapped again inside,
    since exported functions take plain arrays.
    """

    def __init__(self, exported, out_tree, out_key_impls, in_key_impls):
        self.exported = exported
        self.out_tree = out_tree
        self.out_key_impls = out_key_impls
        self.in_key_impls = in_key_impls
        self._executable = None

    def compile(self, args):
        flat = _flatten_keys(jax.tree_util.tree_leaves(args))[0]
        self._executable = jax.jit(self.exported.call).lower(*flat).compile()
        return self

    def __call__(self, *args):
        flat = _flatten_keys(jax.tree_util.tree_leaves(args))[0]
        out = self._executable(*flat)
        out = [jax.random.wrap_key_data(x, impl=impl) if impl else x
               for x, impl in zip(out, self.out_key_impls)]
        return jax.tree_util.tree_unflatten(self.out_tree, out)


def _flatten_keys(leaves):
    impls, flat = [], []
    for leaf in leaves:
        if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
            impls.append(str(jax.random.key_impl(leaf)))
            flat.append(jax.random.key_data(leaf))
        else:
            impls.append(None)
            flat.append(leaf)
    return flat, impls


def trace(fn: Callable, args: tuple) -> Program:
    """Trace ``fn(*args)`` into an exportable :class:`Program` (not yet compiled)."""
    leaves, in_tree = jax.tree_util.tree_flatten(args)
    flat, in_impls = _flatten_keys(leaves)
    box: dict[str, Any] = {}

    def flat_fn(*raw):
        inner = [jax.random.wrap_key_data(x, impl=impl) if impl else x
                 for x, impl in zip(raw, in_impls)]
        out = fn(*jax.tree_util.tree_unflatten(in_tree, inner))
        out_leaves, box["tree"] = jax.tree_util.tree_flatten(out)
        out_flat, box["impls"] = _flatten_keys(out_leaves)
        return out_flat

    exported = jax.export.export(jax.jit(flat_fn))(*flat)
    return Program(exported, box["tree"], box["impls"], in_impls)


def load(key: str) -> Program | None:
    """The stored program for ``key``, or None (absent, unreadable, or the store is off)."""
    path = _entry_path(key)
    if path is None or not path.is_file():
        return None
    try:
        blob = pickle.loads(path.read_bytes())
        if blob.get("format") != _FORMAT:
            return None
        exported = jax.export.deserialize(bytearray(blob["exported"]))
        return Program(exported, blob["out_tree"], blob["out_key_impls"], blob["in_key_impls"])
    except Exception:  # a damaged or foreign entry is simply traced again
        return None


def save(key: str, program: Program) -> None:
    """Store ``program`` under ``key`` atomically; silently skipped when it cannot be written."""
    path = _entry_path(key)
    if path is None:
        return
    try:
        blob = pickle.dumps({"format": _FORMAT, "exported": bytes(program.exported.serialize()),
                             "out_tree": program.out_tree, "out_key_impls": program.out_key_impls,
                             "in_key_impls": program.in_key_impls})
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: fh.write(blob))
    except Exception:  # e.g. an output structure that cannot be pickled: trace next time
        return
