"""The plugin system: discovery through entry points, lookups, and how broken or clashing plugins
are reported (with the fixtures lensframe.testing gives every plugin author)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types

import pytest

from lensframe import hookimpl
from lensframe.cli.main import main as cli_main
from lensframe.errors import (DuplicateComponentError, LensframeError, PluginLoadError,
                              UnknownComponentError)
from lensframe.registry import STRICT_ENV, get_registry

STANDARD = {
    "SIE": ("mass", "strong"), "SIS": ("mass", "strong"), "SHEAR": ("mass", "strong"),
    "SERSIC_ELLIPSE": ("light", "strong"), "imaging": ("likelihood", "strong"),
    "wls": ("solver", "linear"), "lbfgs": ("fitter", "optim"),
}

# A registration module that registers one mass profile NAME (lazy reference to the built-in SIS,
# so that the spec can also be loaded); formatted with name, kind and replace.
PROFILE_PLUGIN = """
from lensframe import hookimpl

@hookimpl
def lensframe_register_profiles(registry):
    registry.add({name!r}, kind="mass", ref="lensframe_strong.isothermal:SIS",
                 summary="test profile", replace={replace!r})
"""


def profile_plugin(name: str, replace: bool = False) -> str:
    return PROFILE_PLUGIN.format(name=name, replace=replace)


def module(name: str, source: str) -> types.ModuleType:
    """An in-process plugin module made from source text."""
    mod = types.ModuleType(name)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), mod.__dict__)
    return mod


def record_of(registry, name):
    matches = [p for p in registry.plugins if p.name == name]
    assert len(matches) == 1, [p.name for p in registry.plugins]
    return matches[0]


def cli_json(capsys, *argv):
    capsys.readouterr()
    code = cli_main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


# -- discovery -------------------------------------------------------------------------------------
def test_standard_components_come_from_entry_points(lensframe_registry):
    specs = {s.name: s for s in lensframe_registry.components()}
    for name, (kind, plugin) in STANDARD.items():
        assert name in specs, f"{name} missing from {sorted(specs)}"
        spec = specs[name]
        assert (spec.kind, spec.plugin, spec.distribution) == (kind, plugin, "lensframe")
        assert spec.version and ":" in spec.ref
        assert lensframe_registry.status(spec) == "ok"
    # the standard plugins are ordinary entry points of the distribution 'lensframe'
    records = {p.name: p for p in lensframe_registry.plugins}
    for plugin in ("strong", "linear", "optim"):
        assert records[plugin].distribution == "lensframe"
        assert records[plugin].value == f"lensframe_{plugin}.plugin"
        assert records[plugin].errors == []
    assert set(records["strong"].components) >= {"SIE", "SIS", "SHEAR", "SERSIC_ELLIPSE",
                                                  "imaging"}
    assert records["strong"].hooks == ["lensframe_register_profiles",
                                       "lensframe_register_likelihoods"]


def test_components_are_sorted_by_kind_and_filtered(lensframe_registry):
    kinds = [s.kind for s in lensframe_registry.components()]
    order = ["mass", "light", "microlens", "likelihood", "solver", "fitter"]
    assert kinds == sorted(kinds, key=order.index)
    mass = lensframe_registry.components("mass")
    assert mass and all(s.kind == "mass" for s in mass)
    assert {"SIE", "SIS", "SHEAR"} <= {s.name for s in mass}
    with pytest.raises(LensframeError, match="unknown kind 'mas'"):
        lensframe_registry.components("mas")


def test_lookup_is_case_insensitive(lensframe_registry):
    assert lensframe_registry.get("sie", "profile").name == "SIE"
    assert lensframe_registry.get("Sersic_Ellipse", "profile").name == "SERSIC_ELLIPSE"
    assert lensframe_registry.get("LBFGS", "fitter").name == "lbfgs"
    assert lensframe_registry.get("IMAGING", "likelihood").kind == "likelihood"
    # namespaces are separate: a fitter name is not a profile
    with pytest.raises(UnknownComponentError):
        lensframe_registry.get("lbfgs", "profile")


def test_lookup_loads_the_implementation_lazily(lensframe_registry):
    import lensframe

    cls = lensframe_registry.get("sis", "profile").load()
    assert cls.__name__ == "SIS" and cls.__module__ == "lensframe_strong.isothermal"
    profile = lensframe.get_profile("sis")  # the public helper goes through the same registry
    assert type(profile) is cls


def test_unknown_name_suggests_close_matches(lensframe_registry):
    with pytest.raises(UnknownComponentError) as info:
        lensframe_registry.get("SIEE", "profile")
    message = str(info.value)
    assert "unknown profile 'SIEE'" in message
    assert "did you mean 'SIE'" in message
    assert "known:" in message and "SERSIC_ELLIPSE" in message
    assert isinstance(info.value, KeyError)  # dict-like callers can catch KeyError
    with pytest.raises(UnknownComponentError, match="did you mean 'lbfgs'"):
        lensframe_registry.get("lbgfs", "fitter")


# -- broken plugins --------------------------------------------------------------------------------
BROKEN = {"broken_pkg/__init__.py": "",
          "broken_pkg/plugin.py": "import lensframe_no_such_dependency_xyz\n"}


def test_plugin_failing_on_import_is_recorded_and_others_load(plugin_distribution, capsys):
    plugin_distribution("lensframe-broken", {"broken": "broken_pkg.plugin"}, BROKEN)
    plugin_distribution("lensframe-fine", {"fine": "fine_pkg.plugin"},
                        {"fine_pkg/__init__.py": "",
                         "fine_pkg/plugin.py": profile_plugin("FINE_PROFILE")})
    registry = get_registry()
    broken = record_of(registry, "broken")
    assert broken.status == "error" and broken.distribution == "lensframe-broken"
    assert len(broken.errors) == 1
    assert "import of 'broken_pkg.plugin' failed: ModuleNotFoundError" in broken.errors[0]
    assert "lensframe_no_such_dependency_xyz" in broken.errors[0]
    # everything else still loaded: the other third-party plugin and the standard ones
    assert record_of(registry, "fine").status == "ok"
    assert registry.get("fine_profile", "profile").distribution == "lensframe-fine"
    for name in STANDARD:
        registry.get(name, "likelihood" if name == "imaging" else
                     "solver" if name == "wls" else "fitter" if name == "lbfgs" else "profile")
    # a failed lookup points at the broken plugin
    with pytest.raises(UnknownComponentError, match="plugins that failed to load: broken"):
        registry.get("BROKEN_PROFILE", "profile")

    rows = {p["name"]: p for p in cli_json(capsys, "plugins", "--json")}
    assert rows["broken"]["status"] == "error"
    assert rows["broken"]["distribution"] == "lensframe-broken"
    assert rows["broken"]["version"] == "0.0.1"
    assert "lensframe_no_such_dependency_xyz" in rows["broken"]["errors"][0]
    assert rows["fine"]["status"] == "ok" and rows["fine"]["components"] == ["FINE_PROFILE"]
    assert all(rows[p]["status"] == "ok" for p in ("strong", "linear", "optim"))

    # the human-readable listing still works and warns on stderr
    assert cli_main(["list"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "1 plugin(s) failed to load: broken" in err


def test_strict_mode_raises_naming_the_plugin(plugin_distribution, monkeypatch, capsys):
    plugin_distribution("lensframe-broken", {"broken": "broken_pkg.plugin"}, BROKEN)
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(PluginLoadError) as info:
        get_registry()
    message = str(info.value)
    assert "plugin 'broken' (lensframe-broken 0.0.1)" in message
    assert "lensframe_no_such_dependency_xyz" in message
    assert STRICT_ENV in message
    # the CLI turns it into an error message and a non-zero exit status, not a traceback
    capsys.readouterr()
    assert cli_main(["list", "--json"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "plugin 'broken'" in err and f"unset {STRICT_ENV}" in err
    # and without strict mode the very same installation loads, reporting the problem
    monkeypatch.setenv(STRICT_ENV, "0")
    assert record_of(get_registry(), "broken").status == "error"


def test_hook_raising_is_isolated(register_plugin, lensframe_registry):
    plugin = module("raising_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registry):
            registry.add("HALF_DONE", kind="mass", ref="lensframe_strong.isothermal:SIS")
            raise RuntimeError("boom in the profile hook")

        @hookimpl
        def lensframe_register_fitters(registry):
            registry.add("fine_fitter", kind="fitter", ref="lensframe_optim.lbfgs:LBFGS")
    """)
    record = register_plugin(plugin, "raising")
    assert record.status == "error"
    assert record.errors == ["hook lensframe_register_profiles raised RuntimeError: "
                             "boom in the profile hook"]
    # the failing hook's registrations are dropped whole; the plugin's other hook still counts
    with pytest.raises(UnknownComponentError):
        lensframe_registry.get("HALF_DONE", "profile")
    assert record.components == ["fine_fitter"]
    assert lensframe_registry.get("FINE_FITTER", "fitter").distribution == "<test>"
    assert lensframe_registry.get("SIE", "profile").distribution == "lensframe"


def test_strict_mode_raises_for_a_raising_hook(monkeypatch):
    from lensframe.registry import Registry

    monkeypatch.setenv(STRICT_ENV, "yes")
    registry = Registry()
    assert registry.strict
    plugin = module("raising_plugin2", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_solvers(registry):
            raise ValueError("bad solver table")
    """)
    with pytest.raises(PluginLoadError, match="plugin 'raiser'.*bad solver table"):
        registry.add_plugin(plugin, "raiser")


def test_misspelt_hook_is_reported_with_a_suggestion(register_plugin, lensframe_registry):
    plugin = module("misspelt_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profile(registry):   # missing the final 's'
            registry.add("MISSPELT", kind="mass", ref="lensframe_strong.isothermal:SIS")
    """)
    record = register_plugin(plugin, "misspelt")
    assert record.status == "error"
    assert len(record.errors) == 1
    assert "unknown hook(s) 'lensframe_register_profile'" in record.errors[0]
    assert "did you mean 'lensframe_register_profiles'" in record.errors[0]
    assert record.components == []
    with pytest.raises(UnknownComponentError, match="failed to load: misspelt"):
        lensframe_registry.get("MISSPELT", "profile")


def test_hook_with_wrong_signature_is_reported(register_plugin):
    plugin = module("badsig_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registrar):   # the hook's argument is 'registry'
            pass
    """)
    record = register_plugin(plugin, "badsig")
    assert record.status == "error"
    assert "could not be registered" in record.errors[0] and "registrar" in record.errors[0]


def test_wrong_kind_for_the_hook_is_reported(register_plugin, lensframe_registry):
    plugin = module("wrongkind_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registry):
            registry.add("SNEAKY_FITTER", kind="fitter", ref="lensframe_optim.lbfgs:LBFGS")
    """)
    record = register_plugin(plugin, "wrongkind")
    assert record.status == "error"
    message = record.errors[0]
    assert "'SNEAKY_FITTER' with kind 'fitter'" in message
    assert "['light', 'mass', 'microlens']" in message
    with pytest.raises(UnknownComponentError):
        lensframe_registry.get("SNEAKY_FITTER", "fitter")


def test_unknown_kind_and_bad_reference_are_reported(register_plugin):
    record = register_plugin(module("badref_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_likelihoods(registry):
            registry.add("noref", kind="likelihood", ref="module_without_colon")
    """), "badref")
    assert "must look like 'package.module:Object'" in record.errors[0]
    record = register_plugin(module("badkind_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registry):
            registry.add("ODD", kind="mas", ref="x:y")
    """), "badkind")
    assert "kind 'mas'" in record.errors[0]


def test_missing_requirement_is_a_status_and_a_clear_load_error(register_plugin,
                                                                  lensframe_registry):
    register_plugin(module("needs_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_fitters(registry):
            registry.add("needy", kind="fitter", ref="needy_pkg.fit:Fit",
                         requires=("lensframe_absent_pkg_xyz",))
    """), "needs")
    spec = lensframe_registry.get("needy", "fitter")
    assert lensframe_registry.status(spec) == "missing lensframe_absent_pkg_xyz"
    with pytest.raises(LensframeError, match="pip install lensframe_absent_pkg_xyz"):
        spec.load()


def test_broken_reference_fails_on_load_naming_the_provider(register_plugin, lensframe_registry):
    register_plugin(module("lazy_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registry):
            registry.add("LAZY", kind="mass", ref="lensframe_strong.isothermal:NoSuchClass")
    """), "lazy", distribution="lazy-dist", version="1.2")
    spec = lensframe_registry.get("lazy", "profile")  # registration itself imports nothing
    with pytest.raises(LensframeError) as info:
        spec.load()
    message = str(info.value)
    assert "lazy-dist 1.2" in message and "NoSuchClass" in message and "AttributeError" in message


# -- conflicts -------------------------------------------------------------------------------------
def _two_providers(plugin_distribution, name="DUPLICATE_PROFILE"):
    plugin_distribution("lensframe-alpha", {"alpha": "alpha_pkg.plugin"},
                        {"alpha_pkg/__init__.py": "", "alpha_pkg/plugin.py": profile_plugin(name)},
                        version="1.0")
    plugin_distribution("lensframe-beta", {"beta": "beta_pkg.plugin"},
                        {"beta_pkg/__init__.py": "", "beta_pkg/plugin.py": profile_plugin(name)},
                        version="2.0")


def test_same_name_from_two_plugins_is_a_conflict(plugin_distribution, capsys):
    _two_providers(plugin_distribution)
    registry = get_registry()
    with pytest.raises(DuplicateComponentError) as info:
        registry.get("duplicate_profile", "profile")
    message = str(info.value)
    assert "lensframe-alpha 1.0" in message and "lensframe-beta 2.0" in message
    assert "entry point 'alpha'" in message and "entry point 'beta'" in message
    # the second provider carries the error; the first one loaded cleanly
    assert record_of(registry, "alpha").status == "ok"
    beta = record_of(registry, "beta")
    assert beta.status == "error" and "registered twice" in beta.errors[0]
    assert "replace=True" in beta.errors[0]

    rows = [r for r in cli_json(capsys, "list", "--json") if r["name"] == "DUPLICATE_PROFILE"]
    assert len(rows) == 1 and rows[0]["status"] == "conflict"
    assert [r["status"] for r in cli_json(capsys, "list", "--json") if r["name"] == "SIE"] == ["ok"]


def test_conflict_in_strict_mode_raises(plugin_distribution, monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    _two_providers(plugin_distribution)
    with pytest.raises(PluginLoadError, match="plugin 'beta'.*registered twice"):
        get_registry()


def test_profiles_of_different_kinds_share_one_namespace(register_plugin, lensframe_registry):
    record = register_plugin(module("light_sie_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registry):
            registry.add("sie", kind="light", ref="lensframe_strong.sersic:SersicEllipse")
    """), "light-sie", distribution="shadow-dist")
    assert record.status == "error"
    with pytest.raises(DuplicateComponentError, match="lensframe 0.1.0.*shadow-dist"):
        lensframe_registry.get("SIE", "profile")
    # a likelihood may share a name with a profile: different namespace, no conflict
    other = register_plugin(module("same_name_lk_plugin", """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_likelihoods(registry):
            registry.add("SIS", kind="likelihood", ref="lensframe_strong.imaging:ImagingLikelihood")
    """), "same-name-lk")
    assert other.status == "ok"
    assert lensframe_registry.get("sis", "likelihood").plugin == "same-name-lk"
    assert lensframe_registry.get("sis", "profile").plugin == "strong"


def test_replace_overrides_without_error(register_plugin, lensframe_registry):
    record = register_plugin(module("override_plugin", profile_plugin("SIE", replace=True)),
                             "override", distribution="override-dist", version="3.0")
    assert record.status == "ok" and record.components == ["SIE"]
    spec = lensframe_registry.get("SIE", "profile")
    assert (spec.distribution, spec.version, spec.summary) == ("override-dist", "3.0",
                                                               "test profile")
    assert lensframe_registry.status(spec) == "ok"
    assert [s.name for s in lensframe_registry.components("mass")].count("SIE") == 1


def test_without_replace_an_in_process_plugin_conflicts_with_a_builtin(register_plugin,
                                                                      lensframe_registry):
    record = register_plugin(module("clash_plugin", profile_plugin("sie")), "clash",
                             distribution="clash-dist")
    assert record.status == "error"
    with pytest.raises(DuplicateComponentError, match="lensframe 0.1.0 .*clash-dist"):
        lensframe_registry.get("SIE", "profile")


def test_replace_through_an_entry_point_loaded_after_the_original(plugin_distribution):
    # entry points load in name order: 'zz-override' comes after the built-in 'strong'
    plugin_distribution("lensframe-override", {"zz-override": "override_pkg.plugin"},
                        {"override_pkg/__init__.py": "",
                         "override_pkg/plugin.py": profile_plugin("SIS", replace=True)})
    registry = get_registry()
    assert registry.errors() == []
    assert registry.get("SIS", "profile").distribution == "lensframe-override"


def test_replace_does_not_depend_on_entry_point_order(plugin_distribution):
    plugin_distribution("lensframe-override", {"aa-override": "override_pkg2.plugin"},
                        {"override_pkg2/__init__.py": "",
                         "override_pkg2/plugin.py": profile_plugin("SIS", replace=True)})
    registry = get_registry()
    assert registry.get("SIS", "profile").distribution == "lensframe-override"
    assert registry.errors() == []


def test_two_replacements_of_one_name_are_a_conflict(register_plugin, lensframe_registry):
    first = register_plugin(module("override_a", profile_plugin("SIE", replace=True)), "a",
                            distribution="dist-a")
    second = register_plugin(module("override_b", profile_plugin("SIE", replace=True)), "b",
                             distribution="dist-b")
    assert first.status == "ok" and second.status == "error"
    with pytest.raises(DuplicateComponentError, match="dist-a.*dist-b"):
        lensframe_registry.get("SIE", "profile")


def test_hook_without_the_hookimpl_marker_is_reported_not_called(register_plugin,
                                                               lensframe_registry):
    unmarked = module("unmarked_plugin", PROFILE_PLUGIN.replace("@hookimpl", "").format(
        name="UNMARKED", replace=False))
    record = register_plugin(unmarked, "unmarked")
    assert record.status == "error"
    assert "without @lensframe.hookimpl" in record.errors[0]
    with pytest.raises(UnknownComponentError):
        lensframe_registry.get("UNMARKED", "profile")


# -- cost of discovery -----------------------------------------------------------------------------
def test_listing_imports_no_jax():
    code = ("import lensframe; from lensframe.registry import get_registry; "
            "specs = get_registry().components(); import sys; "
            "assert len(specs) >= 7, specs; "
            "heavy = [m for m in sys.modules if m == 'jax' or m.startswith('jax.')]; "
            "assert not heavy, heavy; print('no jax')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "no jax"


def test_hookimpl_marker_is_the_projects():
    # plugins import it from the top-level package, which must stay light
    from lensframe.hooks import hookimpl as from_hooks

    assert hookimpl is from_hooks

    @hookimpl
    def lensframe_register_profiles(registry):
        pass

    assert hasattr(lensframe_register_profiles, "lensframe_impl")
