"""The ``--json`` contract of ``lensframe list``, ``info`` and ``plugins`` (docs/cli.md), and the
exit statuses and messages of the listing commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import lensframe
from lensframe.cli.main import main

KINDS = {"mass", "light", "microlens", "likelihood", "solver", "fitter"}
LIST_KEYS = {"name", "kind", "plugin", "distribution", "version", "status"}


@pytest.fixture
def run(capsys, lensframe_registry):
    """Run the CLI in-process on a freshly discovered registry: (exit code, stdout, stderr)."""

    def call(*argv):
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: --version, --help, bad arguments
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def run_json(run, *argv):
    code, out, err = run(*argv)
    assert code == 0, err
    return json.loads(out)


def flat(text: str) -> str:
    """Rich wraps long lines; compare messages with whitespace collapsed."""
    return " ".join(text.split())


def test_list_json_is_an_array_of_component_objects(run):
    rows = run_json(run, "list", "--json")
    assert isinstance(rows, list) and len(rows) >= 7
    for row in rows:
        assert isinstance(row, dict)
        assert LIST_KEYS <= set(row), row
        assert row["kind"] in KINDS
        assert all(isinstance(row[k], str) and row[k] for k in LIST_KEYS), row
        assert "params" not in row  # parameters are what `info` is for
    by_name = {r["name"]: r for r in rows}
    assert len(by_name) == len(rows), "a name is listed twice"
    expected = {"SIE": "mass", "SIS": "mass", "SHEAR": "mass", "SERSIC_ELLIPSE": "light",
                "imaging": "likelihood", "wls": "solver", "lbfgs": "fitter"}
    for name, kind in expected.items():
        row = by_name[name]
        assert (row["kind"], row["distribution"], row["status"]) == (kind, "lensframe", "ok")
        assert row["version"] == lensframe.__version__
    assert by_name["SIE"]["plugin"] == "strong" and by_name["lbfgs"]["plugin"] == "optim"
    assert by_name["lbfgs"]["requires"] == ["optax"]


@pytest.mark.parametrize("kind, present, absent", [
    ("mass", {"SIE", "SIS", "SHEAR"}, {"SERSIC_ELLIPSE", "lbfgs"}),
    ("light", {"SERSIC_ELLIPSE"}, {"SIE"}),
    ("fitter", {"lbfgs"}, {"wls", "imaging"}),
    ("solver", {"wls"}, {"lbfgs"}),
])
def test_list_kind_filters(run, kind, present, absent):
    rows = run_json(run, "list", "--kind", kind, "--json")
    names = {r["name"] for r in rows}
    assert {r["kind"] for r in rows} == {kind}
    assert present <= names and not absent & names


def test_list_rejects_an_unknown_kind(run):
    code, out, err = run("list", "--kind", "galaxy")
    assert code == 2 and out == ""
    assert "invalid choice: 'galaxy'" in err


def test_list_table(run):
    code, out, err = run("list")
    assert code == 0, err
    assert "lensframe components" in out
    for name in ("SIE", "SERSIC_ELLIPSE", "lbfgs", "wls", "imaging"):
        assert name in out


def test_info_profile_json_lists_parameters(run):
    matches = run_json(run, "info", "SIE", "--json")
    assert isinstance(matches, list) and len(matches) == 1  # always an array
    info = matches[0]
    assert (info["name"], info["kind"], info["distribution"]) == ("SIE", "mass", "lensframe")
    assert info["status"] == "ok" and "Kormann" in info["reference"]
    params = {p["name"]: p for p in info["params"]}
    assert list(params) == ["theta_E", "e1", "e2", "center_x", "center_y"]
    for p in params.values():
        assert {"name", "unit", "default", "description", "lower", "upper", "linear"} <= set(p)
    assert params["theta_E"]["unit"] == "arcsec" and params["theta_E"]["default"] is None
    assert params["theta_E"]["lower"] == 0.0 and params["theta_E"]["upper"] is None
    assert params["e1"]["unit"] == "dimensionless" and params["e1"]["default"] == 0.0
    assert (params["e1"]["lower"], params["e1"]["upper"]) == (-1.0, 1.0)
    assert params["center_x"]["default"] == 0.0


def test_info_is_case_insensitive_and_marks_linear_parameters(run):
    [info] = run_json(run, "info", "sersic_ellipse", "--json")
    assert info["name"] == "SERSIC_ELLIPSE" and info["kind"] == "light"
    linear = [p["name"] for p in info["params"] if p["linear"]]
    assert linear == ["amp"]


def test_info_fitter_json_lists_options(run):
    [info] = run_json(run, "info", "lbfgs", "--json")
    assert info["kind"] == "fitter" and info["params"] == []
    options = {o["name"]: o for o in info["options"]}
    assert {"n_starts", "max_steps", "gtol"} <= set(options)
    assert options["n_starts"] == {"name": "n_starts", "type": "int", "default": 8,
                                   "help": options["n_starts"]["help"]}
    assert options["n_starts"]["help"]
    assert options["gtol"]["type"] == "float"


def test_info_likelihood_json_lists_options_and_component_keys(run):
    [info] = run_json(run, "info", "imaging", "--json")
    options = {o["name"]: o for o in info["options"]}
    assert options["supersampling"]["default"] == 2 and options["solver"]["default"] == "wls"
    assert info["component_options"] == {"plane": ["lens", "source"]}


def test_info_unknown_name_fails_with_a_suggestion(run):
    code, out, err = run("info", "SIEE")
    assert code != 0 and out == ""
    assert "no component named 'SIEE' (did you mean 'SIE'" in flat(err)
    code, out, err = run("info", "xyzzy", "--json")
    assert code != 0 and out == ""
    assert "no component named 'xyzzy'" in flat(err)
    assert "lensframe list" in flat(err)  # no close match: point at the full listing


def test_info_human_readable(run):
    code, out, err = run("info", "lbfgs")
    assert code == 0, err
    assert "lbfgs" in out and "n_starts" in out and "lensframe" in out


def test_plugins_json_lists_standard_plugins(run):
    records = run_json(run, "plugins", "--json")
    assert isinstance(records, list)
    by_name = {r["name"]: r for r in records}
    expected = {"strong": ("lensframe_strong.plugin", {"SIE", "SIS", "SHEAR", "SERSIC_ELLIPSE",
                                                       "imaging"}),
                "linear": ("lensframe_linear.plugin", {"wls"}),
                "optim": ("lensframe_optim.plugin", {"lbfgs"})}
    for name, (value, components) in expected.items():
        r = by_name[name]
        assert {"name", "distribution", "version", "value", "hooks", "components", "status",
                "errors"} <= set(r)
        assert (r["distribution"], r["version"], r["value"]) == ("lensframe",
                                                                 lensframe.__version__, value)
        assert r["status"] == "ok" and r["errors"] == []
        assert components <= set(r["components"])
        assert all(h.startswith("lensframe_register_") for h in r["hooks"])


def test_version(run):
    code, out, _ = run("--version")
    assert code == 0
    assert out.strip() == f"lensframe {lensframe.__version__}"


def test_no_command_prints_help(run):
    code, out, _ = run()
    assert code == 0 and "list" in out and "plugins" in out


# -- in a fresh process: what a script calling the installed command sees ----------------------
def _cli(*argv):
    env = {k: v for k, v in os.environ.items() if k != "LENSFRAME_STRICT_PLUGINS"}
    return subprocess.run([sys.executable, "-m", "lensframe.cli", *argv], capture_output=True,
                          text=True, timeout=60, env=env)


def test_subprocess_list_json_is_pure_json_on_stdout():
    proc = _cli("list", "--kind", "mass", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)  # nothing but JSON on stdout
    assert rows and all(r["kind"] == "mass" for r in rows)
    assert {"SIE", "SIS"} <= {r["name"] for r in rows}


def test_subprocess_version_and_unknown_info():
    proc = _cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"lensframe {lensframe.__version__}"
    proc = _cli("info", "lbgfs", "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "did you mean 'lbfgs'" in flat(proc.stderr)
