"""FitResult: what a fit returns, saved atomically and reloadable.

Point estimates. ``best_theta`` / ``best_fit`` / ``log_density`` are the fitter's best point: the
highest ln p = ln L + ln π it found, i.e. the maximum a posteriori (MAP) estimate for the optimisers
and the best sample for samplers. :func:`add_point_estimates` (called by ``lensframe fit``) also
evaluates ln L and ln π at that point and over the samples, and records the best-likelihood point
among them as ``max_likelihood_theta`` (the "best fit" in the χ² sense); with flat priors the two
coincide. ``best_fit`` holds every parameter of every component keyed ``"component.param"`` (free,
fixed, linked and the solved linear ones).

Posterior. ``samples`` (n, dim) and ``weights`` (n,) are filled by samplers; ``chains``
(n_chains, n_draws, dim) by chain samplers (NUTS, emcee), for trace plots and R̂/ESS
(:mod:`lensframe.diagnostics`). ``log_evidence`` (± ``log_evidence_error``) by nautilus.
``diagnostics`` holds the fitter's own numbers (R̂, ESS, acceptance, likelihood calls, convergence
flags, ``interrupted``) and ``provenance`` the fitter, plugin versions, the combination key, whether
compilation was served from cache (``cache_hit``), compile and run seconds.

On disk (``save(directory)``), each file written atomically:

* ``result.fits``: primary header (fitter, ln p, ln Z), HDU ``SAMPLES`` (binary table, one column per
  free parameter plus ``weight``), ``BEST_FIT`` (binary table: parameter, value, free), ``CHAINS``
  (image, NAXIS order (dim, n_draws, n_chains) i.e. numpy (n_chains, n_draws, dim)), ``POINTS``
  (MAP / max-likelihood vectors) and ``META`` (the JSON below as bytes: diagnostics and provenance,
  lossless);
* ``summary.json``: human-readable, the same metadata plus the per-parameter summary.

``FitResult.load(directory)`` restores everything from ``result.fits``; a folder written before the
FITS file existed (``summary.json`` + ``samples.npz``) still loads.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

FITS_NAME = "result.fits"
SUMMARY_NAME = "summary.json"


@dataclass
class FitResult:
    fitter: str
    free_names: list[str]
    best_theta: np.ndarray
    best_fit: dict[str, float]
    log_density: float
    samples: np.ndarray | None = None
    weights: np.ndarray | None = None
    log_evidence: float | None = None
    log_evidence_error: float | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    #: (n_chains, n_draws, dim) draws of chain samplers, in the free parameters' order
    chains: np.ndarray | None = None
    #: ln L and ln π at ``best_theta`` (set by :func:`add_point_estimates`)
    log_likelihood: float | None = None
    log_prior: float | None = None
    #: highest-likelihood point among best_theta and the samples, and its ln L
    max_likelihood_theta: np.ndarray | None = None
    max_log_likelihood: float | None = None

    @property
    def map_theta(self) -> np.ndarray:
        """The maximum a posteriori estimate: the highest ln L + ln π point found."""
        return self.best_theta

    @property
    def interrupted(self) -> bool:
        return bool(self.diagnostics.get("interrupted", False))

    def summary(self) -> dict[str, dict[str, float]]:
        """Per free parameter: MAP (``best``), max-likelihood (``max_likelihood``) when known, and
        the weighted median with 16/84 % quantiles, mean and standard deviation when samples
        exist."""
        out = {}
        for i, name in enumerate(self.free_names):
            row = {"best": float(self.best_theta[i])}
            if self.max_likelihood_theta is not None:
                row["max_likelihood"] = float(self.max_likelihood_theta[i])
            if self.samples is not None and len(self.samples):
                x = self.samples[:, i]
                q = _weighted_quantiles(x, self.weights, [0.16, 0.5, 0.84])
                w = np.ones(len(x)) if self.weights is None else np.asarray(self.weights, float)
                mean = float(np.average(x, weights=w))
                std = float(np.sqrt(np.average((x - mean) ** 2, weights=w)))
                row.update({"p16": q[0], "median": q[1], "p84": q[2], "mean": mean, "std": std})
            out[name] = row
        return out

    def to_json(self) -> dict:
        return _jsonable({
            "fitter": self.fitter, "free_names": self.free_names,
            "best_theta": self.best_theta.tolist(), "best_fit": self.best_fit,
            "log_density": self.log_density, "log_likelihood": self.log_likelihood,
            "log_prior": self.log_prior,
            "max_likelihood_theta": (None if self.max_likelihood_theta is None
                                     else np.asarray(self.max_likelihood_theta).tolist()),
            "max_log_likelihood": self.max_log_likelihood,
            "log_evidence": self.log_evidence,
            "log_evidence_error": self.log_evidence_error, "summary": self.summary(),
            "diagnostics": self.diagnostics, "provenance": self.provenance,
            "n_samples": None if self.samples is None else int(len(self.samples)),
            "chains_shape": None if self.chains is None else list(np.shape(self.chains)),
        })

    def save(self, directory) -> Path:
        """Write ``result.fits`` and ``summary.json`` into ``directory`` (created), each
        atomically; returns the path of ``summary.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = self.to_json()
        hdus = _to_hdus(self, meta)
        buffer = io.BytesIO()
        hdus.writeto(buffer)
        atomic_write(directory / FITS_NAME, lambda fh: fh.write(buffer.getvalue()))
        text = json.dumps(meta, indent=2, allow_nan=False)
        atomic_write(directory / SUMMARY_NAME, lambda fh: fh.write(text.encode()))
        return directory / SUMMARY_NAME

    @classmethod
    def load(cls, path) -> "FitResult":
        """Restore a result from a folder written by :meth:`save` (or its ``result.fits``)."""
        path = Path(path)
        fits_path = path if path.suffix == ".fits" else path / FITS_NAME
        if fits_path.is_file():
            return _from_fits(cls, fits_path)
        if (path / SUMMARY_NAME).is_file():
            return _from_legacy(cls, path)
        raise DataError(f"{path}: no {FITS_NAME} or {SUMMARY_NAME} here: not a saved FitResult")


def add_point_estimates(result: FitResult, problem, max_points: int = 512) -> FitResult:
    """Fill ``log_likelihood``/``log_prior`` at ``best_theta`` and the max-likelihood point among
    ``best_theta`` and (up to ``max_points`` of, highest weight first) the samples. The points are
    evaluated in one compiled call (``problem.log_likelihood_batch``); returns ``result``
    (modified in place)."""
    import jax
    import jax.numpy as jnp

    points = [np.asarray(result.best_theta, float)[None]]
    if result.samples is not None and len(result.samples):
        w = (np.ones(len(result.samples)) if result.weights is None
             else np.asarray(result.weights, float))
        top = np.argsort(-w, kind="stable")[:max_points]
        points.append(np.asarray(result.samples, float)[top])
    thetas = jnp.asarray(np.concatenate(points))

    def evaluate(thetas, args):
        # the problem's chunked batch: a plain vmap over 500 images would hold them all at once
        return (problem.log_likelihood_batch(thetas, args),
                jax.vmap(problem.log_prior, in_axes=(0, None))(thetas, args))

    ll, lp = (np.asarray(a) for a in jax.jit(evaluate)(thetas, problem.args))
    result.log_likelihood, result.log_prior = float(ll[0]), float(lp[0])
    best = int(np.nanargmax(np.where(np.isfinite(ll), ll, -np.inf)))
    result.max_likelihood_theta = np.asarray(thetas[best])
    result.max_log_likelihood = float(ll[best])
    return result


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder and rename it into place, so a reader
    never sees a half-written file and a crash never destroys the previous version."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# -- FITS ------------------------------------------------------------------------------------------
def _to_hdus(result: FitResult, meta: dict):
    from astropy.io import fits

    primary = fits.PrimaryHDU()
    h = primary.header
    h["FITTER"] = (result.fitter, "lensframe fitter")
    h["NFREE"] = (len(result.free_names), "free parameters")
    h["LOGP"] = (_finite_or_none(result.log_density), "ln p at best_theta (MAP)")
    if result.log_evidence is not None:
        h["LOGZ"] = (_finite_or_none(result.log_evidence), "ln evidence")
    if result.log_evidence_error is not None:
        h["LOGZERR"] = (_finite_or_none(result.log_evidence_error), "ln evidence error")
    h["INTERRUP"] = (result.interrupted, "fit interrupted (Ctrl-C)")
    hdus = [primary]

    if result.samples is not None:
        samples = np.asarray(result.samples, float).reshape(-1, len(result.free_names))
        weights = (np.ones(len(samples)) if result.weights is None
                   else np.asarray(result.weights, float))
        cols = [fits.Column(name=n, format="D", array=samples[:, i])
                for i, n in enumerate(result.free_names)]
        cols.append(fits.Column(name="weight", format="D", array=weights))
        hdus.append(fits.BinTableHDU.from_columns(cols, name="SAMPLES"))

    names = list(result.best_fit)
    width = max([len(n) for n in names] + [1])
    free = set(result.free_names)
    hdus.append(fits.BinTableHDU.from_columns([
        fits.Column(name="parameter", format=f"{width}A", array=np.array(names, dtype=f"U{width}")),
        fits.Column(name="value", format="D",
                    array=np.array([result.best_fit[n] for n in names], float)),
        fits.Column(name="free", format="L", array=np.array([n in free for n in names])),
    ], name="BEST_FIT"))

    points = {"MAP": result.best_theta}
    if result.max_likelihood_theta is not None:
        points["MAXLIKE"] = result.max_likelihood_theta
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name=n, format="D", array=np.array([np.asarray(v, float)[i]
                                                         for v in points.values()]))
         for i, n in enumerate(result.free_names)] or
        [fits.Column(name="empty", format="D", array=np.zeros(len(points)))], name="POINTS")
    for i, key in enumerate(points):
        table.header[f"ROW{i}"] = key
    hdus.append(table)

    if result.chains is not None:
        hdus.append(fits.ImageHDU(np.asarray(result.chains, float), name="CHAINS"))

    blob = np.frombuffer(json.dumps(meta, allow_nan=False).encode(), dtype=np.uint8)
    hdus.append(fits.ImageHDU(blob, name="META"))
    return fits.HDUList(hdus)


def _from_fits(cls, path: Path) -> FitResult:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            meta = json.loads(bytes(hdul["META"].data).decode())
            samples = weights = chains = None
            if "SAMPLES" in hdul:
                table = hdul["SAMPLES"].data
                samples = np.stack([np.asarray(table[n], float) for n in meta["free_names"]],
                                   axis=1) if meta["free_names"] else np.zeros((len(table), 0))
                weights = np.asarray(table["weight"], float)
            if "CHAINS" in hdul:
                chains = np.asarray(hdul["CHAINS"].data, float)
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: not a readable lensframe result ({exc})") from exc
    return _from_meta(cls, meta, samples, weights, chains)


def _from_legacy(cls, directory: Path) -> FitResult:
    meta = json.loads((directory / SUMMARY_NAME).read_text())
    samples = weights = None
    if (directory / "samples.npz").exists():
        with np.load(directory / "samples.npz") as z:
            samples, weights = z["samples"], z["weights"]
    return _from_meta(cls, meta, samples, weights, None)


def _from_meta(cls, meta, samples, weights, chains) -> FitResult:
    ml = meta.get("max_likelihood_theta")
    return cls(fitter=meta["fitter"], free_names=list(meta["free_names"]),
               best_theta=np.asarray(meta["best_theta"], float), best_fit=meta["best_fit"],
               log_density=_num(meta["log_density"]), samples=samples, weights=weights,
               log_evidence=meta.get("log_evidence"),
               log_evidence_error=meta.get("log_evidence_error"),
               diagnostics=meta.get("diagnostics", {}), provenance=meta.get("provenance", {}),
               chains=chains, log_likelihood=meta.get("log_likelihood"),
               log_prior=meta.get("log_prior"),
               max_likelihood_theta=None if ml is None else np.asarray(ml, float),
               max_log_likelihood=meta.get("max_log_likelihood"))


def _weighted_quantiles(x, w, qs):
    order = np.argsort(x)
    x = np.asarray(x)[order]
    w = np.ones_like(x) if w is None else np.asarray(w)[order]
    cdf = np.cumsum(w) / np.sum(w)
    return [float(np.interp(q, cdf, x)) for q in qs]


def _num(v):
    return float("nan") if v is None else float(v)


def _finite_or_none(v):
    f = float(v)
    return f if math.isfinite(f) else None


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj
