"""``lensframe fit CONFIG``: validate, run the fitter chain, report, write results and figures.

A chain of ``[[fit]]`` stages runs in order, each seeded by the previous one (``init_from``), under
one console and progress reporter. With more than one stage every stage's result is saved in
``OUTPUT/stage-N-FITTER/`` and the last one is the main result in ``OUTPUT/``. ``--fitter NAME
--option KEY=VALUE`` replaces the chain by that single fitter.

Ctrl-C: a fitter returns what it has with ``diagnostics["interrupted"] = True`` (see
:mod:`lensframe.fitter`); the chain stops there, that result is saved as the main one and the
message says where it was written; the exit status is 130. If a fitter had nothing to keep, the last
finished stage's result is the main one instead.

Outputs: ``result.fits`` and ``summary.json`` (:class:`~lensframe.result.FitResult`, plus the
config path, truth, χ² and degrees of freedom), the likelihood's own figures
(``Likelihood.figures``: for imaging ``model.png``, data / model / normalised residual / source),
``corner.png`` when the result has samples and ``trace.png`` when it has chains.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from rich.console import Console
from rich.markup import escape
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


def stage_directory(output_dir: Path, index: int, fitter: str) -> Path:
    """Where stage ``index`` (0-based) of a chain is saved: ``OUTPUT/stage-1-pso``."""
    return Path(output_dir) / f"stage-{index + 1}-{fitter}"


def run_fit(args) -> int:
    console = Console()
    if args.option and not args.fitter:
        raise ConfigError("--option needs --fitter NAME")
    import jax

    if not args.float32:
        jax.config.update("jax_enable_x64", True)

    from .. import config as config_mod
    from ..dispatch import Fitter
    from ..result import add_point_estimates

    run = config_mod.load(args.config, output_dir=args.output)
    if args.fitter:
        run.stages = config_mod._stages([{"fitter": args.fitter, **_parse_options(args.option)}])
    seed = run.seed if args.seed is None else args.seed
    problem = run.problem

    console.print(f"[bold]lensframe fit[/] {escape(str(args.config))} → {run.output_dir}")
    table = Table("parameter", "role", "prior / value", title="model", title_justify="left")
    for row in problem.describe():
        table.add_row(row["parameter"], row["role"], row["detail"])
    console.print(table)
    console.print("fitters: " + " → ".join(s.fitter for s in run.stages))

    run.output_dir.mkdir(parents=True, exist_ok=True)
    fitter = Fitter(problem, quiet=args.quiet, console=console)
    result, interrupted = _run_chain(console, fitter, run, seed)
    if result is None:
        console.print("[yellow]interrupted before any stage finished: nothing written[/]")
        return 130

    add_point_estimates(result, problem)
    _report(console, result, run.truth)
    summary = _save_main(result, problem, run, args.config)
    console.print(f"wrote {summary} and {summary.with_name('result.fits').name}", soft_wrap=True)
    if run.plots and not args.no_plots:
        for path in write_figures(problem, result, run.output_dir, run.truth,
                                  title=f"{Path(args.config).stem}: {result.fitter}"):
            console.print(f"wrote {path}", soft_wrap=True)
    if interrupted:
        where = result.diagnostics.get("interrupted_at", "")
        console.print(f"[yellow]interrupted[/] ({result.fitter}{': ' + where if where else ''}); "
                      f"the results so far are in {run.output_dir}", soft_wrap=True)
        return 130
    return 0


def _run_chain(console, fitter, run, seed):
    """Run the stages; returns (last result, interrupted?)."""
    result = None
    chained = len(run.stages) > 1
    for i, stage in enumerate(run.stages):
        if chained:
            console.print(f"[bold]stage {i + 1}/{len(run.stages)}[/]: {stage.fitter}")
        try:
            new = fitter.run(stage.fitter, key=seed + i, init_from=result, **stage.options)
        except KeyboardInterrupt:
            # the fitter had nothing of its own to keep: the previous stage is the answer
            return result, True
        result = new
        prov = result.provenance
        console.print(f"[green]✓[/] {stage.fitter}: ln P = {result.log_density:.6g}; compile "
                      f"{prov['compile_seconds']:.1f} s (cache hit: {prov['cache_hit']}), run "
                      f"{prov['run_seconds']:.1f} s")
        if chained:
            where = result.save(stage_directory(run.output_dir, i, stage.fitter)).parent
            console.print(f"  saved {where}", soft_wrap=True)
        if result.interrupted:
            return result, True
    return result, False


def _save_main(result, problem, run, config_path) -> Path:
    from ..result import atomic_write

    summary = result.save(run.output_dir)
    products = _products(problem, result)
    extra = {"chi2": products.pop("_chi2", None), "dof": products.pop("_dof", None)}
    data = json.loads(summary.read_text())
    data.update({"config": str(Path(config_path)), "truth": run.truth, **extra})
    text = json.dumps(data, indent=2, allow_nan=False)
    atomic_write(summary, lambda fh: fh.write(text.encode()))
    return summary


def write_figures(problem, result, directory, truth=None, title: str = "") -> list[Path]:
    """The likelihood's own figures at the best fit, a corner plot when ``result`` has samples
    and a trace plot when it has chains; returns the paths written."""
    import jax.numpy as jnp

    from ..plotting import corner_plot, trace_plot

    directory = Path(directory)
    values = problem.values(jnp.asarray(result.best_theta), problem.args)
    paths = [Path(p) for p in problem.likelihood.figures(values, problem.args["data"], directory,
                                                         title=title)]
    for path in (corner_plot(result, directory / "corner.png", truth=truth, title=title),
                 trace_plot(result, directory / "trace.png", title=title)):
        if path is not None:
            paths.append(path)
    return paths


def _products(problem, result) -> dict:
    import numpy as np

    products = problem.products(result.best_theta)
    if "normalized_residual" in products:
        products["_chi2"] = float(np.nansum(products["normalized_residual"] ** 2))
    products["_dof"] = problem.likelihood.degrees_of_freedom(problem.args["data"], problem.dim)
    return products


def _report(console, result, truth) -> None:
    summary = result.summary()
    sampled = any("median" in row for row in summary.values())
    columns = ["parameter", "best fit (MAP)"] + (["median", "−1σ", "+1σ"] if sampled else [])
    columns += ["truth", "Δ", "Δ / |truth|"] if truth else []
    table = Table(*columns, title="best fit (dim: not free)", title_justify="left")
    free = set(result.free_names)
    for key, value in result.best_fit.items():
        name = key if key in free else f"[dim]{key}[/]"
        row = [name, f"{value:.6g}"]
        if sampled:
            stats = summary.get(key, {})
            if "median" in stats:
                row += [f"{stats['median']:.6g}", f"{stats['p16'] - stats['median']:.3g}",
                        f"+{stats['p84'] - stats['median']:.3g}"]
            else:
                row += ["", "", ""]
        if truth:
            true = truth.get(key)
            if true is None:
                row += ["", "", ""]
            else:
                rel = f"{(value - true) / abs(true):+.2%}" if true != 0 else ""
                row += [f"{true:.6g}", f"{value - true:+.3g}", rel]
        table.add_row(*row)
    console.print(table)
    if result.log_evidence is not None:
        err = result.log_evidence_error
        console.print(f"ln Z = {result.log_evidence:.4f}" + (f" ± {err:.4f}" if err else ""))
    for key in ("rhat", "ess"):
        if key in result.diagnostics:
            values = ", ".join(f"{v:.3g}" for v in result.diagnostics[key])
            console.print(f"{'R̂' if key == 'rhat' else 'ESS'}: {values}")
