"""``lensframe simulate CONFIG --output FILE.fits [--noise] [--seed N]``: a mock image from the same
model that ``lensframe fit CONFIG`` fits.

What is simulated
    The config's components, likelihood and options, on the grid of its ``[data]``: the shape of
    ``data.image`` (its values are not used), ``pixel_scale``, ``origin``, ``psf``, supersampling.
    The image is the likelihood's own model, ``likelihood.products(values, data)["model"]``, so a
    simulated image and a fit of it cannot disagree about conventions. It covers every pixel,
    masked ones included (the mask is an analysis choice, not part of the sky).

Where each parameter's value comes from (first that applies)
    1. ``[output] truth`` (a table or a JSON file of ``"component.param": value``);
    2. the config itself: a fixed number, or for a linked parameter its target's value;
    3. for a free parameter, the median of its prior.
    A truth value that contradicts a fixed value or a link wins, with a note on the console (that
    is how a deliberately misspecified mock is made). Linear amplitudes (``params.amp = "linear"``)
    have nothing to be solved against here, so they must be given in ``[output] truth`` (or as
    numbers in the config); a missing one is an error naming it. The simulation itself is built
    as a second problem in which every parameter is fixed at these values, so no linear solve
    takes place.

Noise (``--noise``)
    Gaussian, σ from ``data.noise`` (a map or a number), drawn with
    ``numpy.random.default_rng(seed)`` where ``seed`` is ``--seed`` or else the config's ``seed``. Pixels whose σ is not a positive
    finite number get none. Without ``--noise`` the image is noiseless.

Output (written atomically: temporary file, then rename)
    ``IMAGE`` (flux per pixel; header PIXSCALE, XORIGIN, YORIGIN, NOISY, SEED, CONFIG), ``NOISE``
    (the σ map), ``PSF`` (the normalised kernel the model was convolved with; 1×1 if the config has
    none) — the layout of ``examples/sie_mock/sie_mock.fits``, so ``data.image = "FILE[IMAGE]"``
    etc. reads it back — and ``PARAMS``, a table of every parameter's ``name``, ``value`` and
    ``source`` (truth, fixed, linked, prior median).
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import ConfigError


def resolve_values(problem, truth: dict | None) -> tuple[dict[str, float], dict[str, str], list]:
    """({"component.param": value}, {key: source}, [notes]) by the precedence in the module
    docstring. Raises ConfigError for a missing linear amplitude or a value out of range."""
    layout = problem.layout
    truth = dict(truth or {})
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []

    def take(key, config_value, config_source):
        if key in truth:
            values[key], sources[key] = truth[key], "truth"
            if config_value is not None and not math.isclose(truth[key], config_value,
                                                             rel_tol=1e-12, abs_tol=1e-15):
                notes.append(f"{key}: truth {truth[key]:g} replaces the config's "
                             f"{config_source} value {config_value:g}")
        else:
            values[key], sources[key] = config_value, config_source

    for key, prior in zip(layout.free, problem.priors):
        median = None if key in truth else float(prior.from_unit(0.5))
        take(key, median, "prior median")
    for key, value in zip(layout.fixed, problem.fixed_values.tolist()):
        take(key, float(value), "fixed")
    missing = [key for key in layout.linear if key not in truth]
    if missing:
        raise ConfigError(
            f"output.truth: no value for the linear parameter(s) {', '.join(missing)}; a "
            "simulation has no data to solve them against, so give them in [output] truth (a "
            "table or a JSON file) or as numbers in the config")
    for key in layout.linear:
        values[key], sources[key] = truth[key], "truth"
    for key, target in layout.linked:
        take(key, values[target], f"linked ({target})")

    order = [f"{c}.{p.name}" for c, comp in problem.components.items() for p in comp.profile.params]
    specs = {f"{c}.{p.name}": p for c, comp in problem.components.items()
             for p in comp.profile.params}
    for key in order:
        spec, value = specs[key], values[key]
        if not (math.isfinite(value) and spec.lower <= value <= spec.upper):
            where = "output.truth" if sources[key] == "truth" else f"{key} ({sources[key]})"
            raise ConfigError(f"{where}: {key} = {value:g} is outside the allowed range "
                              f"[{spec.lower:g}, {spec.upper:g}] ({spec.unit})")
    return {k: values[k] for k in order}, {k: sources[k] for k in order}, notes


def simulate(run, base_dir, noise: bool = False, seed: int | None = None) -> dict:
    """The mock for a loaded config (``lensframe.config.load``): a dict with ``image``, ``noise``,
    ``psf``, ``values``, ``sources``, ``notes``, ``seed`` and the prepared ``data``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from ..io import read_array
    from ..problem import Problem

    problem = run.problem
    values, sources, notes = resolve_values(problem, run.truth)
    raw = run.raw
    components = {}
    for cname, entry in raw["components"].items():
        fixed = {p: values[f"{cname}.{p}"] for p in problem.components[cname].profile.param_names}
        components[cname] = {**{k: v for k, v in entry.items() if k != "params"}, "params": fixed}
    likelihood = dict(raw.get("likelihood", {}))
    name = likelihood.pop("name", "imaging")
    with warnings.catch_warnings():  # the data were read, and warned about, by config.load
        warnings.simplefilter("ignore")
        model_problem = Problem.build(components, raw["data"], likelihood=name,
                                      likelihood_options=likelihood, base_dir=base_dir)

    @jax.jit
    def model(args):
        params = model_problem.values(jnp.zeros((0,)), args)
        return model_problem.likelihood.products(params, args["data"]).get("model")

    image = model(model_problem.args)
    if image is None or np.ndim(image) != 2:
        raise ConfigError(f"likelihood '{model_problem.likelihood_name}': simulate needs a "
                          "likelihood whose products include a 2D model image")
    image = np.array(image, dtype=np.float64)
    data = model_problem.data
    if "noise" not in raw["data"]:
        raise ConfigError("data.noise: simulate writes the noise map, so the config must give one")
    sigma = np.asarray(read_array(raw["data"]["noise"], "noise", base_dir), dtype=np.float64)
    sigma = np.broadcast_to(sigma, image.shape).copy()
    seed = run.seed if seed is None else seed
    if noise:
        usable = np.isfinite(sigma) & (sigma > 0)
        draws = np.random.default_rng(seed).standard_normal(image.shape)
        image = image + np.where(usable, sigma * draws, 0.0)
    return {"image": image, "noise": sigma, "psf": np.asarray(data["psf"], dtype=np.float64),
            "values": values, "sources": sources, "notes": notes, "seed": seed, "data": data}


def to_fits(mock: dict, noisy: bool, config: Path) -> bytes:
    import numpy as np
    from astropy.io import fits

    image = fits.ImageHDU(mock["image"], name="IMAGE")
    header = image.header
    data = mock["data"]
    header["BUNIT"] = ("flux/pixel", "surface brightness x pixel area, PSF-convolved")
    header["PIXSCALE"] = (float(data["pixel_scale"]), "arcsec per pixel")
    header["XORIGIN"] = (float(data["origin"][0]), "x of pixel (0, 0), arcsec")
    header["YORIGIN"] = (float(data["origin"][1]), "y of pixel (0, 0), arcsec")
    header["NOISY"] = (bool(noisy), "Gaussian noise from NOISE added")
    if noisy:
        header["SEED"] = (int(mock["seed"]), "numpy default_rng seed of the noise")
    header["CONFIG"] = (config.name[:60], "lensframe config simulated")
    names = list(mock["values"])
    params = fits.BinTableHDU.from_columns([
        fits.Column(name="name", format=f"{max(len(n) for n in names)}A", array=np.array(names)),
        fits.Column(name="value", format="D", array=np.array([mock["values"][n] for n in names])),
        fits.Column(name="source", format="32A",
                    array=np.array([mock["sources"][n][:32] for n in names])),
    ], name="PARAMS")
    hdus = fits.HDUList([fits.PrimaryHDU(), image, fits.ImageHDU(mock["noise"], name="NOISE"),
                         fits.ImageHDU(mock["psf"], name="PSF"), params])
    buffer = io.BytesIO()
    hdus.writeto(buffer)
    return buffer.getvalue()


def run_simulate(args) -> int:
    console = Console()
    import jax

    jax.config.update("jax_enable_x64", True)

    from .. import config as config_mod
    from ..result import atomic_write

    output = Path(args.output)
    if output.suffix.lower() not in (".fits", ".fit", ".fts"):
        raise ConfigError(f"--output {output}: expected a .fits file name")
    run = config_mod.load(args.config)
    mock = simulate(run, Path(args.config).parent, noise=args.noise, seed=args.seed)

    table = Table("parameter", "value", "source", title="simulated model", title_justify="left")
    for key, value in mock["values"].items():
        table.add_row(escape(key), f"{value:.6g}", escape(mock["sources"][key]))
    console.print(table)
    for note in mock["notes"]:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)

    blob = to_fits(mock, args.noise, Path(args.config))
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(output, lambda fh: fh.write(blob))
    kind = f"noise seed {mock['seed']}" if args.noise else "noiseless"
    console.print(f"wrote {escape(str(output))} (IMAGE, NOISE, PSF, PARAMS; {kind})",
                  highlight=False)
    return 0
