"""The on-disk compilation cache across processes: hit in a second process, never at import,
never over the user's own setting, and never fatal when the folder is unusable or corrupt."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

FIT = textwrap.dedent(f"""
    import json, sys, warnings
    sys.path.insert(0, {str(TESTS)!r})
    import jax
    jax.config.update("jax_enable_x64", True)
    from conftest import tiny_imaging_spec
    from lensframe import Fitter
    from lensframe.problem import Problem
    c, d, _ = tiny_imaging_spec()
    p = Problem.build(c, d, likelihood_options={{"supersampling": 1}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = Fitter(p, quiet=True).run("lbfgs", n_starts=1, max_steps=20, chunk=20)
    out = {{k: r.provenance[k] for k in ("cache_hit", "compile_seconds", "persistent_cache",
                                          "programs_compiled", "persistent_cache_hits",
                                          "traces_loaded")}}
    out["theta"] = r.best_theta.tolist()
    out["warnings"] = [str(w.message) for w in caught]
    print(json.dumps(out))
""")


def run_python(code, **env):
    full = dict(os.environ)
    full.pop("JAX_COMPILATION_CACHE_DIR", None)
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_process_hits_the_disk_cache_and_survives_corruption(tmp_path):
    cache = tmp_path / "cache"
    cold = run_python(FIT, LENSFRAME_CACHE_DIR=str(cache))
    assert cold["persistent_cache"] == {"enabled": True, "directory": str(cache),
                                        "managed_by": "lensframe", "reason": ""}
    assert cold["cache_hit"] is False and cold["programs_compiled"] >= 2
    assert any(cache.iterdir()), "nothing was written to the cache"

    warm = run_python(FIT, LENSFRAME_CACHE_DIR=str(cache))
    assert warm["cache_hit"] is True
    assert warm["persistent_cache_hits"] == warm["programs_compiled"]
    # the traced programs came from the store too: the warm process traced nothing
    assert cold["traces_loaded"] == 0
    assert warm["traces_loaded"] == warm["programs_compiled"]
    assert len(list((cache / "lensframe-exports").glob("*.bin"))) == cold["programs_compiled"]
    assert warm["compile_seconds"] < 0.6 * cold["compile_seconds"], (warm, cold)
    assert warm["theta"] == cold["theta"]

    for entry in cache.rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"this is not an executable")
    corrupt = run_python(FIT, LENSFRAME_CACHE_DIR=str(cache))
    assert corrupt["theta"] == cold["theta"]
    assert corrupt["cache_hit"] is False
    assert corrupt["traces_loaded"] == 0


ENABLE = textwrap.dedent("""
    import json, sys, warnings
    import jax
    PRESET
    import lensframe
    assert jax.config.jax_compilation_cache_dir == BEFORE, "changed at import"
    from lensframe import cache
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = cache.enable()
    print(json.dumps({"state": state.as_dict(), "dir": jax.config.jax_compilation_cache_dir,
                      "threshold": jax.config.jax_persistent_cache_min_compile_time_secs,
                      "warnings": [str(w.message) for w in caught]}))
""")


def enable_with(preset="", before=None, **env):
    code = ENABLE.replace("PRESET", preset).replace("BEFORE", repr(before))
    return run_python(code, **env)


def test_enabled_lazily_with_zero_threshold(tmp_path):
    out = enable_with(LENSFRAME_CACHE_DIR=str(tmp_path / "c"))
    assert out["dir"] == str(tmp_path / "c") and out["threshold"] == 0.0
    assert out["state"]["managed_by"] == "lensframe"


def test_users_own_cache_setting_is_left_alone(tmp_path):
    mine = str(tmp_path / "mine")
    out = enable_with(f'jax.config.update("jax_compilation_cache_dir", {mine!r})', before=mine,
                      LENSFRAME_CACHE_DIR=str(tmp_path / "ours"))
    assert out["dir"] == mine and out["state"]["managed_by"] == "user"
    assert out["threshold"] != 0.0  # jax's default, not ours
    assert not (tmp_path / "ours").exists()


def test_no_cache_environment_switch(tmp_path):
    out = enable_with(LENSFRAME_NO_CACHE="1", LENSFRAME_CACHE_DIR=str(tmp_path / "c"))
    assert out["state"]["enabled"] is False and out["dir"] is None
    assert not (tmp_path / "c").exists()


def test_unwritable_cache_directory_warns_and_runs_without(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = enable_with(LENSFRAME_CACHE_DIR=str(blocker / "cache"))
    assert out["state"]["enabled"] is False and out["dir"] is None
    assert any("not usable" in w for w in out["warnings"])


def test_cache_cli_info_and_clear(tmp_path, capsys, monkeypatch):
    from lensframe import cache as cache_mod
    from lensframe.cli.main import main

    monkeypatch.setattr(cache_mod, "_state", None)  # as in a fresh `lensframe cache` process
    cache = tmp_path / "cli-cache"
    (cache / "sub").mkdir(parents=True)
    (cache / "sub" / "entry").write_bytes(b"x" * 100)
    monkeypatch.setenv("LENSFRAME_CACHE_DIR", str(cache))
    assert main(["cache", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["directory"] == str(cache) and info["entries"] == 1 and info["bytes"] == 100
    assert main(["cache", "clear", "--json"]) == 0
    cleared = json.loads(capsys.readouterr().out)
    assert cleared["removed_entries"] == 1 and not cache.exists()
