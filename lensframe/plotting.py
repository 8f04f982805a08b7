"""Figures written by ``lensframe fit`` (matplotlib, Agg backend, each file written atomically):

* :func:`image_panels`: data / model / normalised residual (and the source plane when the
  likelihood reconstructs one), used by the imaging likelihood's ``figures``;
* :func:`corner_plot`: the posterior's one- and two-dimensional marginals (``corner`` package,
  Foreman-Mackey 2016, JOSS 1, 24), weighted samples, the truth marked when known;
* :func:`trace_plot`: the chains of an MCMC fit per parameter, with split-R̂ and bulk ESS
  (Vehtari et al. 2021) in each panel's title.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    """Save a figure through a temporary file renamed into place (a reader never sees half a
    PNG)."""
    plt = _pyplot()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=110)
        tmp.replace(path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return path


def image_panels(products: dict, path: Path, title: str = "") -> Path | None:
    """Data, model and normalised residual side by side, plus the source-plane light when
    ``products`` has ``source`` (and ``source_extent``, arcsec); returns the path, or None when
    the likelihood produced no images."""
    if not {"data", "model", "normalized_residual"} <= set(products):
        return None
    plt = _pyplot()
    data = np.asarray(products["data"])
    model = np.asarray(products["model"])
    resid = np.asarray(products["normalized_residual"])
    has_source = "source" in products
    fig, axes = plt.subplots(1, 4 if has_source else 3, figsize=(17.5 if has_source else 13, 4.2),
                             constrained_layout=True)
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
    for ax in axes[:3]:
        ax.set_xlabel("x pixel")
        ax.set_ylabel("y pixel")
    if has_source:
        source = np.asarray(products["source"])
        extent = products.get("source_extent")
        im = axes[3].imshow(source, origin="lower", cmap="magma",
                            extent=None if extent is None else list(np.asarray(extent, float)))
        axes[3].set_title("source plane (best fit)")
        axes[3].set_xlabel("β_x [arcsec]")
        axes[3].set_ylabel("β_y [arcsec]")
        fig.colorbar(im, ax=axes[3], shrink=0.85, label="surface brightness / arcsec²")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def corner_plot(result, path: Path, truth: dict | None = None, title: str = "") -> Path | None:
    """Corner plot of ``result.samples`` (weighted); None when the result has no samples or
    fewer than two free parameters' worth of spread."""
    if result.samples is None or len(result.samples) < 2 or not len(result.free_names):
        return None
    import corner

    samples = np.asarray(result.samples, float)
    weights = None if result.weights is None else np.asarray(result.weights, float)
    truths = None
    if truth:
        truths = [truth.get(n) for n in result.free_names]
        truths = None if all(t is None for t in truths) else truths
    # a parameter with zero spread (e.g. stuck chains) would break corner's histogram ranges
    spans = np.ptp(samples, axis=0)
    ranges = [(lo - 0.5, lo + 0.5) if s == 0 else 0.999 for lo, s in zip(samples.min(0), spans)]
    fig = corner.corner(samples, weights=weights, labels=list(result.free_names), truths=truths,
                        range=ranges, quantiles=[0.16, 0.5, 0.84], show_titles=True,
                        title_fmt=".4g", truth_color="tab:blue")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def trace_plot(result, path: Path, title: str = "") -> Path | None:
    """One panel per free parameter with every chain's draws against step; R̂ and ESS (from the
    result's diagnostics, else computed here) in the panel titles. None without chains."""
    chains = getattr(result, "chains", None)
    if chains is None or np.ndim(chains) != 3 or np.shape(chains)[1] < 2:
        return None
    chains = np.asarray(chains, float)
    rhat, ess = result.diagnostics.get("rhat"), result.diagnostics.get("ess")
    if (rhat is None or ess is None) and chains.shape[1] >= 4 and np.all(np.isfinite(chains)):
        from .diagnostics import ess as ess_fn, rhat as rhat_fn

        rhat, ess = rhat_fn(chains).tolist(), ess_fn(chains).tolist()
    plt = _pyplot()
    dim = chains.shape[2]
    fig, axes = plt.subplots(dim, 1, figsize=(10, 1.6 * dim + 0.8), sharex=True, squeeze=False,
                             constrained_layout=True)
    steps = np.arange(chains.shape[1])
    for j, name in enumerate(result.free_names):
        ax = axes[j, 0]
        for c in range(chains.shape[0]):
            ax.plot(steps, chains[c, :, j], lw=0.6, alpha=0.7)
        label = name
        if rhat is not None and ess is not None:
            label += f"   R̂ = {rhat[j]:.3f}   ESS = {ess[j]:.0f}"
        ax.set_title(label, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("draw (after warm-up)")
    if title:
        fig.suptitle(title)
    return _save(fig, path)
