"""Figures written by ``lensframe fit``: data / model / normalised residual panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def image_panels(products: dict, path: Path, title: str = "") -> Path | None:
    """Data, model and normalised residual side by side; returns the path, or None when the
    likelihood produced no images."""
    if not {"data", "model", "normalized_residual"} <= set(products):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = np.asarray(products["data"])
    model = np.asarray(products["model"])
    resid = np.asarray(products["normalized_residual"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
    finite = data[np.isfinite(data)]
    lo, hi = np.percentile(finite, [1, 99.8]) if finite.size else (0, 1)
    for ax, img, label in ((axes[0], data, "data"), (axes[1], model, "model")):
        im = ax.imshow(img, origin="lower", cmap="magma", vmin=lo, vmax=hi)
        ax.set_title(label)
        fig.colorbar(im, ax=ax, shrink=0.85, label="flux / pixel")
    im = axes[2].imshow(resid, origin="lower", cmap="RdBu_r", vmin=-4, vmax=4)
    chi2 = np.nansum(resid**2) / max(1, np.isfinite(resid).sum())
    axes[2].set_title(f"(data − model) / σ   χ²/pixel = {chi2:.3f}")
    fig.colorbar(im, ax=axes[2], shrink=0.85, label="σ")
    for ax in axes:
        ax.set_xlabel("x pixel")
        ax.set_ylabel("y pixel")
    if title:
        fig.suptitle(title)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
