"""The lenses of a batch: subfolders of a folder with per-lens file-name templates, or a CSV table
of paths. Only names and paths are gathered here; files are read by the worker that fits the lens,
so one unreadable cutout fails that lens and not the batch."""

from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError

#: ``[batch]`` keys that are settings, not per-lens data templates
SETTING_KEYS = ("workers", "retries", "scheduler", "shape", "x64", "figures", "names", "exclude")
TEMPLATE_EXCLUDED = SETTING_KEYS + ("folder", "table")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")


@dataclass(frozen=True)
class Lens:
    """One lens: a name (also its output folder's name) and its own data keys (paths are
    absolute; numbers stay numbers). Fixed keys shared by every lens come from ``[data]``."""

    name: str
    data: Mapping[str, Any]


def find_lenses(batch: Mapping[str, Any], base_dir) -> list[Lens]:
    """The catalogue described by a ``[batch]`` table, sorted by name.

    Args:
        batch: the ``[batch]`` table: ``folder`` plus templates (``image = "{name}/image.fits"``),
            or ``table`` (a CSV with a ``name`` column), with optional ``names`` (glob) and
            ``exclude`` (list of names).
        base_dir: folder that ``folder`` and ``table`` are resolved against (the config's).
    """
    base_dir = Path(base_dir)
    if ("folder" in batch) == ("table" in batch):
        raise ConfigError("batch: give exactly one of 'folder' (lens subfolders) or 'table' "
                          "(a CSV of paths)")
    if "folder" in batch:
        templates = {k: v for k, v in batch.items() if k not in TEMPLATE_EXCLUDED}
        lenses = _from_folder(_resolve(batch["folder"], base_dir, "batch.folder"), templates,
                              str(batch.get("names", "*")))
    else:
        extra = sorted(k for k in batch if k not in TEMPLATE_EXCLUDED)
        if extra:
            raise ConfigError(f"batch.{extra[0]}: unknown key; with 'table' the per-lens paths "
                              "are columns of the CSV")
        lenses = _from_table(_resolve(batch["table"], base_dir, "batch.table"))
    exclude = batch.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(n, str) for n in exclude):
        raise ConfigError("batch.exclude: expected a list of lens names")
    lenses = [lens for lens in lenses if lens.name not in set(exclude)]
    if not lenses:
        where = batch.get("folder", batch.get("table"))
        raise ConfigError(f"batch: no lenses found in {where}")
    return sorted(lenses, key=lambda lens: lens.name)


def _resolve(value, base_dir: Path, key: str) -> Path:
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a path, got {value!r}")
    path = Path(value).expanduser()
    # absolute, so per-lens paths are not resolved against the config's folder a second time
    return path if path.is_absolute() else (base_dir / path).resolve()


def _from_folder(folder: Path, templates: Mapping[str, Any], pattern: str) -> list[Lens]:
    if not folder.is_dir():
        raise ConfigError(f"batch.folder: not a folder: {folder}")
    if "image" not in templates:
        raise ConfigError("batch.image: missing; the per-lens image path, e.g. "
                          "image = \"{name}/image.fits\"")
    for key, template in templates.items():
        if isinstance(template, str) and "{" in template:
            try:
                template.format(name="x")
            except (KeyError, IndexError, ValueError):
                raise ConfigError(f"batch.{key}: a template may use only {{name}}, got "
                                  f"{template!r}") from None
    lenses = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not fnmatch.fnmatchcase(sub.name, pattern):
            continue
        data = {key: _fill(value, sub.name, folder) for key, value in templates.items()}
        # a subfolder without the image is not a lens (README folders, scratch): skip it
        if not Path(_strip_extension(data["image"])).is_file():
            continue
        lenses.append(Lens(_checked_name(sub.name, f"batch.folder {folder}"), data))
    return lenses


def _fill(value, name: str, folder: Path):
    if not isinstance(value, str):
        return value
    return str(folder / value.format(name=name))


def _strip_extension(path: str) -> str:
    """``file.fits[IMAGE]`` → ``file.fits``."""
    return re.sub(r"\[[^\]]+\]$", "", path)


def _from_table(path: Path) -> list[Lens]:
    if not path.is_file():
        raise ConfigError(f"batch.table: file not found: {path}")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "name" not in reader.fieldnames:
            raise ConfigError(f"batch.table: {path} needs a 'name' column (and one column per "
                              "data key, e.g. image, noise, psf)")
        lenses, seen = [], set()
        for line, row in enumerate(reader, start=2):
            name = _checked_name((row.pop("name") or "").strip(), f"batch.table {path}:{line}")
            if name in seen:
                raise ConfigError(f"batch.table: {path}:{line}: lens '{name}' appears twice")
            seen.add(name)
            data = {k: _cell(v, path.parent) for k, v in row.items()
                    if k is not None and v is not None and v.strip()}
            lenses.append(Lens(name, data))
    return lenses


def _cell(text: str, folder: Path):
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    path = Path(text).expanduser()
    return text if path.is_absolute() else str(folder / text)


def _checked_name(name: str, where: str) -> str:
    if not _SAFE_NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"{where}: lens name {name!r} cannot name an output folder (use letters, "
                          "digits and _ . + -)")
    return name
