"""Figures of a light-curve fit: the light curve with model and residual panels, and the caustics
with the source trajectory. Host-side (matplotlib, Agg), written atomically."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .photometry import flux_to_mag

_GRID = 1500  # model epochs drawn across the data's time span


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _t0_te(likelihood, values, time):
    """The trajectory's (t0, tE), or the data's mid-time and span for one without them."""
    traj = values[likelihood.trajectory.name]
    return float(traj.get("t0", time.mean())), float(traj.get("tE", np.ptp(time)))


def model_grid(likelihood, values, data):
    """Dense epochs over the data's span, refined around t0 where anomalies are, and A there."""
    time = np.asarray(data["time"])
    t0, tE = _t0_te(likelihood, values, time)
    wide = np.linspace(time.min(), time.max(), _GRID // 2)
    near = np.linspace(t0 - 2 * tE, t0 + 2 * tE, _GRID // 2)
    grid = np.unique(np.concatenate([wide, near[(near > time.min()) & (near < time.max())]]))
    magnify = jax.jit(likelihood.magnification)
    return grid, np.asarray(magnify(values, jnp.asarray(grid), likelihood.sun_offsets_at(grid)))


def light_curve_figure(likelihood, values, data, path, title=""):
    """Magnitude against time: each data set moved onto the first one's flux scale,
    (F − F_b,k)/F_s,k · F_s,0 + F_b,0, the model on a dense grid, and (data − model) in σ below.
    When the data span more than 4 tE (years of baseline), a second column zooms on t0 ± tE.
    The magnitude axis is set by the model and the bulk of the data (1st–99th percentile), so a
    few faint difference-flux points with huge error bars cannot flatten the event."""
    plt = _pyplot()
    products = {k: np.asarray(v) for k, v in likelihood.products(values, data).items()}
    f_s, f_b = products["source_flux"], products["blend_flux"]
    member = np.asarray(data["membership"]).argmax(axis=1)
    time = products["time"]
    sigma = 1.0 / np.sqrt(np.asarray(data["weight"]))
    grid, magnification = model_grid(likelihood, values, data)
    model_mag = flux_to_mag(f_s[0] * magnification + f_b[0])
    t0, tE = _t0_te(likelihood, values, time)
    windows = [(time.min(), time.max())]
    if np.ptp(time) > 4 * tE:
        windows.append((max(t0 - tE, time.min()), min(t0 + tE, time.max())))
    fig, axes = plt.subplots(2, len(windows), figsize=(10 if len(windows) == 1 else 14, 6.5),
                             sharex="col", squeeze=False, gridspec_kw={"height_ratios": [3, 1]},
                             constrained_layout=True)
    sets = []
    for k, name in enumerate(likelihood.set_names):
        sel = member == k
        aligned = (products["data"][sel] - f_b[k]) / f_s[k] * f_s[0] + f_b[0]
        mag_err = 2.5 / np.log(10) * sigma[sel] * abs(f_s[0] / f_s[k]) / np.abs(aligned)
        sets.append((name, sel, flux_to_mag(aligned), mag_err))
    for column, (low, high) in enumerate(windows):
        top, bottom = axes[0, column], axes[1, column]
        shown = (grid >= low) & (grid <= high)
        top.plot(grid[shown], model_mag[shown], color="k", lw=1, zorder=3, label="model")
        in_window = []
        for name, sel, mag, mag_err in sets:
            at = (time[sel] >= low) & (time[sel] <= high)
            top.errorbar(time[sel][at], mag[at], mag_err[at], fmt=".", ms=3, lw=0.5, alpha=0.7,
                         label=name)
            bottom.errorbar(time[sel][at], products["normalized_residual"][sel][at], 1.0,
                            fmt=".", ms=3, lw=0.5, alpha=0.7)
            in_window.append(mag[at])
        top.set_ylim(*_magnitude_range(model_mag[shown], np.concatenate(in_window)))
        bottom.axhline(0, color="k", lw=1)
        bottom.set_xlabel("HJD − 2450000")
        if column:
            top.set_title("t0 ± tE")
    axes[0, 0].set_ylabel(f"magnitude ({likelihood.set_names[0]} scale)")
    axes[1, 0].set_ylabel("(data − model) / σ")
    axes[0, 0].legend(fontsize=8, ncol=2)
    chi2 = float(np.sum(products["normalized_residual"] ** 2))
    axes[0, 0].set_title((title + "\n" if title else "") + f"χ² = {chi2:.1f} for {time.size} points")
    return _save(fig, Path(path))


def _magnitude_range(model_mag, data_mag):
    """(faint, bright) limits of an inverted magnitude axis: the model's range and the data's 1st
    to 99th percentile, padded by 10 %."""
    finite = data_mag[np.isfinite(data_mag)]
    values = [model_mag[np.isfinite(model_mag)]]
    if finite.size:
        values.append(np.percentile(finite, [1, 99]))
    values = np.concatenate(values)
    bright, faint = float(values.min()), float(values.max())
    pad = 0.1 * max(faint - bright, 0.05)
    return faint + pad, bright - pad


def _caustic_points(profile, params):
    """The lens's caustics as one complex array (NaN-separated pieces), or None when the profile
    offers none (a point lens's caustic is a point)."""
    method = getattr(profile, "caustics", None)
    if method is None:
        return None
    curves = method(**params)
    # the lens profiles return (critical curves, caustics), each (n_phi + 1, pieces)
    caustic = np.asarray(curves[1] if isinstance(curves, tuple) else curves)
    pieces = caustic.T if caustic.ndim == 2 else [caustic]
    joined = []
    for piece in pieces:
        joined += [np.asarray(piece).reshape(-1), np.array([np.nan + 0j])]
    return np.concatenate(joined) if joined else None


def caustic_figure(likelihood, values, data, path, title=""):
    """Caustics of the lens (if its profile gives them) and the source trajectory over the data's
    span, with the epochs of each data set marked; axes in θ_E."""
    plt = _pyplot()
    lens_params = {k: float(v) for k, v in values[likelihood.lens.name].items()}
    caustics = _caustic_points(likelihood.lens.profile, lens_params)
    traj = likelihood.trajectory
    time = np.asarray(data["time"])
    grid = np.linspace(time.min(), time.max(), 2000)
    y1, y2 = (np.asarray(a) for a in likelihood.source_position(
        values, jnp.asarray(grid), likelihood.sun_offsets_at(grid)))
    fig, ax = plt.subplots(figsize=(6.5, 6.5), constrained_layout=True)
    if caustics is not None:
        ax.plot(caustics.real, caustics.imag, color="crimson", lw=1, label="caustics")
    ax.plot(y1, y2, color="k", lw=1, label="source trajectory")
    member = np.asarray(data["membership"]).argmax(axis=1)
    p1, p2 = (np.asarray(a) for a in likelihood.source_position(
        values, jnp.asarray(time), data.get("sun_offsets")))
    for k, name in enumerate(likelihood.set_names):
        sel = member == k
        ax.plot(p1[sel], p2[sel], ".", ms=3, label=name)
    rho = lens_params.get("rho", 0.0)
    if rho > 0:
        t0 = float(values[traj.name]["t0"])
        c1, c2 = (float(a[0]) for a in likelihood.source_position(
            values, jnp.asarray([t0]), likelihood.sun_offsets_at(np.array([t0]))))
        ax.add_patch(plt.Circle((c1, c2), rho, fill=False, color="k", lw=0.8))
    span = 1.5
    if caustics is not None and np.isfinite(caustics).any():
        span = max(1.2 * np.nanmax(np.abs(caustics)), 0.5)
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.set_xlabel("y1 (θ_E)")
    ax.set_ylabel("y2 (θ_E)")
    ax.legend(fontsize=8)
    ax.set_title((title + "\n" if title else "") + "caustics and source trajectory")
    return _save(fig, Path(path))
