"""A batch config: a ``lensframe fit`` config plus a ``[batch]`` table (docs/batch.md).

Everything is validated here, in the client, before any task is sent: the model, priors, fitter
chain and options (by building the problem for the first lens whose data can be read — a lens with
bad data is that lens's failure, not a config error), and every ``[batch]`` key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import config as config_mod
from ..errors import ConfigError, DataError, LensframeError
from .catalogue import Lens, find_lenses


@dataclass
class BatchSettings:
    """What a batch needs, validated. ``model`` is the config without ``[batch]`` and with
    ``[data]`` holding only the fixed keys: each worker builds its template problem from it."""

    model: dict
    base_dir: Path
    lenses: list[Lens]
    output_dir: Path
    stages: list[config_mod.FitStage]
    seed: int = 0
    workers: int = 1
    retries: int = 2
    scheduler: str | None = None
    shape: tuple[int, ...] | None = None
    x64: bool = True
    figures: bool = True
    source: Path | None = None
    free_names: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def model_digest(self) -> str:
        """Identifies the model, so a worker keeps one template problem per batch config."""
        text = json.dumps([self.model, str(self.base_dir), self.x64], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_batch(path, *, output_dir=None, workers=None, retries=None, scheduler=None,
               limit=None) -> BatchSettings:
    """Read and validate a batch config; keyword arguments are the command-line overrides."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return from_dict(raw, base_dir=path.parent, source=path, output_dir=output_dir,
                         workers=workers, retries=retries, scheduler=scheduler, limit=limit)
    except LensframeError as exc:
        raise type(exc)(f"{path}: {exc}") from exc


def from_dict(raw: dict, base_dir=".", source=None, *, output_dir=None, workers=None, retries=None,
              scheduler=None, limit=None) -> BatchSettings:
    raw = dict(raw)
    batch = raw.pop("batch", raw.pop("catalogue", None))
    if not isinstance(batch, dict):
        raise ConfigError("batch: missing section [batch] (the catalogue of lenses; see "
                          "docs/batch.md)")
    base_dir = Path(base_dir)
    workers = _integer(batch, "workers", workers, 1, minimum=1)
    retries = _integer(batch, "retries", retries, 2, minimum=0)
    scheduler = scheduler if scheduler is not None else batch.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ConfigError(f"batch.scheduler: expected an address like 'tcp://host:8786', got "
                          f"{scheduler!r}")
    shape = batch.get("shape")
    if shape is not None:
        if (not isinstance(shape, list) or not shape
                or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)):
            raise ConfigError(f"batch.shape: expected positive integers like [201, 201], got "
                              f"{shape!r}")
        shape = tuple(shape)
    x64 = _boolean(batch, "x64", True)
    lenses = find_lenses(batch, base_dir)
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit: expected a positive number of lenses, got {limit}")
        lenses = lenses[:limit]

    fixed = raw.get("data", {})
    if not isinstance(fixed, dict):
        raise ConfigError("data: expected a table of data keys shared by every lens")
    overlap = sorted(set(fixed) & {k for lens in lenses for k in lens.data})
    if overlap and "folder" in batch:
        raise ConfigError(f"data.{overlap[0]}: given both in [data] and as a [batch] template; "
                          "keep one")
    model = {**raw, "data": dict(fixed)}
    run = _validate_model(model, lenses, base_dir, output_dir)
    plots = _boolean(batch, "figures", run.plots)
    return BatchSettings(model=model, base_dir=base_dir, lenses=lenses,
                         output_dir=Path(run.output_dir), stages=run.stages, seed=run.seed,
                         workers=workers, retries=retries, scheduler=scheduler, shape=shape,
                         x64=x64, figures=plots, source=source,
                         free_names=tuple(run.problem.free_names))


def _validate_model(model: dict, lenses: list[Lens], base_dir: Path, output_dir):
    """Build the fit config for the first lens whose data can be read: every model, prior and
    fitter error surfaces here. Data errors of single lenses are left to the run."""
    first_error = None
    for lens in lenses:
        raw = {**model, "data": {**model["data"], **lens.data}}
        try:
            return config_mod.from_dict(raw, base_dir=base_dir, output_dir=output_dir)
        except DataError as exc:
            first_error = first_error or f"lens '{lens.name}': {exc}"
    raise DataError(f"batch: no lens has readable data; the first error was {first_error}")


def _integer(batch, key, override, default, minimum):
    value = override if override is not None else batch.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"batch.{key}: expected an integer ≥ {minimum}, got {value!r}")
    return value


def _boolean(batch, key, default):
    value = batch.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"batch.{key}: expected true or false, got {value!r}")
    return value
