"""TOML configuration → a Problem, a chain of fitters and an output folder.

Layout of a config file (see ``examples/sie_mock.toml`` and ``docs/config.md``)::

    [data]              # read by the likelihood: paths ("file.fits[EXT]"), numbers or arrays
    [likelihood]        # name = "imaging" and the likelihood's options
    [components.NAME]   # profile = "SIE", params.X = number | "linear" | {prior=...} | {link=...}
    [[fit]]             # fitter = "lbfgs" and its options; several [[fit]] tables form a chain
    [output]            # dir = "out/run", truth = "truth.json" (optional)
    seed = 0            # PRNG seed of the first stage

Every error names the key (``components.lens.params.theta_E``) and, where it can be found, the line.
Relative data and truth paths are resolved against the config file's folder; the output folder
against the working directory. Everything is validated, fitter names and options included, before
any compilation starts.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError, LensframeError
from .options import make_options
from .problem import Problem
from .registry import get_registry

TOP_LEVEL = ("data", "likelihood", "components", "fit", "output", "seed")
OUTPUT_KEYS = ("dir", "truth", "plots")


@dataclass
class FitStage:
    fitter: str
    options: dict[str, Any]


@dataclass
class RunConfig:
    problem: Problem
    stages: list[FitStage]
    output_dir: Path
    truth: dict[str, float] | None = None
    seed: int = 0
    plots: bool = True
    source: Path | None = None
    raw: dict = field(default_factory=dict)


def load(path, output_dir=None) -> RunConfig:
    """Read and validate a TOML config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return from_dict(raw, base_dir=path.parent, output_dir=output_dir, source=path)
    except (LensframeError, TypeError, ValueError) as exc:
        message = str(exc)
        line = _line_of(text, message)
        suffix = f" (line {line})" if line else ""
        raise type(exc)(f"{path}: {message}{suffix}") from exc


def from_dict(raw: Mapping[str, Any], base_dir=".", output_dir=None, source=None) -> RunConfig:
    unknown = [k for k in raw if k not in TOP_LEVEL]
    if unknown:
        raise ConfigError(_unknown("", unknown, TOP_LEVEL))
    for key in ("data", "components"):
        if key not in raw:
            raise ConfigError(f"{key}: missing section [{key}]")
    likelihood = dict(raw.get("likelihood", {}))
    lk_name = likelihood.pop("name", "imaging")
    problem = Problem.build(raw["components"], raw["data"], likelihood=lk_name,
                            likelihood_options=likelihood, base_dir=base_dir)
    stages = _stages(raw.get("fit", [{"fitter": "lbfgs"}]))
    out = dict(raw.get("output", {}))
    bad = [k for k in out if k not in OUTPUT_KEYS]
    if bad:
        raise ConfigError(_unknown("output.", bad, OUTPUT_KEYS))
    truth = None
    if "truth" in out:
        truth = _truth(out["truth"], base_dir, problem)
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed: expected an integer, got {seed!r}")
    plots = out.get("plots", True)
    if not isinstance(plots, bool):
        raise ConfigError(f"output.plots: expected true or false, got {plots!r}")
    directory = Path(output_dir) if output_dir is not None else Path(out.get("dir", "lensframe-out"))
    return RunConfig(problem, stages, directory, truth, seed, plots, source, dict(raw))


def _stages(fit) -> list[FitStage]:
    if isinstance(fit, Mapping):
        fit = [fit]
    if not isinstance(fit, list) or not fit:
        raise ConfigError("fit: expected one or more [[fit]] tables")
    stages = []
    registry = get_registry()
    for i, entry in enumerate(fit):
        where = f"fit[{i}]"
        if not isinstance(entry, Mapping) or "fitter" not in entry:
            raise ConfigError(f"{where}.fitter: missing (e.g. fitter = \"lbfgs\")")
        options = {k: v for k, v in entry.items() if k != "fitter"}
        try:
            spec = registry.get(entry["fitter"], "fitter")
        except LensframeError as exc:
            raise ConfigError(f"{where}.fitter: {exc}") from None
        make_options(spec.load().Options, options, f"{where}: fitter '{spec.name}'")
        stages.append(FitStage(spec.name, options))
    return stages


def _truth(value, base_dir, problem) -> dict[str, float]:
    if isinstance(value, Mapping):
        truth = dict(value)
    else:
        path = Path(value)
        path = path if path.is_absolute() else Path(base_dir) / path
        if not path.is_file():
            raise ConfigError(f"output.truth: file not found: {path}")
        try:
            truth = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"output.truth: {path} is not valid JSON: {exc}") from None
    known = {f"{c}.{p}" for c, comp in problem.components.items()
             for p in comp.profile.param_names}
    bad = [k for k in truth if k not in known]
    if bad:
        raise ConfigError(_unknown("output.truth: parameter ", bad, sorted(known)))
    return {k: float(v) for k, v in truth.items()}


def _unknown(prefix: str, keys, valid) -> str:
    parts = []
    for k in keys:
        close = difflib.get_close_matches(str(k), list(valid), n=1)
        parts.append(f"{prefix}{k}: unknown key" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return "; ".join(parts) + f"; valid keys: {', '.join(valid)}"


def _line_of(text: str, message: str) -> int | None:
    """Best-effort line number of the key a message starts with (``a.b.c: ...``)."""
    match = re.match(r"^([A-Za-z_][\w.\[\]-]*)\s*:", message)
    if not match:
        return None
    tokens = [t for t in re.split(r"[.\[\]]", match.group(1)) if t and not t.isdigit()]
    if not tokens:
        return None
    lines = text.splitlines()
    start = 0
    # find the deepest [section] header that names a prefix of the key
    for depth in range(len(tokens), 0, -1):
        header = ".".join(tokens[:depth])
        for i, line in enumerate(lines):
            if re.match(rf"^\s*\[\[?\s*{re.escape(header)}\s*\]\]?", line):
                start = i
                tokens = tokens[depth:]
                break
        else:
            continue
        break
    if not tokens:
        return start + 1
    last = re.escape(tokens[-1])
    for i in range(start, len(lines)):
        if re.search(rf"(^|[.\s]){last}\s*=", lines[i]):
            return i + 1
    return start + 1 if start else None
