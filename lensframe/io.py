"""Reading arrays named in configurations: ``file.fits`` (primary HDU), ``file.fits[NAME]`` or
``file.fits[1]`` (an extension), ``file.npy``, or an inline (nested) list. Errors name the key and
the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

_EXT = re.compile(r"^(?P<path>.+?)\[(?P<ext>[^\]]+)\]$")


def read_array(value: Any, key: str, base_dir=None) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple, int, float)):
        return np.asarray(value, dtype=float)
    if not isinstance(value, (str, Path)):
        raise DataError(f"data.{key}: expected a file path or an array, got {type(value).__name__}")
    text = str(value)
    match = _EXT.match(text)
    path_text, ext = (match["path"], match["ext"]) if match else (text, None)
    path = Path(path_text).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        raise DataError(f"data.{key}: file not found: {path}")
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path)
        from astropy.io import fits

        with fits.open(path, memmap=False) as hdul:
            hdu = hdul[int(ext) if ext and ext.isdigit() else (ext or 0)]
            if hdu.data is None:
                raise DataError(f"data.{key}: {path}{'[' + ext + ']' if ext else ''} holds no "
                                "image data")
            return np.asarray(hdu.data, dtype=float)
    except DataError:
        raise
    except KeyError:
        raise DataError(f"data.{key}: {path} has no extension '{ext}'") from None
    except Exception as exc:
        raise DataError(f"data.{key}: cannot read {path}: {type(exc).__name__}: {exc}") from exc
