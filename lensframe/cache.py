"""JAX's persistent compilation cache, switched on at the first fit.

Never at import, and never over a user's own choice: if ``jax_compilation_cache_dir`` is already set
(in code or by ``JAX_COMPILATION_CACHE_DIR``) lensframe leaves the whole cache configuration alone.
Otherwise the directory is ``LENSFRAME_CACHE_DIR`` or the platform's user cache folder for
``lensframe``; ``LENSFRAME_NO_CACHE=1`` turns it off. JAX stores only programs that took over a second
to compile by default; a fit's programs are all worth keeping, so the threshold is set to zero.

An unwritable directory gives a warning and a run without the disk cache; an unreadable (corrupt)
entry is reported by JAX as a warning and simply compiled again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

CACHE_DIR_ENV = "LENSFRAME_CACHE_DIR"
NO_CACHE_ENV = "LENSFRAME_NO_CACHE"


@dataclass
class CacheState:
    enabled: bool
    directory: str | None
    managed_by: str  # "lensframe", "user" or "off"
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


_state: CacheState | None = None
_lock = threading.Lock()


def default_directory() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("lensframe")) / "jax"


def _disabled_by_env() -> bool:
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _writable(path: Path) -> str:
    """Empty string if ``path`` can hold cache entries, else why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True) as fh:
            fh.write(b"ok")
            fh.flush()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def enable() -> CacheState:
    """Switch the persistent cache on (once per process) and return what was decided."""
    global _state
    with _lock:
        if _state is not None:
            return _state
        import jax

        user_dir = jax.config.jax_compilation_cache_dir
        if user_dir:
            _state = CacheState(True, str(user_dir), "user", "jax_compilation_cache_dir already set")
        elif _disabled_by_env():
            _state = CacheState(False, None, "off", f"{NO_CACHE_ENV} is set")
        else:
            directory = default_directory()
            problem = _writable(directory)
            if problem:
                warnings.warn(f"lensframe: compilation cache directory {directory} is not usable "
                              f"({problem}); running without the on-disk cache. Set "
                              f"{CACHE_DIR_ENV} to a writable folder or {NO_CACHE_ENV}=1.",
                              RuntimeWarning, stacklevel=3)
                _state = CacheState(False, str(directory), "off", problem)
            else:
                jax.config.update("jax_compilation_cache_dir", str(directory))
                jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
                _state = CacheState(True, str(directory), "lensframe")
        _install_listener()
        return _state


def state() -> CacheState | None:
    return _state


def info() -> dict:
    """Directory, whether it is in use, and how many entries and bytes it holds."""
    current = _state
    directory = Path(current.directory) if current and current.directory else default_directory()
    entries, size = 0, 0
    if directory.is_dir():
        for p in directory.rglob("*"):
            if p.is_file() and not p.name.startswith(".probe-"):
                entries += 1
                size += p.stat().st_size
    return {"directory": str(directory), "exists": directory.is_dir(), "entries": entries,
            "bytes": size, "disabled_by_env": _disabled_by_env(),
            "state": current.as_dict() if current else None}


def clear() -> dict:
    """Delete every entry in the lensframe cache directory; returns what was removed."""
    before = info()
    directory = Path(before["directory"])
    if directory.is_dir():
        shutil.rmtree(directory)
    return {"directory": str(directory), "removed_entries": before["entries"],
            "removed_bytes": before["bytes"]}


# -- counting cache hits ---------------------------------------------------------------------------
_events = threading.local()
_listener_installed = False


def _install_listener() -> None:
    global _listener_installed
    if _listener_installed:
        return
    from jax import monitoring

    def listener(event: str, **kwargs) -> None:
        counts = getattr(_events, "counts", None)
        if counts is not None and event.startswith("/jax/compilation_cache/"):
            counts[event] = counts.get(event, 0) + 1

    monitoring.register_event_listener(listener)
    _listener_installed = True


class count_events:
    """Context manager counting JAX compilation-cache events in this thread."""

    def __enter__(self) -> dict:
        _install_listener()
        self.previous = getattr(_events, "counts", None)
        _events.counts = {}
        return _events.counts

    def __exit__(self, *exc) -> None:
        _events.counts = self.previous
