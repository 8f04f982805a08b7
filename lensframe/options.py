"""Options of fitters and likelihoods: a frozen dataclass per component, validated on the host.

``make_options`` turns keyword arguments (from Python or a config file) into that dataclass, so a
misspelt option fails before any compilation, naming the component and its valid options.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """For components that take no options."""


def option_table(cls: type) -> list[dict]:
    """Name, type, default and help of each option (``lensframe info``)."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        rows.append({"name": f.name, "type": _type_name(hints.get(f.name, Any)),
                     "default": default, "help": f.metadata.get("help", "")})
    return rows


def make_options(cls: type, given: Mapping[str, Any], owner: str):
    """Validate ``given`` against the frozen dataclass ``cls``; errors name ``owner``."""
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in given if k not in valid]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, valid, n=1)
            hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise TypeError(f"{owner} got unknown option(s) {', '.join(hints)}; valid options: "
                        f"{', '.join(valid) or 'none'}")
    types = typing.get_type_hints(cls)
    coerced = {k: _coerce(v, types.get(k, Any), f"{owner} option '{k}'") for k, v in given.items()}
    try:
        return cls(**coerced)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{owner}: {exc}") from exc


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value, tp, where):
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ValueError(f"{where} must be one of {list(typing.get_args(tp))}, got {value!r}")
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except (TypeError, ValueError):
                continue
        raise TypeError(f"{where} must be {_type_name(tp)}, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(f"{where} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"{where} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"{where} must be a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where} must be a list, got {value!r}")
        return tuple(value)
    return value


def positive(name: str, value, allow_zero: bool = False) -> None:
    """Range check for ``__post_init__`` of option dataclasses."""
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"option '{name}' must be {'≥ 0' if allow_zero else '> 0'}, got {value}")
