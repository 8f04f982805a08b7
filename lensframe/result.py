"""FitResult: what a fit returns, saved atomically and reloadable.

``best_fit`` holds every parameter of every component keyed ``"component.param"`` (free, fixed,
linked and the solved linear ones). ``samples`` and ``weights`` are filled by samplers. ``provenance``
records the fitter, plugin versions, the combination key, whether compilation was served from cache
(``cache_hit``), compile seconds and run seconds.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


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

    def summary(self) -> dict[str, dict[str, float]]:
        """Per free parameter: best fit, and median with 16/84 % quantiles when samples exist."""
        out = {}
        for i, name in enumerate(self.free_names):
            row = {"best": float(self.best_theta[i])}
            if self.samples is not None and len(self.samples):
                q = _weighted_quantiles(self.samples[:, i], self.weights, [0.16, 0.5, 0.84])
                row.update({"p16": q[0], "median": q[1], "p84": q[2]})
            out[name] = row
        return out

    def to_json(self) -> dict:
        return _jsonable({
            "fitter": self.fitter, "free_names": self.free_names,
            "best_theta": self.best_theta.tolist(), "best_fit": self.best_fit,
            "log_density": self.log_density, "log_evidence": self.log_evidence,
            "log_evidence_error": self.log_evidence_error, "summary": self.summary(),
            "diagnostics": self.diagnostics, "provenance": self.provenance,
            "n_samples": None if self.samples is None else int(len(self.samples)),
        })

    def save(self, directory) -> Path:
        """Write ``summary.json`` (and ``samples.npz`` when there are samples) atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.samples is not None:
            weights = self.weights if self.weights is not None else np.ones(len(self.samples))
            atomic_write(directory / "samples.npz",
                         lambda fh: np.savez(fh, samples=self.samples, weights=weights))
        text = json.dumps(self.to_json(), indent=2, allow_nan=False)
        atomic_write(directory / "summary.json", lambda fh: fh.write(text.encode()))
        return directory / "summary.json"

    @classmethod
    def load(cls, directory) -> "FitResult":
        directory = Path(directory)
        data = json.loads((directory / "summary.json").read_text())
        samples = weights = None
        if (directory / "samples.npz").exists():
            with np.load(directory / "samples.npz") as z:
                samples, weights = z["samples"], z["weights"]
        return cls(fitter=data["fitter"], free_names=list(data["free_names"]),
                   best_theta=np.asarray(data["best_theta"], float), best_fit=data["best_fit"],
                   log_density=_num(data["log_density"]), samples=samples, weights=weights,
                   log_evidence=data.get("log_evidence"),
                   log_evidence_error=data.get("log_evidence_error"),
                   diagnostics=data.get("diagnostics", {}), provenance=data.get("provenance", {}))


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


def _weighted_quantiles(x, w, qs):
    order = np.argsort(x)
    x = np.asarray(x)[order]
    w = np.ones_like(x) if w is None else np.asarray(w)[order]
    cdf = np.cumsum(w) / np.sum(w)
    return [float(np.interp(q, cdf, x)) for q in qs]


def _num(v):
    return float("nan") if v is None else float(v)


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
