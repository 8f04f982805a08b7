"""Plugin discovery and the component registry.

Plugins are found through the ``lensframe`` entry-point group and driven with pluggy. Three choices
keep one bad plugin from hiding the others:

* each entry point is loaded on its own and its failure recorded (pluggy's
  ``load_setuptools_entrypoints`` stops at the first import error);
* each plugin's hooks are called on their own, and a plugin's registrations are committed only when
  its hook returned cleanly;
* a name registered by two plugins is a recorded conflict naming both providers, and looking it up
  raises instead of silently picking one.

Components are recorded as lazy references (``"package.module:Object"``) with metadata, so listing
them imports no numerical code. Set ``LENSFRAME_STRICT_PLUGINS=1`` to turn any load problem into an
exception instead of a report.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import threading
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable

import pluggy

from .errors import DuplicateComponentError, LensframeError, PluginLoadError, UnknownComponentError
from .hooks import ENTRY_POINT_GROUP, HOOK_KINDS, KINDS, PROJECT, Hooks
from .params import ParamSpec

STRICT_ENV = "LENSFRAME_STRICT_PLUGINS"

#: kinds that share one namespace of names (a light and a mass profile may not both be "FOO")
NAMESPACE = {"mass": "profile", "light": "profile", "microlens": "profile",
             "likelihood": "likelihood", "solver": "solver", "fitter": "fitter"}


@dataclass(frozen=True)
class ComponentSpec:
    """A registered component: a lazy reference plus what ``lensframe list``/``info`` show."""

    name: str
    kind: str
    ref: str
    summary: str
    params: tuple[ParamSpec, ...]
    requires: tuple[str, ...]
    plugin: str
    distribution: str
    version: str

    @property
    def namespace(self) -> str:
        return NAMESPACE[self.kind]

    @property
    def provider(self) -> str:
        return f"{self.distribution} {self.version} (entry point '{self.plugin}')"

    def missing_requirements(self) -> list[str]:
        """Required import packages that are not installed (checked without importing them)."""
        return [r for r in self.requires if importlib.util.find_spec(r) is None]

    def load(self) -> Any:
        """Import and return the referenced object."""
        missing = self.missing_requirements()
        if missing:
            raise LensframeError(
                f"{self.kind} '{self.name}' from {self.provider} needs "
                f"{', '.join(missing)}: install it with `pip install {' '.join(missing)}`")
        module_name, _, attr = self.ref.partition(":")
        try:
            obj = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            raise LensframeError(
                f"{self.kind} '{self.name}' from {self.provider} failed to load "
                f"'{self.ref}': {type(exc).__name__}: {exc}") from exc
        return obj

    def as_dict(self, status: str = "ok") -> dict:
        return {
            "name": self.name, "kind": self.kind, "summary": self.summary,
            "plugin": self.plugin, "distribution": self.distribution, "version": self.version,
            "ref": self.ref, "requires": list(self.requires), "status": status,
            "params": [p.as_dict() for p in self.params],
        }


@dataclass
class PluginRecord:
    """One loaded (or failed) plugin: an entry point or an in-process registration."""

    name: str
    distribution: str
    version: str
    value: str
    hooks: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "ok" if not self.errors else "error"

    def as_dict(self) -> dict:
        return {"name": self.name, "distribution": self.distribution, "version": self.version,
                "value": self.value, "hooks": self.hooks, "components": self.components,
                "status": self.status, "errors": self.errors}


class Registrar:
    """What a registration hook receives. ``add`` records one lazy component reference."""

    def __init__(self, plugin: PluginRecord, allowed: frozenset[str]):
        self._plugin = plugin
        self._allowed = allowed
        self.staged: list[tuple[ComponentSpec, bool]] = []

    def add(self, name: str, *, kind: str, ref: str, summary: str = "",
            params: Iterable[ParamSpec] = (), requires: Iterable[str] = (),
            replace: bool = False) -> None:
        """Register component ``name`` of ``kind`` implemented by ``ref`` ("module:Object").

        ``replace=True`` deliberately overrides a component of the same name from another plugin.
        """
        if kind not in self._allowed:
            raise LensframeError(
                f"plugin '{self._plugin.name}' registered '{name}' with kind '{kind}' from a hook "
                f"that takes only {sorted(self._allowed)}")
        if not isinstance(name, str) or not name.strip():
            raise LensframeError(f"plugin '{self._plugin.name}' registered an empty name")
        if ":" not in ref:
            raise LensframeError(
                f"plugin '{self._plugin.name}': reference '{ref}' for '{name}' must look like "
                "'package.module:Object'")
        spec = ComponentSpec(name=name, kind=kind, ref=ref, summary=summary,
                             params=tuple(params), requires=tuple(requires),
                             plugin=self._plugin.name, distribution=self._plugin.distribution,
                             version=self._plugin.version)
        self.staged.append((spec, replace))


class Registry:
    """All components from all plugins, looked up by case-insensitive name."""

    def __init__(self, strict: bool | None = None):
        self.strict = _strict_from_env() if strict is None else strict
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(Hooks)
        self.plugins: list[PluginRecord] = []
        self._specs: dict[tuple[str, str], ComponentSpec] = {}
        self._conflicts: dict[tuple[str, str], list[ComponentSpec]] = {}
        self._replacing: set[tuple[str, str]] = set()

    # -- loading -------------------------------------------------------------------------------
    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        eps = sorted(metadata.entry_points(group=group), key=lambda e: (e.name, e.value))
        for ep in eps:
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else ""
            record = PluginRecord(name=ep.name, distribution=dist, version=version, value=ep.value)
            try:
                obj = ep.load()
            except Exception as exc:
                self._fail(record, f"import of '{ep.value}' failed: {type(exc).__name__}: {exc}",
                           exc)
                self.plugins.append(record)
                continue
            self.add_plugin(obj, record=record)

    def add_plugin(self, obj: Any, name: str | None = None, *, distribution: str = "<in-process>",
                   version: str = "", record: PluginRecord | None = None) -> PluginRecord:
        """Register a plugin object (module or instance) and run its registration hooks."""
        if record is None:
            record = PluginRecord(name=name or getattr(obj, "__name__", repr(obj)),
                                  distribution=distribution, version=version,
                                  value=getattr(obj, "__name__", type(obj).__name__))
        if record not in self.plugins:
            self.plugins.append(record)
        unknown = _unknown_hooks(obj)
        if unknown:
            self._fail(record, "implements unknown hook(s) " + ", ".join(
                f"'{u}'" + suggest(u, HOOK_KINDS) for u in unknown))
            return record
        try:
            self.pm.register(obj, name=f"{record.distribution}:{record.name}")
        except Exception as exc:
            self._fail(record, f"could not be registered: {type(exc).__name__}: {exc}", exc)
            return record
        for hook_name, kinds in HOOK_KINDS.items():
            impl = getattr(obj, hook_name, None)
            if impl is None or not callable(impl):
                continue
            if not hasattr(impl, f"{PROJECT}_impl"):
                self._fail(record, f"defines {hook_name} without @lensframe.hookimpl, so it was "
                                   "not called")
                continue
            record.hooks.append(hook_name)
            registrar = Registrar(record, kinds)
            try:
                impl(registry=registrar)
            except Exception as exc:
                self._fail(record, f"hook {hook_name} raised {type(exc).__name__}: {exc}", exc)
                continue
            for spec, replace in registrar.staged:
                self._commit(spec, replace, record)
        return record

    def _commit(self, spec: ComponentSpec, replace: bool, record: PluginRecord) -> None:
        """Add ``spec``. ``replace=True`` wins over a plain registration of the same name whatever
        the load order; two plain registrations, or two replacements, are a conflict."""
        key = (spec.namespace, spec.name.casefold())
        existing = self._specs.get(key)
        if existing is not None:
            existing_replaces = key in self._replacing
            if replace and not existing_replaces:
                self._drop(existing)
            elif existing_replaces and not replace:
                return  # overridden on purpose by the plugin that registered with replace=True
            else:
                how = "replace" if replace else "register"
                message = (f"{spec.namespace} name '{spec.name}' is registered twice: by "
                           f"{existing.provider} and by {spec.provider} (both {how} it); "
                           "uninstall one, or pass replace=True in the plugin that means to "
                           "override")
                self._conflicts.setdefault(key, [existing]).append(spec)
                self._fail(record, message)
                return
        if replace:
            self._replacing.add(key)
        self._specs[key] = spec
        record.components.append(spec.name)

    def _drop(self, spec: ComponentSpec) -> None:
        for plugin in self.plugins:
            if plugin.name == spec.plugin and plugin.distribution == spec.distribution:
                if spec.name in plugin.components:
                    plugin.components.remove(spec.name)

    def _fail(self, record: PluginRecord, message: str, exc: BaseException | None = None) -> None:
        record.errors.append(message)
        if exc is not None and os.environ.get("LENSFRAME_DEBUG"):
            record.errors.append("".join(traceback.format_exception(exc)))
        if self.strict:
            raise PluginLoadError(
                f"plugin '{record.name}' ({record.distribution} {record.version}): {message} "
                f"[strict mode: unset {STRICT_ENV} to report and continue]") from exc

    # -- queries -------------------------------------------------------------------------------
    def components(self, kind: str | None = None) -> list[ComponentSpec]:
        if kind is not None and kind not in KINDS:
            raise LensframeError(f"unknown kind '{kind}'; kinds are {', '.join(KINDS)}")
        specs = [s for s in self._specs.values() if kind is None or s.kind == kind]
        return sorted(specs, key=lambda s: (KINDS.index(s.kind), s.name.casefold()))

    def status(self, spec: ComponentSpec) -> str:
        if (spec.namespace, spec.name.casefold()) in self._conflicts:
            return "conflict"
        missing = spec.missing_requirements()
        return f"missing {','.join(missing)}" if missing else "ok"

    def errors(self) -> list[tuple[PluginRecord, str]]:
        return [(p, e) for p in self.plugins for e in p.errors]

    def get(self, name: str, namespace: str) -> ComponentSpec:
        """The spec registered as ``name`` (any case) in ``namespace``; errors suggest names."""
        if not isinstance(name, str):
            raise UnknownComponentError(f"{namespace} name must be a string, got {name!r}")
        key = (namespace, name.casefold())
        if key in self._conflicts:
            providers = " and ".join(s.provider for s in self._conflicts[key])
            raise DuplicateComponentError(
                f"{namespace} '{name}' is provided by more than one plugin: {providers}")
        spec = self._specs.get(key)
        if spec is None:
            known = [s.name for (ns, _), s in self._specs.items() if ns == namespace]
            raise UnknownComponentError(
                f"unknown {namespace} '{name}'" + suggest(name, known)
                + f"; known: {', '.join(sorted(known, key=str.casefold)) or 'none'}"
                + _load_error_hint(self))
        return spec

    def find(self, name: str) -> list[ComponentSpec]:
        """Every component called ``name`` in any namespace (for ``lensframe info``)."""
        return [s for (ns, k), s in self._specs.items() if k == name.casefold()]

    def all_names(self) -> list[str]:
        return sorted({s.name for s in self._specs.values()}, key=str.casefold)


def _strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _unknown_hooks(obj: Any) -> list[str]:
    marker = f"{PROJECT}_impl"
    unknown = []
    for attr in dir(obj):
        if attr not in HOOK_KINDS and hasattr(getattr(obj, attr, None), marker):
            unknown.append(attr)
    return unknown


def suggest(name: str, candidates: Iterable[str]) -> str:
    candidates = list(candidates)
    folded = {c.casefold(): c for c in candidates}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(folded[c]) for c in close)}?)" if close else ""


def _load_error_hint(registry: Registry) -> str:
    broken = [p.name for p in registry.plugins if p.errors]
    return (f"; plugins that failed to load: {', '.join(broken)} (see `lensframe plugins`)"
            if broken else "")


_lock = threading.Lock()
_default: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, discovered from entry points on first use."""
    global _default
    with _lock:
        if _default is None:
            registry = Registry()
            registry.load_entry_points()
            _default = registry
        return _default


def reset_registry() -> None:
    """Forget the discovered plugins; the next lookup discovers them again."""
    global _default
    with _lock:
        _default = None


def load_component(name: str, namespace: str) -> tuple[ComponentSpec, Any]:
    spec = get_registry().get(name, namespace)
    return spec, spec.load()
