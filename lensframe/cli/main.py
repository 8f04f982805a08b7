"""The ``lensframe`` command: list, info, plugins, fit, simulate, batch, cache.

``--json`` output is a stable, machine-readable contract (documented in docs/cli.md). Listing and
describing components imports no numerical code; only ``fit``, ``simulate`` and ``batch`` import JAX.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__
from ..errors import LensframeError

_err = Console(stderr=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lensframe", description="Gravitational-lens modelling with pluggable profiles "
                                      "and fitters.")
    parser.add_argument("--version", action="version", version=f"lensframe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list registered components")
    p.add_argument("--kind", choices=["mass", "light", "microlens", "likelihood", "solver",
                                      "fitter"])
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("info", help="describe one component: parameters, options, provider")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("plugins", help="installed plugins, versions and load errors")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("fit", help="fit a model described by a TOML config file")
    p.add_argument("config", type=Path)
    p.add_argument("--output", type=Path, help="output folder (overrides [output] dir)")
    p.add_argument("--fitter", help="run this single fitter instead of the config's [[fit]] chain")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of --fitter (repeatable); VALUE is read as TOML")
    p.add_argument("--seed", type=int, help="PRNG seed (overrides the config's seed)")
    p.add_argument("--float32", action="store_true",
                   help="compute in single precision (default: double)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--no-plots", action="store_true", help="do not write figures")

    p = sub.add_parser("simulate", help="write a mock image (FITS) from a config's model")
    p.add_argument("config", type=Path)
    p.add_argument("--output", type=Path, required=True, metavar="FILE.fits",
                   help="FITS file to write (extensions IMAGE, NOISE, PSF, PARAMS)")
    p.add_argument("--noise", action="store_true",
                   help="add Gaussian noise drawn from the data's noise map")
    p.add_argument("--seed", type=int, help="noise seed (overrides the config's seed)")

    p = sub.add_parser("batch", help="fit a catalogue of lenses on Dask (docs/batch.md)")
    p.add_argument("config", type=Path)
    p.add_argument("--output", type=Path, help="output folder (overrides [output] dir)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler (default: a LocalCluster)")
    p.add_argument("--workers", type=int, help="LocalCluster worker processes")
    p.add_argument("--retries", type=int, help="extra attempts for a failing lens")
    p.add_argument("--limit", type=int, help="fit only the first N lenses")
    p.add_argument("--quiet", action="store_true", help="no progress display")

    p = sub.add_parser("cache", help="the on-disk compilation cache")
    p.add_argument("action", choices=["info", "clear"])
    p.add_argument("--json", action="store_true")
    return parser


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a batch scheduler's time limit, ``kill``, ``timeout``) raises KeyboardInterrupt
    like Ctrl-C, so a fit keeps and writes what it has instead of dying with nothing saved."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:              # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"list": cmd_list, "info": cmd_info, "plugins": cmd_plugins, "fit": cmd_fit,
               "simulate": cmd_simulate, "batch": cmd_batch, "cache": cmd_cache}[args.command]
    try:
        if args.command == "batch":     # the batch loop handles its own signals (survey/executor)
            return handler(args) or 0
        with _terminate_as_interrupt():
            return handler(args) or 0
    except (LensframeError, TypeError, ValueError, OSError) as exc:
        if os.environ.get("LENSFRAME_DEBUG"):
            raise
        _err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        return 2
    except KeyboardInterrupt:
        _err.print("[yellow]interrupted[/]")
        return 130


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


# -- list / info / plugins ---------------------------------------------------------------------------
def cmd_list(args) -> int:
    from ..registry import get_registry

    registry = get_registry()
    specs = registry.components(args.kind)
    if args.json:
        _print_json([{k: v for k, v in s.as_dict(registry.status(s)).items() if k != "params"}
                     for s in specs])
        return 0
    table = Table(title="lensframe components", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("summary", ratio=1, min_width=20)
    table.add_column("plugin", overflow="fold")
    table.add_column("distribution", overflow="fold")
    table.add_column("status", overflow="fold")
    for s in specs:
        status = registry.status(s)
        # plugin-supplied text is shown literally, never read as rich markup
        table.add_row(escape(s.name), s.kind, escape(s.summary), escape(s.plugin),
                      escape(f"{s.distribution} {s.version}"),
                      status if status == "ok" else f"[red]{escape(status)}[/]")
    Console().print(table)
    _warn_load_errors(registry)
    return 0


def cmd_info(args) -> int:
    from ..registry import get_registry

    registry = get_registry()
    specs = registry.find(args.name)
    if not specs:
        from ..errors import UnknownComponentError
        from ..registry import suggest

        raise UnknownComponentError(f"no component named '{args.name}'"
                                    + (suggest(args.name, registry.all_names())
                                       or "; `lensframe list` shows the registered components"))
    out = []
    for spec in specs:
        entry = spec.as_dict(registry.status(spec))
        entry.update(_loaded_details(spec))
        out.append(entry)
    if args.json:
        _print_json(out)  # always an array: a name may exist in several namespaces
        return 0
    console = Console()
    for entry in out:
        entry_text = {k: escape(v) if isinstance(v, str) else v for k, v in entry.items()}
        console.print(f"[bold]{entry_text['name']}[/] ({entry['kind']}) — {entry_text['summary']}")
        console.print(f"provided by {entry_text['distribution']} {entry_text['version']}, entry "
                      f"point '{entry_text['plugin']}', object {entry_text['ref']}; status "
                      f"{entry_text['status']}", highlight=False)
        if entry.get("reference"):
            console.print(f"reference: {entry_text['reference']}", highlight=False)
        if entry["params"]:
            table = Table("parameter", "unit", "default", "range", "linear", "description")
            for p in entry["params"]:
                rng = f"[{_fmt(p['lower'])}, {_fmt(p['upper'])}]"
                table.add_row(escape(p["name"]), escape(p["unit"]), _fmt(p["default"]), rng,
                              "yes" if p["linear"] else "", escape(p["description"]))
            console.print(table)
        if entry.get("options"):
            table = Table("option", "type", "default", "description")
            for o in entry["options"]:
                table.add_row(escape(o["name"]), escape(o["type"]), escape(_fmt(o["default"])),
                              escape(o["help"]))
            console.print(table)
        if entry.get("component_options"):
            console.print("component keys: " + ", ".join(
                f"{k} ∈ {v}" for k, v in entry["component_options"].items()))
        if entry.get("load_error"):
            console.print(f"[red]cannot load:[/] {escape(entry['load_error'])}")
    return 0


def _loaded_details(spec) -> dict:
    """Options, component keys and the paper: these need the object itself, so are imported."""
    from ..options import option_table

    try:
        obj = spec.load()
    except LensframeError as exc:
        return {"load_error": str(exc)}
    details = {"reference": getattr(obj, "reference", "")}
    options_cls = getattr(obj, "Options", None)
    if options_cls is not None:
        details["options"] = option_table(options_cls)
    if getattr(obj, "component_options", None):
        details["component_options"] = {k: list(v) for k, v in obj.component_options.items()}
    return details


def _fmt(value) -> str:
    return "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def cmd_plugins(args) -> int:
    from ..registry import get_registry

    registry = get_registry()
    records = [p.as_dict() for p in registry.plugins]
    if args.json:
        _print_json(records)
        return 0
    table = Table("plugin", "distribution", "version", "hooks", "components", "status",
                  title="lensframe plugins (entry-point group 'lensframe')", title_justify="left")
    for p in records:
        status = "[green]ok[/]" if p["status"] == "ok" else "[red]error[/]"
        table.add_row(escape(p["name"]), escape(p["distribution"]), escape(p["version"]),
                      ", ".join(h.replace("lensframe_register_", "") for h in p["hooks"]),
                      escape(", ".join(p["components"])), status)
    console = Console()
    console.print(table)
    for p in records:
        for e in p["errors"]:
            console.print(f"[red]{escape(p['name'])}[/] ({escape(p['distribution'])}): "
                          f"{escape(e)}", highlight=False)
    return 0


def _warn_load_errors(registry) -> None:
    broken = [p for p in registry.plugins if p.errors]
    if broken:
        _err.print(f"[yellow]{len(broken)} plugin(s) failed to load: "
                   f"{escape(', '.join(p.name for p in broken))} — see `lensframe plugins`[/]")


# -- cache -------------------------------------------------------------------------------------------
def cmd_cache(args) -> int:
    from .. import cache

    out = cache.info() if args.action == "info" else cache.clear()
    if args.json:
        _print_json(out)
        return 0
    console = Console()
    if args.action == "info":
        console.print(f"cache directory: {out['directory']}")
        console.print(f"entries: {out['entries']}, size: {out['bytes'] / 1e6:.1f} MB"
                      + (" (disabled by LENSFRAME_NO_CACHE)" if out["disabled_by_env"] else ""))
    else:
        console.print(f"removed {out['removed_entries']} entries "
                      f"({out['removed_bytes'] / 1e6:.1f} MB) from {out['directory']}")
    return 0


# -- fit ---------------------------------------------------------------------------------------------
def cmd_fit(args) -> int:
    from .fit import run_fit

    return run_fit(args)


def cmd_batch(args) -> int:
    from .batch import run_batch_command

    return run_batch_command(args)


def cmd_simulate(args) -> int:
    from .simulate import run_simulate

    return run_simulate(args)
