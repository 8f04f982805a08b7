"""`lensframe fit` with a chain of fitters, the --fitter override, figures and Ctrl-C, on a tiny
imaging problem written to disk as a user would (FITS data + TOML config)."""

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from lensframe.cli.main import main
from lensframe.result import FitResult

CONFIG = """
seed = 3

[data]
image = "mock.fits[IMAGE]"
noise = "mock.fits[NOISE]"
pixel_scale = 0.1

[likelihood]
name = "imaging"
supersampling = 1

[components.lens]
profile = "SIS"
params.theta_E = {{ prior = "uniform", low = 0.3, high = 1.0 }}

[components.source]
profile = "SERSIC_ELLIPSE"
plane = "source"
params.amp = "linear"
params.n_sersic = 1.0
params.e1 = 0.0
params.e2 = 0.0
params.R_sersic = {{ prior = "loguniform", low = 0.05, high = 0.5 }}
params.center_x = {{ prior = "uniform", low = -0.3, high = 0.3 }}
params.center_y = {{ prior = "uniform", low = -0.3, high = 0.3 }}

{fit}

[output]
dir = "out"
truth = "truth.json"
"""

def chain(last):
    """pso → lbfgs → ``last`` with small options (the problem is tiny and well constrained)."""
    tail = {"nuts": "n_chains = 2\nn_warmup = 60\nn_samples = 60\nchunk = 30",
            "emcee": "n_walkers = 12\nn_steps = 100\nburn = 40"}[last]
    return f"""
[[fit]]
fitter = "pso"
n_particles = 16
n_iterations = 20
chunk = 10

[[fit]]
fitter = "lbfgs"
n_starts = 1
max_steps = 60

[[fit]]
fitter = "{last}"
{tail}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_spec):
    """A folder with mock.fits, truth.json and a writer of config files."""
    folder = tmp_path_factory.mktemp("chain")
    _, data, truth = tiny_spec(seed=2, n=16)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data["image"], name="IMAGE"),
                  fits.ImageHDU(data["noise"], name="NOISE")]).writeto(folder / "mock.fits")
    (folder / "truth.json").write_text(json.dumps(
        {k: v for k, v in truth.items() if k != "source.amp"}))

    def write(name, fit):
        path = folder / name
        path.write_text(CONFIG.format(fit=fit))
        return path
    return folder, write, truth


# compiling NUTS' warm-up for the imaging likelihood takes minutes on a busy 2-core machine: the
# chain ending in emcee (whose only program is a batched log-density) runs by default
@pytest.mark.parametrize("last,n_chains,n_draws", [
    ("emcee", 12, 60),
    pytest.param("nuts", 2, 60, marks=pytest.mark.slow),
])
def test_chain_saves_every_stage_and_writes_figures(project, capsys, last, n_chains, n_draws):
    folder, write, truth = project
    config = write(f"chain-{last}.toml", chain(last))
    out = folder / f"out-chain-{last}"
    assert main(["fit", str(config), "--output", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert f"pso → lbfgs → {last}" in printed and "stage 3/3" in printed
    stages = [stage.name for stage in sorted(out.glob("stage-*"))]
    assert stages == ["stage-1-pso", "stage-2-lbfgs", f"stage-3-{last}"]
    for stage in stages:
        assert FitResult.load(out / stage).fitter == stage.split("-")[-1]
    main_result = FitResult.load(out)
    assert main_result.fitter == last
    assert main_result.samples.shape == (n_chains * n_draws, 4)
    assert main_result.chains.shape == (n_chains, n_draws, 4)
    assert main_result.max_likelihood_theta is not None and main_result.log_likelihood < 0
    # the chain got where the truth is (a tiny, well-constrained problem)
    i = main_result.free_names.index("lens.theta_E")
    assert abs(main_result.best_theta[i] - truth["lens.theta_E"]) < 0.03
    for figure in ("model.png", "corner.png", "trace.png"):
        png = (out / figure).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, figure
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["lens.theta_E"]["p16"] < summary["summary"]["lens.theta_E"]["p84"]
    assert summary["chi2"] > 0 and summary["dof"] == 16 * 16 - 4 - 1


def test_fitter_override_runs_a_single_fitter_with_options(project):
    folder, write, _ = project
    config = write("override.toml", chain("emcee"))
    out = folder / "out-override"
    assert main(["fit", str(config), "--output", str(out), "--quiet", "--no-plots",
                 "--fitter", "lbfgs", "--option", "n_starts=2", "--option", "max_steps=30"]) == 0
    result = FitResult.load(out)
    assert result.fitter == "lbfgs"
    assert result.provenance["options"]["n_starts"] == 2
    assert result.provenance["options"]["max_steps"] == 30
    assert not list(out.glob("stage-*")) and not (out / "model.png").exists()


def _interrupting(monkeypatch, at_call, how):
    """Make Fitter.run's ``at_call``-th call either raise KeyboardInterrupt (``"raise"``), receive
    SIGTERM (``"terminate"``) or return a result marked interrupted (``"mark"``), as a fitter does
    on Ctrl-C."""
    from lensframe import dispatch

    original = dispatch.Fitter.run
    calls = []

    def run(self, name, **kw):
        calls.append(name)
        if len(calls) == at_call and how == "raise":
            raise KeyboardInterrupt
        if len(calls) == at_call and how == "terminate":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)                       # the handler interrupts this wait
        result = original(self, name, **kw)
        if len(calls) == at_call:
            result.diagnostics.update(interrupted=True, interrupted_at="step 7 of 20")
        return result
    monkeypatch.setattr(dispatch.Fitter, "run", run)
    return calls


FAST_CHAIN = """
[[fit]]
fitter = "pso"
n_particles = 8
n_iterations = 10

[[fit]]
fitter = "lbfgs"
n_starts = 1
max_steps = 20
"""


def test_ctrl_c_inside_a_fitter_keeps_its_partial_result(project, monkeypatch, capsys):
    folder, write, _ = project
    config = write("interrupt.toml", FAST_CHAIN)
    out = folder / "out-interrupted"
    calls = _interrupting(monkeypatch, at_call=1, how="mark")
    assert main(["fit", str(config), "--output", str(out), "--quiet", "--no-plots"]) == 130
    assert calls == ["pso"]                      # the chain stopped at the interrupted stage
    printed = capsys.readouterr().out.replace("\n", " ")
    assert "interrupted" in printed and "step 7 of 20" in printed and str(out) in printed
    result = FitResult.load(out)
    assert result.fitter == "pso" and result.interrupted
    assert (out / "stage-1-pso" / "result.fits").is_file()


def test_ctrl_c_with_nothing_to_keep_falls_back_to_the_previous_stage(project, monkeypatch,
                                                                      capsys):
    folder, write, _ = project
    config = write("interrupt2.toml", FAST_CHAIN)
    out = folder / "out-interrupted-2"
    _interrupting(monkeypatch, at_call=2, how="raise")
    assert main(["fit", str(config), "--output", str(out), "--quiet", "--no-plots"]) == 130
    assert str(out) in capsys.readouterr().out.replace("\n", "")
    assert FitResult.load(out).fitter == "pso"


def test_sigterm_is_handled_like_ctrl_c_and_the_handler_restored(project, monkeypatch, capsys):
    """A scheduler's SIGTERM during the second stage: the first stage's result is written, exit
    status 130, and the previous SIGTERM handler is back afterwards."""
    folder, write, _ = project
    config = write("terminate.toml", FAST_CHAIN)
    out = folder / "out-terminated"
    before = signal.getsignal(signal.SIGTERM)
    _interrupting(monkeypatch, at_call=2, how="terminate")
    assert main(["fit", str(config), "--output", str(out), "--quiet", "--no-plots"]) == 130
    assert FitResult.load(out).fitter == "pso"
    assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_before_any_stage_writes_nothing(project, monkeypatch, capsys):
    folder, write, _ = project
    config = write("interrupt3.toml", FAST_CHAIN)
    out = folder / "out-interrupted-3"
    _interrupting(monkeypatch, at_call=1, how="raise")
    assert main(["fit", str(config), "--output", str(out), "--quiet"]) == 130
    assert "nothing written" in capsys.readouterr().out
    assert not (out / "summary.json").exists()
