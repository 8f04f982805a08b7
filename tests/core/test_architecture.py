"""The core knows interfaces only: it imports no plugin package."""

import ast
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def plugin_packages():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    return {value.split(".")[0].split(":")[0] for value in table["lensframe"].values()}


def test_core_imports_no_plugin():
    plugins = plugin_packages()
    assert plugins == {"lensframe_strong", "lensframe_linear", "lensframe_optim",
                       "lensframe_sample", "lensframe_micro"}
    offenders = []
    for path in (ROOT / "lensframe").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.split(".")[0] in plugins]
        for plugin in plugins:  # no string references either (e.g. importlib by name)
            if plugin in path.read_text():
                offenders.append(f"{path.relative_to(ROOT)} names {plugin}")
    assert offenders == []


def test_standard_plugins_are_registered_only_through_entry_points():
    for package in plugin_packages():
        for path in (ROOT / "plugins" / package).rglob("*.py"):
            assert "add_plugin(" not in path.read_text(), path
