"""A Problem: named components, their parameters and priors, data and a likelihood, composed into a
log-density over one flat vector of free parameters.

The static structure (which profiles, which parameters are free, prior families, likelihood and its
options, data shapes) is fixed when the problem is built; the numbers (data arrays, prior
hyperparameters, fixed values) travel as one pytree, ``problem.args``, that every compiled program
takes as an argument. ``problem.with_data(...)`` makes a problem of the same structure for new data,
so a compiled fit is reused for it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from dataclasses import dataclass
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .batching import over_batch
from .errors import ConfigError, ParameterError
from .likelihood import Component, Likelihood
from .options import make_options
from .priors import PRIORS, Fixed, Linear, Linked, Prior
from .profile import Profile
from .registry import ComponentSpec, get_registry


_PENALTY = -1e12  # ln L outside the profiles' domains


@dataclass(frozen=True)
class Layout:
    """Where each parameter comes from. Keys are ``"component.param"``."""

    free: tuple[str, ...]
    fixed: tuple[str, ...]
    linked: tuple[tuple[str, str], ...]  # (key, target key), in resolution order
    linear: tuple[str, ...]
    families: tuple[str, ...]  # prior family of each free parameter


#: jitted result programs (``Problem.named``, ``Problem.products``) by (structure, method)
_shared_programs: dict[tuple[str, str], Any] = {}
_shared_lock = threading.Lock()


class Problem:
    """Components + priors + data + likelihood → ``log_density(theta, args)``.

    Build one with :meth:`Problem.build` (Python) or ``lensframe.config.load`` (TOML).
    """

    def __init__(self, components: Mapping[str, Component], layout: Layout,
                 priors: tuple[Prior, ...], fixed_values: np.ndarray, likelihood: Likelihood,
                 likelihood_name: str, likelihood_version: str, data: dict):
        self.components = dict(components)
        self.layout = layout
        self.priors = priors
        self.fixed_values = fixed_values
        self.likelihood = likelihood
        self.likelihood_name = likelihood_name
        self.likelihood_version = likelihood_version
        self.data = data

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def build(cls, components: Mapping[str, Mapping[str, Any]], data: Mapping[str, Any],
              likelihood: str = "imaging", likelihood_options: Mapping[str, Any] | None = None,
              base_dir=None, where: str = "components") -> "Problem":
        """Build a problem from plain dictionaries.

        Args:
            components: ``{name: {"profile": "SIE", "params": {...}, **component_options}}``; each
                parameter is a number (fixed), a :class:`~lensframe.priors.Prior` or prior dict
                ``{"prior": "uniform", "low": 0.5, "high": 2}``, ``{"fixed": v}``,
                ``{"link": "other.param"}``, or ``"linear"``.
            data: what the likelihood's ``prepare_data`` reads (arrays or file paths).
            likelihood: registered likelihood name; ``likelihood_options`` its options.
            base_dir: folder that relative data paths are resolved against.
        """
        registry = get_registry()
        if not isinstance(components, Mapping) or not components:
            raise ConfigError(f"{where}: give at least one component")
        lk_spec = registry.get(likelihood, "likelihood")
        lk_cls = lk_spec.load()

        built: dict[str, Component] = {}
        roles: dict[str, Any] = {}
        for cname, centry in components.items():
            cwhere = f"{where}.{cname}"
            if not isinstance(centry, Mapping):
                raise ConfigError(f"{cwhere}: expected a table with 'profile' and 'params'")
            if "profile" not in centry:
                raise ConfigError(f"{cwhere}: missing key 'profile'")
            extra = {k: v for k, v in centry.items() if k not in ("profile", "params")}
            pspec, profile, extra = _resolve_profile(centry["profile"], extra, cwhere)
            _check_component_options(cwhere, extra, lk_cls, lk_spec.name)
            options = {**extra, **{f"profile.{k}": v for k, v in vars(profile.options).items()}}
            comp = Component(cname, pspec.name if pspec else type(profile).__name__, profile,
                             pspec.version if pspec else "", tuple(sorted(options.items())))
            built[cname] = comp
            roles.update(_parse_params(comp, centry.get("params", {}), f"{cwhere}.params"))

        layout, priors, fixed = _make_layout(roles, built, where)
        options = make_options(lk_cls.Options, dict(likelihood_options or {}),
                               f"likelihood '{lk_spec.name}'")
        lk = lk_cls(built, frozenset(layout.linear), options)
        prepared = lk.prepare_data(data, base_dir)
        return cls(built, layout, priors, fixed, lk, lk_spec.name, lk_spec.version,
                   _as_arrays(prepared))

    def with_data(self, data: Mapping[str, Any], base_dir=None) -> "Problem":
        """The same model for new data; raises if shapes differ (they would need a new compile)."""
        prepared = _as_arrays(self.likelihood.prepare_data(data, base_dir))
        return Problem(self.components, self.layout, self.priors, self.fixed_values,
                       self.likelihood, self.likelihood_name, self.likelihood_version, prepared)

    # -- the flat parameter vector ---------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.layout.free)

    @property
    def free_names(self) -> tuple[str, ...]:
        return self.layout.free

    @property
    def args(self) -> dict:
        """Everything numeric a compiled program needs: data, priors, fixed values."""
        return {"data": self.data, "priors": self.priors, "fixed": jnp.asarray(self.fixed_values)}

    def values(self, theta, args) -> dict[str, dict[str, Any]]:
        """``{component: {param: value}}`` for a free-parameter vector (linear ones omitted)."""
        flat: dict[str, Any] = {}
        for i, key in enumerate(self.layout.free):
            flat[key] = theta[i]
        for j, key in enumerate(self.layout.fixed):
            flat[key] = args["fixed"][j]
        for key, target in self.layout.linked:
            flat[key] = flat[target]
        nested: dict[str, dict[str, Any]] = {name: {} for name in self.components}
        for key, value in flat.items():
            cname, pname = key.split(".", 1)
            nested[cname][pname] = value
        return nested

    def log_prior(self, theta, args):
        lp = jnp.zeros((), dtype=jnp.result_type(float))
        for i, prior in enumerate(args["priors"]):
            lp = lp + prior.log_prob(theta[i])
        return lp

    def log_likelihood(self, theta, args):
        """ln L at ``theta``. Outside a profile's domain (e.g. |e| ≥ 1) it is a finite penalty,
        −1e12 (1 + violation), sloping back towards the domain; the likelihood itself is then
        evaluated at the prior centre instead (the double-where trick), so neither its value nor
        its gradient can carry a NaN into a fit."""
        values = self.values(theta, args)
        violation = sum((c.profile.domain_violation(**values[name])
                         for name, c in self.components.items()), jnp.zeros(()))
        inside = violation == 0
        centre = jnp.stack([p.from_unit(0.5) for p in args["priors"]]) if self.dim else theta
        safe = self.values(jnp.where(inside, theta, centre), args)
        ll = self.likelihood.log_likelihood(safe, args["data"])
        return jnp.where(inside, ll, _PENALTY * (1.0 + violation))

    def log_density(self, theta, args):
        """ln p(theta | data) up to a constant: log-prior plus log-likelihood."""
        lp = self.log_prior(theta, args)
        # Outside the prior's support the likelihood is not evaluated meaningfully.
        ll = self.log_likelihood(theta, args)
        return jnp.where(jnp.isfinite(lp), lp + ll, -jnp.inf)

    def log_density_batch(self, thetas, args, chunk="auto"):
        """ln p at each row of ``thetas`` (n, dim), in cache-friendly chunks on a CPU (see
        :mod:`lensframe.batching`); what population samplers (PSO, emcee, nautilus) call."""
        return over_batch(self.log_density, chunk)(thetas, args)

    def log_likelihood_batch(self, thetas, args, chunk="auto"):
        """ln L at each row of ``thetas`` (n, dim), chunked as :meth:`log_density_batch`."""
        return over_batch(self.log_likelihood, chunk)(thetas, args)

    def from_unit(self, u, args):
        """Unit hypercube → parameters (the priors' inverse CDFs)."""
        return jnp.stack([p.from_unit(u[i]) for i, p in enumerate(args["priors"])])

    def from_unconstrained(self, z, args):
        """Unconstrained reals → (parameters, log |Jacobian|)."""
        pairs = [p.from_unconstrained(z[i]) for i, p in enumerate(args["priors"])]
        theta = jnp.stack([x for x, _ in pairs])
        return theta, sum(ld for _, ld in pairs)

    def to_unconstrained(self, theta, args):
        return jnp.stack([p.to_unconstrained(theta[i]) for i, p in enumerate(args["priors"])])

    def log_density_unconstrained(self, z, args):
        """Log-density in unconstrained space, Jacobian included (for NUTS and emcee)."""
        theta, logdet = self.from_unconstrained(z, args)
        return self.log_density(theta, args) + logdet

    # -- results ---------------------------------------------------------------------------------
    def named(self, theta, args=None) -> dict[str, float]:
        """Every parameter of every component, keyed ``"component.param"``, as floats: free,
        fixed, linked and the linear ones solved at ``theta``."""
        args = self.args if args is None else args
        values, solved = jax.device_get(self._jitted(self._named_arrays)(jnp.asarray(theta), args))
        out = {f"{c}.{p}": float(v) for c, ps in values.items() for p, v in ps.items()}
        out.update({k: float(v) for k, v in solved.items()})
        order = [f"{c}.{p}" for c, comp in self.components.items() for p in comp.profile.param_names]
        return {k: out[k] for k in order if k in out}

    def products(self, theta, args=None) -> dict[str, np.ndarray]:
        """The likelihood's products at ``theta`` (model, residuals, …; see its ``products``),
        as NumPy arrays."""
        args = self.args if args is None else args
        return jax.device_get(self._jitted(self._products)(jnp.asarray(theta), args))

    def _named_arrays(self, theta, args):
        values = self.values(theta, args)
        solved = (self.likelihood.linear_solution(values, args["data"]) if self.layout.linear
                  else {})
        return values, solved

    def _products(self, theta, args):
        return self.likelihood.products(self.values(theta, args), args["data"])

    def _jitted(self, method):
        """``method`` jitted once for all problems of this structure: everything numeric is in
        ``args``, so a batch's lenses (``with_data``) share one trace, as the fitters' programs
        do (:mod:`lensframe.dispatch`). Run op by op, the linear solve alone dispatched ~130
        small XLA compilations: 2–3 s at the end of every fit in a fresh process."""
        key = (self._structure, method.__name__)
        with _shared_lock:
            if key not in _shared_programs:
                _shared_programs[key] = jax.jit(method)
            return _shared_programs[key]

    @functools.cached_property
    def _structure(self) -> str:
        return self.structure_key()

    def structure_key(self) -> str:
        """A digest of everything that decides the compiled program (not the numbers)."""
        parts = [
            repr([(c.name, c.profile_name, c.version, c.options) for c in self.components.values()]),
            repr(self.layout),
            self.likelihood_name, self.likelihood_version, repr(self.likelihood.options),
            repr(jax.tree_util.tree_structure(self.args)),
            repr([(np.shape(a), str(np.asarray(a).dtype))
                  for a in jax.tree_util.tree_leaves(self.data)]),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def describe(self) -> list[dict]:
        """One row per parameter: component, name, role, prior or value."""
        rows = []
        fixed = dict(zip(self.layout.fixed, self.fixed_values.tolist()))
        linked = dict(self.layout.linked)
        priors = dict(zip(self.layout.free, self.priors))
        for cname, comp in self.components.items():
            for p in comp.profile.param_names:
                key = f"{cname}.{p}"
                if key in priors:
                    role, detail = "free", priors[key].describe()
                elif key in fixed:
                    role, detail = "fixed", f"{fixed[key]:g}"
                elif key in linked:
                    role, detail = "linked", linked[key]
                else:
                    role, detail = "linear", "solved"
                rows.append({"parameter": key, "role": role, "detail": detail})
        return rows


# ------------------------------------------------------------------------------------------------

def _resolve_profile(profile, extra: dict, where: str):
    """(spec, instance, remaining component keys): keys naming the profile's own options are
    validated and passed to its constructor; the rest are for the likelihood."""
    if isinstance(profile, Profile):
        return None, profile, extra
    if not isinstance(profile, str):
        raise ConfigError(f"{where}.profile: expected a profile name, got {profile!r}")
    spec = get_registry().get(profile, "profile")
    obj = spec.load()
    if isinstance(obj, type):
        import dataclasses

        own = {f.name for f in dataclasses.fields(obj.Options)} if issubclass(obj, Profile) else set()
        mine = {k: v for k, v in extra.items() if k in own}
        extra = {k: v for k, v in extra.items() if k not in own}
        instance = obj(make_options(obj.Options, mine, f"{where}: profile '{spec.name}'"))
    else:
        instance = obj
    if not isinstance(instance, Profile):
        raise ConfigError(f"{where}.profile: '{profile}' from {spec.provider} is not a Profile")
    return spec, instance, extra


def _check_component_options(where, extra, lk_cls, lk_name):
    allowed = lk_cls.component_options
    for key, value in extra.items():
        if key not in allowed:
            import difflib
            close = difflib.get_close_matches(key, list(allowed) + ["profile", "params"], n=1)
            raise ConfigError(
                f"{where}: unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")
                + f"; a component takes 'profile', 'params'"
                + (f" and, for likelihood '{lk_name}', {', '.join(map(repr, allowed))}"
                   if allowed else ""))
        choices = allowed[key]
        if choices and value not in choices:
            raise ConfigError(f"{where}.{key}: must be one of {list(choices)}, got {value!r}")


def _parse_params(comp: Component, given: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(given, Mapping):
        raise ConfigError(f"{where}: expected a table of parameters")
    specs = {p.name: p for p in comp.profile.params}
    given = _expand_wildcards(given, specs, where)
    unknown = [k for k in given if k not in specs]
    if unknown:
        import difflib
        msgs = []
        for k in unknown:
            close = difflib.get_close_matches(k, list(specs), n=1)
            msgs.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ParameterError(
            f"{where}: unknown parameter(s) {', '.join(msgs)} for profile '{comp.profile_name}'; "
            f"its parameters are {', '.join(specs)}")
    roles = {}
    missing = []
    for name, spec in specs.items():
        key = f"{comp.name}.{name}"
        pwhere = f"{where}.{name}"
        if name in given:
            role = _parse_role(given[name], pwhere)
        elif spec.default is not None:
            role = Fixed(float(spec.default))
        else:
            missing.append(name)
            continue
        _check_role(role, spec, pwhere)
        roles[key] = role
    if missing:
        raise ParameterError(f"{where}: missing parameter(s) {', '.join(missing)} for profile "
                             f"'{comp.profile_name}' (they have no default)")
    return roles


def _expand_wildcards(given: Mapping[str, Any], specs, where: str) -> dict:
    """Keys with ``*`` or ``?`` (e.g. ``"amp_*" = "linear"`` for 66 shapelet amplitudes) apply to
    every parameter they match; a parameter named explicitly keeps its own entry."""
    import fnmatch

    expanded: dict[str, Any] = {}
    for key, value in given.items():
        if "*" in key or "?" in key:
            matches = fnmatch.filter(specs, key)
            if not matches:
                raise ParameterError(f"{where}.{key}: the pattern matches no parameter; "
                                     f"parameters are {', '.join(specs)}")
            for name in matches:
                expanded.setdefault(name, value)
    explicit = {k: v for k, v in given.items() if "*" not in k and "?" not in k}
    return {**expanded, **explicit}


def _parse_role(value, where):
    if isinstance(value, (Prior, Fixed, Linked, Linear)):
        return value
    if isinstance(value, bool):
        raise ParameterError(f"{where}: expected a number, a prior, a link or 'linear'")
    if isinstance(value, (int, float)):
        return Fixed(float(value))
    if isinstance(value, str):
        if value.strip().lower() == "linear":
            return Linear()
        raise ParameterError(f"{where}: '{value}' is not a value; write a number, 'linear', "
                             "{prior = ...}, {fixed = ...} or {link = \"component.param\"}")
    if isinstance(value, Mapping):
        value = dict(value)
        if "fixed" in value:
            _only(value, {"fixed"}, where)
            return Fixed(float(value["fixed"]))
        if "link" in value:
            _only(value, {"link"}, where)
            return Linked(str(value["link"]))
        if "prior" in value:
            family = str(value.pop("prior")).lower()
            if family not in PRIORS:
                import difflib
                close = difflib.get_close_matches(family, list(PRIORS), n=1)
                raise ParameterError(
                    f"{where}.prior: unknown prior '{family}'"
                    + (f" (did you mean '{close[0]}'?)" if close else "")
                    + "; priors: uniform, normal, truncnormal, loguniform")
            cls = PRIORS[family]
            import dataclasses
            need = [f.name for f in dataclasses.fields(cls)]
            if set(value) != set(need):
                raise ParameterError(f"{where}: a {cls.__name__} prior takes exactly "
                                     f"{', '.join(need)}; got {', '.join(sorted(value)) or 'none'}")
            try:
                return cls(**{k: float(v) for k, v in value.items()})
            except (TypeError, ValueError) as exc:
                raise ParameterError(f"{where}: {exc}") from exc
        raise ParameterError(f"{where}: a parameter table needs 'prior', 'fixed' or 'link'")
    raise ParameterError(f"{where}: cannot interpret {value!r}")


def _only(value, keys, where):
    extra = set(value) - keys
    if extra:
        raise ParameterError(f"{where}: unexpected key(s) {', '.join(sorted(extra))}")


def _check_role(role, spec, where):
    if isinstance(role, Linear) and not spec.linear:
        raise ParameterError(f"{where}: '{spec.name}' cannot be solved linearly")
    if isinstance(role, Fixed):
        if not math.isfinite(role.value):
            raise ParameterError(f"{where}: value must be finite, got {role.value}")
        if not spec.lower <= role.value <= spec.upper:
            raise ParameterError(f"{where}: {role.value} is outside the allowed range "
                                 f"[{spec.lower}, {spec.upper}] ({spec.unit})")
    if isinstance(role, Prior):
        role.check(where)
        low, high = role.support()
        if low < spec.lower or high > spec.upper:
            raise ParameterError(
                f"{where}: the prior's support [{low}, {high}] leaves the allowed range "
                f"[{spec.lower}, {spec.upper}] of '{spec.name}'; use a bounded prior inside it")


def _make_layout(roles: dict[str, Any], components, where):
    free = [k for k, r in roles.items() if isinstance(r, Prior)]
    fixed = [k for k, r in roles.items() if isinstance(r, Fixed)]
    linear = [k for k, r in roles.items() if isinstance(r, Linear)]
    links = {k: r.target for k, r in roles.items() if isinstance(r, Linked)}
    for key, target in links.items():
        if target not in roles:
            import difflib
            close = difflib.get_close_matches(target, list(roles), n=1)
            raise ParameterError(
                f"{where}.{key.replace('.', '.params.', 1)}: link target '{target}' is not a "
                "parameter of any component" + (f" (did you mean '{close[0]}'?)" if close else ""))
        if isinstance(roles[target], Linear):
            raise ParameterError(f"{where}: '{key}' cannot link to the linear parameter '{target}'")
    order: list[tuple[str, str]] = []
    resolved = set(free) | set(fixed)
    pending = dict(links)
    while pending:
        progress = [(k, t) for k, t in pending.items() if t in resolved]
        if not progress:
            raise ParameterError(f"{where}: links form a cycle: {', '.join(sorted(pending))}")
        for k, t in progress:
            order.append((k, t))
            resolved.add(k)
            del pending[k]
    priors = tuple(roles[k] for k in free)
    layout = Layout(tuple(free), tuple(fixed), tuple(order), tuple(linear),
                    tuple(p.family for p in priors))
    fixed_values = np.array([roles[k].value for k in fixed], dtype=float)
    priors = tuple(jax.tree_util.tree_map(lambda v: np.asarray(v, dtype=float), p) for p in priors)
    return layout, priors, fixed_values


def _as_arrays(prepared: Mapping[str, Any]) -> dict:
    return {k: np.asarray(v) for k, v in prepared.items()}
