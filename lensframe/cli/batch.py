"""``lensframe batch CONFIG``: fit a catalogue of lenses on Dask (docs/batch.md)."""

from __future__ import annotations

from rich.console import Console


def run_batch_command(args) -> int:
    console = Console()
    import jax

    from ..survey import load_batch, run_batch
    from ..survey.table import print_summary

    settings = load_batch(args.config, output_dir=args.output, workers=args.workers,
                          retries=args.retries, scheduler=args.scheduler, limit=args.limit)
    # the client builds the validation problem in the precision the workers will use
    jax.config.update("jax_enable_x64", settings.x64)
    where = settings.scheduler or f"LocalCluster, {settings.workers} worker process(es)"
    console.print(f"[bold]lensframe batch[/] {args.config}: {len(settings.lenses)} lenses, "
                  f"fitters {' → '.join(s.fitter for s in settings.stages)}, on {where} → "
                  f"{settings.output_dir}", highlight=False)
    outcome = run_batch(settings, quiet=args.quiet, console=console)
    print_summary(console, outcome.summary)
    console.print(f"wrote {outcome.files['csv']}, {outcome.files['fits']}, "
                  f"{outcome.files['summary']}", highlight=False)
    if outcome.interrupted:
        console.print("[yellow]interrupted[/]: run the same command again to resume")
        return 130
    return 1 if outcome.summary["failed"] else 0
