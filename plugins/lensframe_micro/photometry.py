"""Plain-text photometry: reading ``time, magnitude, error`` (or ``time, flux, error``) files such as
those MulensModel ships (``MulensModel/data/photometry_files/``), and magnitudes → flux.

Format: whitespace-separated columns, ``#`` starts a comment, blank lines are skipped; the first
three columns are read (time, value, error) and any further columns (e.g. a frame index) ignored.
IPAC tables (the NASA Exoplanet Archive's format, e.g. MulensModel's OGLE-2003-BLG-235 files) are
read too: their keyword lines (starting with a backslash) and column-header lines (starting with
``|``) are skipped.

Times: HJD (≈ 2.45e6) or HJD − 2450000 (≈ 1e3–1e4) are both accepted; everything is returned as
HJD − 2450000 ("HJD'"), the axis t0 is given on. A file whose times exceed 2,400,000 is taken to be
in full HJD and 2450000 is subtracted (no real epoch in HJD' is that large).

Flux: F = 10^(−0.4 (m − m0)) with the zero point m0 = 22 (MulensModel's default), so a source of
magnitude 22 has flux 1; σ_F = σ_m · F · ln(10)/2.5 (first order).

Every check fails with a :class:`lensframe.errors.DataError` naming the file and line: fewer than
three numeric columns, a non-finite value, an error ≤ 0, a repeated time. Times out of order are a
decision: real files are often concatenated reductions (six of MulensModel's nine OGLE-2016-BLG-1195
KMTNet files step back in time once or twice), so by default (``unsorted="sort"``) the rows are
sorted and a warning names the file, the first line out of order and how many; ``unsorted="error"``
makes it an error instead. A repeated time is always an error (which of the two values is right
cannot be decided here).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lensframe.errors import DataError

MAG_ZEROPOINT = 22.0
HJD_OFFSET = 2450000.0
_FULL_HJD_ABOVE = 2400000.0


@dataclass(frozen=True)
class Photometry:
    """One data set: ``time`` (HJD − 2450000), ``value`` and ``error`` (magnitudes or fluxes, as
    ``kind`` says), and where it came from."""

    name: str
    time: np.ndarray
    value: np.ndarray
    error: np.ndarray
    kind: str  # "mag" or "flux"
    source: str

    def as_flux(self):
        """(flux, σ_flux) with the zero point ``MAG_ZEROPOINT``."""
        if self.kind == "flux":
            return self.value, self.error
        return mag_to_flux(self.value, self.error)


def mag_to_flux(mag, mag_err, zeropoint: float = MAG_ZEROPOINT):
    """(F, σ_F) = (10^(−0.4 (m − m0)), σ_m F ln10 / 2.5)."""
    flux = 10.0 ** (-0.4 * (np.asarray(mag) - zeropoint))
    return flux, np.asarray(mag_err) * flux * math.log(10.0) / 2.5


def flux_to_mag(flux, zeropoint: float = MAG_ZEROPOINT):
    """m = m0 − 2.5 log10 F (NaN for F ≤ 0)."""
    flux = np.asarray(flux, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flux > 0, zeropoint - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)


def read_photometry(path, name: str | None = None, kind: str = "mag",
                    unsorted: str = "sort") -> Photometry:
    """Read and check one photometry file (see the module docstring).

    Args:
        path: the file. name: the data set's name (default: the file's stem).
        kind: ``"mag"`` (time, magnitude, error) or ``"flux"`` (time, flux, error).
        unsorted: ``"sort"`` (sort, with a warning) or ``"error"`` for times out of order.
    """
    path = Path(path)
    if kind not in ("mag", "flux"):
        raise DataError(f"{path}: kind must be 'mag' or 'flux', got {kind!r}")
    if not path.is_file():
        raise DataError(f"photometry file not found: {path}")
    rows, lines = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            fields = text.split("#", 1)[0].split()
            if not fields or fields[0][0] in "\\|":  # IPAC keyword and column-header lines
                continue
            if len(fields) < 3:
                raise DataError(f"{path}, line {number}: expected 3 columns (time, {kind}, error), "
                                f"found {len(fields)}: {text.strip()!r}")
            try:
                rows.append([float(f) for f in fields[:3]])
            except ValueError:
                raise DataError(f"{path}, line {number}: not a number in {text.strip()!r}") from None
            lines.append(number)
    if not rows:
        raise DataError(f"{path}: no data lines")
    time, value, error = np.asarray(rows).T
    return photometry_from_arrays(name or path.stem, time, value, error, kind, str(path),
                                  np.asarray(lines), unsorted)


def photometry_from_arrays(name, time, value, error, kind="mag", source="<inline>",
                           lines=None, unsorted: str = "sort") -> Photometry:
    """Check one data set given as arrays (the same checks as :func:`read_photometry`; errors say
    ``source, line N`` when ``lines`` gives each row's line number, else ``source, entry i``)."""
    time, value, error = (np.asarray(a, float).reshape(-1) for a in (time, value, error))
    if not time.size == value.size == error.size:
        raise DataError(f"{source}: time, {kind} and error have different lengths "
                        f"({time.size}, {value.size}, {error.size})")
    if time.size == 0:
        raise DataError(f"{source}: no data")

    def at(i):
        return f"{source}, line {lines[i]}" if lines is not None else f"{source}, entry {i}"

    for label, column in (("time", time), (kind, value), ("error", error)):
        bad = ~np.isfinite(column)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{at(i)}: {label} is {column[i]} ({int(bad.sum())} non-finite "
                            f"{label} value(s))")
    nonpositive = ~(error > 0)
    if nonpositive.any():
        i = int(np.argmax(nonpositive))
        raise DataError(f"{at(i)}: error must be > 0, got {error[i]} "
                        f"({int(nonpositive.sum())} error(s) ≤ 0)")
    if unsorted not in ("sort", "error"):
        raise DataError(f"{source}: unsorted must be 'sort' or 'error', got {unsorted!r}")
    back = np.diff(time) < 0
    if back.any():
        i = int(np.argmax(back)) + 1
        message = (f"{at(i)}: time {time[i]} is earlier than the time before it "
                   f"({time[i - 1]}); {int(back.sum())} step(s) back in time")
        if unsorted == "error":
            raise DataError(message + "; times must be increasing")
        warnings.warn(message + "; sorting the rows by time", UserWarning, stacklevel=3)
        order = np.argsort(time, kind="stable")
        time, value, error = time[order], value[order], error[order]
        lines = None if lines is None else np.asarray(lines)[order]
    repeated = np.diff(time) == 0
    if repeated.any():
        i = int(np.argmax(repeated)) + 1
        raise DataError(f"{at(i)}: time {time[i]} repeats "
                        f"({f'line {lines[i - 1]}' if lines is not None else f'entry {i - 1}'} has "
                        "it too); each epoch must appear once")
    if time.max() > _FULL_HJD_ABOVE:
        if time.min() <= _FULL_HJD_ABOVE:
            raise DataError(f"{source}: times mix full HJD (> {_FULL_HJD_ABOVE:.0f}) and "
                            f"HJD − {HJD_OFFSET:.0f}")
        time = time - HJD_OFFSET
    return Photometry(name, time, value, error, kind, source)
