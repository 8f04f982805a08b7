"""``lensframe fit CONFIG``: validate, run the fitter chain, report, write results and figures."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..errors import ConfigError


def _parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--option '{pair}': expected KEY=VALUE")
        key, value = pair.split("=", 1)
        try:
            options[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            options[key.strip()] = value  # a bare word is a string
    return options


def run_fit(args) -> int:
    console = Console()
    if args.option and not args.fitter:
        raise ConfigError("--option needs --fitter NAME")
    import jax

    if not args.float32:
        jax.config.update("jax_enable_x64", True)

    from .. import config as config_mod
    from ..dispatch import Fitter
    from ..result import atomic_write

    run = config_mod.load(args.config, output_dir=args.output)
    if args.fitter:
        run.stages = config_mod._stages([{"fitter": args.fitter, **_parse_options(args.option)}])
    seed = run.seed if args.seed is None else args.seed
    problem = run.problem

    console.print(f"[bold]lensframe fit[/] {args.config} → {run.output_dir}")
    table = Table("parameter", "role", "prior / value", title="model", title_justify="left")
    for row in problem.describe():
        table.add_row(row["parameter"], row["role"], row["detail"])
    console.print(table)
    console.print("fitters: " + " → ".join(s.fitter for s in run.stages))

    run.output_dir.mkdir(parents=True, exist_ok=True)
    fitter = Fitter(problem, quiet=args.quiet, console=console)
    result = None
    for i, stage in enumerate(run.stages):
        result = fitter.run(stage.fitter, key=seed + i, init_from=result, **stage.options)
        prov = result.provenance
        console.print(f"[green]✓[/] {stage.fitter}: ln P = {result.log_density:.6g}; compile "
                      f"{prov['compile_seconds']:.1f} s (cache hit: {prov['cache_hit']}), run "
                      f"{prov['run_seconds']:.1f} s")
        if len(run.stages) > 1:
            result.save(run.output_dir / f"stage{i + 1}-{stage.fitter}")

    _report(console, result, run.truth)
    summary = result.save(run.output_dir)
    products = _products(problem, result)
    extra = {"chi2": products.pop("_chi2", None), "dof": products.pop("_dof", None)}
    data = json.loads(summary.read_text())
    data.update({"config": str(Path(args.config)), "truth": run.truth, **extra})
    text = json.dumps(data, indent=2, allow_nan=False)
    atomic_write(summary, lambda fh: fh.write(text.encode()))
    console.print(f"wrote {summary}")
    if run.plots and not args.no_plots:
        from ..plotting import image_panels

        figure = image_panels(products, run.output_dir / "model.png",
                              title=f"{Path(args.config).stem}: best fit ({result.fitter})")
        if figure is not None:
            console.print(f"wrote {figure}")
    return 0


def _products(problem, result) -> dict:
    import jax.numpy as jnp
    import numpy as np

    theta = jnp.asarray(result.best_theta)
    values = problem.values(theta, problem.args)
    products = {k: np.asarray(v) for k, v in
                problem.likelihood.products(values, problem.args["data"]).items()}
    if "normalized_residual" in products:
        products["_chi2"] = float(np.nansum(products["normalized_residual"] ** 2))
    products["_dof"] = problem.likelihood.degrees_of_freedom(problem.args["data"], problem.dim)
    return products


def _report(console, result, truth) -> None:
    columns = ["parameter", "best fit"] + (["truth", "Δ", "Δ / |truth|"] if truth else [])
    table = Table(*columns, title="best fit (dim: not free)", title_justify="left")
    free = set(result.free_names)
    for key, value in result.best_fit.items():
        name = key if key in free else f"[dim]{key}[/]"
        row = [name, f"{value:.6g}"]
        if truth:
            true = truth.get(key)
            if true is None:
                row += ["", "", ""]
            else:
                rel = f"{(value - true) / abs(true):+.2%}" if true != 0 else ""
                row += [f"{true:.6g}", f"{value - true:+.3g}", rel]
        table.add_row(*row)
    console.print(table)
