"""Imaging likelihood: one lens plane, lens light plus lensed source, PSF, noise map, mask.

Model (lenstronomy's conventions, docs/conventions.md): each pixel is split into s × s sub-pixels
(optionally more, ``central_supersampling``, in a ``central_pixels`` square at the centre),
rays are traced β = θ − Σ α_k(θ) through every mass component, light components in the lens plane
are evaluated at θ and those in the source plane at β, sub-pixels are averaged back to pixels and the
image is convolved with the PSF by FFT (zero padding, so nothing wraps round the edges). Amplitudes
marked ``linear`` are solved by the configured solver (weighted least squares by default).

ln L = −½ Σ_mask (d − m)² / σ², the χ² form lenstronomy reports (no normalisation constant).

Data (``prepare_data``): ``image`` (2D), ``noise`` (2D σ map, same shape, or a number),
``pixel_scale`` (arcsec), optional ``psf`` (odd-sized kernel; normalised to unit sum, with a warning
if it was not), optional ``mask`` (1 = use the pixel), optional ``origin`` ([x, y] of pixel (0, 0);
default: the grid is centred on (0, 0)). Pixels whose data are NaN or whose noise is not finite are
masked, and a warning says how many.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.errors import ConfigError, DataError
from lensframe.io import read_array
from lensframe.likelihood import Likelihood
from lensframe.options import positive

_DATA_KEYS = ("image", "noise", "pixel_scale", "psf", "mask", "origin", "mask_noise_above", "crop")


def _central_crop(size, *arrays):
    """The central ``size`` × ``size`` pixels of each array (``data.crop``; odd, so the grid's
    centre stays on the centre pixel of the cutout)."""
    shape = arrays[0].shape
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise DataError(f"data.crop: expected an odd number of pixels ≥ 1, got {size!r}")
    if size > min(shape) or (shape[0] - size) % 2 or (shape[1] - size) % 2:
        raise DataError(f"data.crop: {size} pixels cannot be cut from the centre of a "
                        f"{shape[0]}×{shape[1]} image (needs ≤ each side, same parity)")
    r, c = (shape[0] - size) // 2, (shape[1] - size) // 2
    return tuple(a[r:r + size, c:c + size] for a in arrays)


@dataclass(frozen=True)
class ImagingOptions:
    supersampling: int = field(default=2, metadata={"help": "sub-pixels per pixel side"})
    solver: str = field(default="wls", metadata={"help": "linear solver for amplitudes"})
    central_pixels: int = field(default=0, metadata={
        "help": "side (odd, pixels) of a square at the image centre rendered with "
                "central_supersampling instead (a galaxy's cusp); 0 = none"})
    central_supersampling: int = field(default=4, metadata={
        "help": "sub-pixels per pixel side inside the central square"})

    def __post_init__(self):
        positive("supersampling", self.supersampling)
        positive("central_supersampling", self.central_supersampling)
        positive("central_pixels", self.central_pixels, allow_zero=True)
        if self.central_pixels % 2 == 0 and self.central_pixels:
            raise ValueError(f"option 'central_pixels' must be odd (a square centred on the "
                             f"centre pixel) or 0, got {self.central_pixels}")


def subpixel_grid(shape, pixel_scale, origin, factor):
    """Coordinates (x, y) of the sub-pixel centres, each of shape (ny·s, nx·s), in arcsec."""
    ny, nx = shape
    offsets = (jnp.arange(factor) + 0.5) / factor - 0.5
    xs = origin[0] + (jnp.arange(nx)[:, None] + offsets[None, :]).reshape(-1) * pixel_scale
    ys = origin[1] + (jnp.arange(ny)[:, None] + offsets[None, :]).reshape(-1) * pixel_scale
    return jnp.meshgrid(xs, ys)


def bin_subpixels(image, factor):
    """Average s × s sub-pixels back to pixels (over the last two axes)."""
    ny, nx = image.shape[-2] // factor, image.shape[-1] // factor
    return image.reshape(*image.shape[:-2], ny, factor, nx, factor).mean(axis=(-3, -1))


def fast_fft_size(n: int) -> int:
    """Smallest 2^a 3^b 5^c ≥ n: FFT lengths with only small prime factors are fastest."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35
            while size < n:
                size *= 2
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


def convolve_many(images, psf):
    """Convolve a stack (k, ny, nx) with one odd PSF by FFT, zero-padded to the full linear size
    (so nothing wraps round the edges) and cropped back ("same" alignment). The PSF is
    transformed once for the whole stack."""
    ny, nx = images.shape[-2:]
    ky, kx = psf.shape
    shape = (fast_fft_size(ny + ky - 1), fast_fft_size(nx + kx - 1))
    spectrum = jnp.fft.rfft2(images, s=shape) * jnp.fft.rfft2(psf, s=shape)
    full = jnp.fft.irfft2(spectrum, s=shape)
    oy, ox = (ky - 1) // 2, (kx - 1) // 2
    return full[..., oy:oy + ny, ox:ox + nx]


class ImagingLikelihood(Likelihood):
    """Pixel-image likelihood for galaxy–galaxy strong lenses (see the module docstring)."""

    Options = ImagingOptions
    component_options = {"plane": ("lens", "source")}
    reference = "Birrer & Amara (2018), lenstronomy; Suyu et al. (2006) for the linear inversion"

    def __init__(self, components, linear, options):
        super().__init__(components, linear, options)
        self.mass = [c for c in self.components.values() if c.profile.kind == "mass"]
        self.light = [c for c in self.components.values() if c.profile.kind == "light"]
        for c in self.components.values():
            if c.profile.kind not in ("mass", "light"):
                raise ConfigError(f"components.{c.name}: the imaging likelihood takes mass and "
                                  f"light profiles, not {c.profile.kind} ('{c.profile_name}')")
            if c.profile.kind == "light" and c.option("plane") is None:
                raise ConfigError(f"components.{c.name}.plane: say whether light profile "
                                  f"'{c.profile_name}' is in the 'lens' or the 'source' plane")
            if c.profile.kind == "mass" and c.option("plane", "lens") != "lens":
                raise ConfigError(f"components.{c.name}.plane: mass profiles sit in the lens plane")
        if not self.light:
            raise ConfigError("components: the imaging likelihood needs at least one light profile")
        self.linear_keys = [f"{c.name}.{p.name}" for c in self.light for p in c.profile.params
                            if f"{c.name}.{p.name}" in linear]
        self.solver = None
        if self.linear_keys:
            from lensframe import get_solver

            self.solver = get_solver(options.solver)

    # -- host side ---------------------------------------------------------------------------------
    def prepare_data(self, raw, base_dir=None):
        unknown = [k for k in raw if k not in _DATA_KEYS]
        if unknown:
            import difflib
            hints = [f"'{k}'" + "".join(f" (did you mean '{m}'?)" for m in
                                        difflib.get_close_matches(k, _DATA_KEYS, n=1))
                     for k in unknown]
            raise ConfigError(f"data: unknown key(s) {', '.join(hints)}; the imaging likelihood "
                              f"reads {', '.join(_DATA_KEYS)}")
        for key in ("image", "noise", "pixel_scale"):
            if key not in raw:
                raise ConfigError(f"data.{key}: missing (the imaging likelihood needs image, noise "
                                  "and pixel_scale)")
        image = read_array(raw["image"], "image", base_dir)
        if image.ndim != 2:
            raise DataError(f"data.image: expected a 2D image, got shape {image.shape}")
        noise = read_array(raw["noise"], "noise", base_dir)
        if noise.ndim == 0:
            noise = np.full(image.shape, float(noise))
        if noise.shape != image.shape:
            raise DataError(f"data.noise: shape {noise.shape} does not match data.image "
                            f"{image.shape}")
        mask = np.ones(image.shape, bool)
        if "mask" in raw:
            m = read_array(raw["mask"], "mask", base_dir)
            if m.shape != image.shape:
                raise DataError(f"data.mask: shape {m.shape} does not match data.image "
                                f"{image.shape}")
            mask &= np.asarray(m) != 0
        if "crop" in raw:
            # fitting a central stamp of a large cutout costs in proportion to its pixels
            image, noise, mask = _central_crop(raw["crop"], image, noise, mask)
        if "mask_noise_above" in raw:
            # some pipelines (e.g. the SLACS cutouts) flag excluded pixels with a huge σ such as 1e8
            limit = float(np.asarray(raw["mask_noise_above"], float))
            if not limit > 0:
                raise DataError(f"data.mask_noise_above: must be a σ > 0, got {limit}")
            mask &= ~(noise >= limit)
        bad_data = ~np.isfinite(image)
        bad_noise = ~np.isfinite(noise)
        if bad_data.any() or bad_noise.any():
            warnings.warn(f"data: masking {int(bad_data.sum())} pixel(s) with non-finite "
                          f"image values and {int(bad_noise.sum())} with non-finite noise",
                          UserWarning, stacklevel=2)
        mask &= ~bad_data & ~bad_noise
        nonpositive = mask & ~(noise > 0)
        if nonpositive.any():
            i, j = map(int, np.argwhere(nonpositive)[0])
            raise DataError(f"data.noise: {int(nonpositive.sum())} unmasked pixel(s) have noise "
                            f"≤ 0 (first at row {i}, column {j}); noise must be a positive σ")
        if not mask.any():
            raise DataError("data: every pixel is masked")
        if self.options.central_pixels > min(image.shape):
            raise DataError(f"likelihood.central_pixels: {self.options.central_pixels} is larger "
                            f"than the image ({image.shape[0]}×{image.shape[1]} pixels)")
        pixel_scale = float(np.asarray(raw["pixel_scale"], float))
        if not pixel_scale > 0:
            raise DataError(f"data.pixel_scale: must be > 0 arcsec, got {pixel_scale}")
        ny, nx = image.shape
        if "origin" in raw:
            origin = np.asarray(raw["origin"], float).reshape(-1)
            if origin.shape != (2,):
                raise DataError("data.origin: expected [x, y] of pixel (0, 0) in arcsec")
        else:
            origin = -0.5 * pixel_scale * np.array([nx - 1, ny - 1], float)
        psf = self._prepare_psf(raw.get("psf"), base_dir, image.shape)
        safe_noise = np.where(mask, noise, 1.0)
        return {
            "image": np.where(mask, image, 0.0),
            "weights": np.where(mask, 1.0 / safe_noise**2, 0.0),
            "psf": psf,
            "pixel_scale": np.asarray(pixel_scale),
            "origin": origin,
        }

    @staticmethod
    def _prepare_psf(value, base_dir, shape):
        if value is None:
            return np.ones((1, 1))
        psf = read_array(value, "psf", base_dir)
        if psf.ndim != 2 or psf.shape[0] % 2 == 0 or psf.shape[1] % 2 == 0:
            raise DataError(f"data.psf: the kernel must be 2D with odd sides so that it has a "
                            f"central pixel, got shape {psf.shape}")
        if psf.shape[0] > shape[0] or psf.shape[1] > shape[1]:
            raise DataError(f"data.psf: kernel {psf.shape} is larger than the image {shape}")
        if not np.all(np.isfinite(psf)):
            raise DataError("data.psf: the kernel contains non-finite values")
        total = psf.sum()
        if not total > 0:
            raise DataError(f"data.psf: the kernel must have a positive sum, got {total}")
        if abs(total - 1.0) > 1e-6:
            warnings.warn(f"data.psf: kernel sums to {total:.6g}; normalising it to 1",
                          UserWarning, stacklevel=3)
        return psf / total

    def degrees_of_freedom(self, data, n_free):
        return int(np.sum(np.asarray(data["weights"]) > 0)) - n_free - len(self.linear_keys)

    # -- traced ----------------------------------------------------------------------------------
    def _render(self, values, x, y):
        """Surface brightness (per arcsec²) at the points (x, y): a stack (k, *x.shape) of the
        fixed light's sum (first, if any component has no linear amplitude) and one image per
        linear amplitude (that amplitude 1, the others 0); and whether the fixed image is there."""
        bx, by = x, y
        for c in self.mass:
            ax, ay = c.profile.deflection(x, y, **values[c.name])
            bx, by = bx - ax, by - ay
        fixed = None
        columns = []
        for c in self.light:
            px, py = (x, y) if c.option("plane") == "lens" else (bx, by)
            params = dict(values[c.name])
            linear = [p.name for p in c.profile.params if f"{c.name}.{p.name}" in self.linear]
            if linear:
                for name in linear:
                    basis = {**params, **{n: 0.0 for n in linear}, name: 1.0}
                    columns.append(c.profile.surface_brightness(px, py, **basis))
            else:
                sb = c.profile.surface_brightness(px, py, **params)
                fixed = sb if fixed is None else fixed + sb
        return jnp.stack(([] if fixed is None else [fixed]) + columns), fixed is not None

    def _images(self, values, data):
        """(fixed image, [column per linear amplitude]) after binning and PSF convolution."""
        factor = self.options.supersampling
        shape = data["image"].shape
        x, y = subpixel_grid(shape, data["pixel_scale"], data["origin"], factor)
        stack, has_fixed = self._render(values, x, y)
        stack = bin_subpixels(stack, factor)
        side = self.options.central_pixels
        if side:
            # a steep profile's centre (a de Vaucouleurs cusp) is where a coarse grid errs most:
            # re-render the central square finer, as lenstronomy's adaptive supersampling does
            row, col = (shape[0] - side) // 2, (shape[1] - side) // 2
            corner = data["origin"] + data["pixel_scale"] * jnp.array([col, row], float)
            fine = self.options.central_supersampling
            xc, yc = subpixel_grid((side, side), data["pixel_scale"], corner, fine)
            patch = bin_subpixels(self._render(values, xc, yc)[0], fine)
            stack = stack.at[:, row:row + side, col:col + side].set(patch)
        # surface brightness (per arcsec²) times pixel area gives flux per pixel, as lenstronomy;
        # everything is binned, then convolved in one batched FFT
        rendered = convolve_many(stack * data["pixel_scale"] ** 2, data["psf"])
        if not has_fixed:
            return jnp.zeros(shape, rendered.dtype), rendered
        return rendered[0], (rendered[1:] if rendered.shape[0] > 1 else None)

    def _solve(self, values, data):
        fixed, cols = self._images(values, data)
        if cols is None:
            return fixed, jnp.zeros((0,))
        design = cols.reshape(cols.shape[0], -1).T
        amps, _ = self.solver.solve(design, (data["image"] - fixed).reshape(-1),
                                    data["weights"].reshape(-1))
        return fixed + jnp.tensordot(amps, cols, axes=1), amps

    def log_likelihood(self, values, data):
        model, _ = self._solve(values, data)
        return -0.5 * jnp.sum(data["weights"] * (data["image"] - model) ** 2)

    def linear_solution(self, values, data):
        _, amps = self._solve(values, data)
        return {key: amps[i] for i, key in enumerate(self.linear_keys)}

    def products(self, values, data):
        """Images of a fit at ``values``: ``data`` (masked pixels NaN), ``model``, ``residual``
        (data − model, flux per pixel), ``normalized_residual`` ((data − model) / σ),
        ``amplitudes`` (the solved linear amplitudes, in ``linear_keys`` order), and the source
        plane: ``source`` (the source-plane light, surface brightness per arcsec², unlensed and
        unconvolved, on a square grid as many pixels a side as the image's longer side, covering
        the box that the pixels showing the source trace back to) with ``source_extent``
        [x_min, x_max, y_min, y_max] (arcsec, pixel edges, for ``imshow(extent=...)``)."""
        model, amps = self._solve(values, data)
        weights = data["weights"]
        residual = data["image"] - model
        source, extent = self._source_plane(values, amps, data)
        return {"data": jnp.where(weights > 0, data["image"], jnp.nan), "model": model,
                "residual": jnp.where(weights > 0, residual, jnp.nan),
                "normalized_residual": jnp.where(weights > 0, residual * jnp.sqrt(weights),
                                                 jnp.nan),
                "amplitudes": amps, "source": source, "source_extent": extent}

    def _with_amplitudes(self, component, values, amps):
        params = dict(values[component.name])
        for i, key in enumerate(self.linear_keys):
            cname, pname = key.split(".", 1)
            if cname == component.name:
                params[pname] = amps[i]
        return params

    def _source_plane(self, values, amps, data):
        """Source light on a regular grid over the box (padded by a quarter each side) that the
        unmasked pixels showing the source (≥ 1 % of its brightest pixel) trace back to; the
        whole traced-back footprint when no pixel qualifies."""
        x, y = subpixel_grid(data["image"].shape, data["pixel_scale"], data["origin"], 1)
        bx, by = x, y
        for c in self.mass:
            ax, ay = c.profile.deflection(x, y, **values[c.name])
            bx, by = bx - ax, by - ay

        def source_light(px, py):
            total = jnp.zeros_like(px)
            for c in self.light:
                if c.option("plane") == "source":
                    total = total + c.profile.surface_brightness(
                        px, py, **self._with_amplitudes(c, values, amps))
            return total

        used = data["weights"] > 0
        seen = source_light(bx, by)
        bright = used & (seen >= 0.01 * jnp.max(jnp.where(used, seen, -jnp.inf)))
        pick = jnp.where(jnp.any(bright), bright, used)
        lo_x, hi_x = jnp.min(jnp.where(pick, bx, jnp.inf)), jnp.max(jnp.where(pick, bx, -jnp.inf))
        lo_y, hi_y = jnp.min(jnp.where(pick, by, jnp.inf)), jnp.max(jnp.where(pick, by, -jnp.inf))
        n = max(data["image"].shape)
        side = 1.5 * jnp.maximum(jnp.maximum(hi_x - lo_x, hi_y - lo_y), data["pixel_scale"])
        step = side / n
        cx, cy = 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)
        offsets = (jnp.arange(n) - 0.5 * (n - 1)) * step
        sx, sy = jnp.meshgrid(cx + offsets, cy + offsets)
        half = 0.5 * side
        extent = jnp.stack([cx - half, cx + half, cy - half, cy + half])
        return source_light(sx, sy), extent

    def figures(self, values, data, directory, title=""):
        """Data / model / normalised residual / source-plane panels, ``model.png``."""
        from pathlib import Path

        from lensframe.plotting import image_panels

        products = {k: np.asarray(v) for k, v in self.products(values, data).items()}
        path = image_panels(products, Path(directory) / "model.png", title=title)
        return [] if path is None else [path]
