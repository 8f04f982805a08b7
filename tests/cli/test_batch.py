"""``lensframe batch`` end to end through the command line: lenses made by ``lensframe simulate``
(FITS with IMAGE/NOISE/PSF extensions, read through ``{name}`` templates with extensions), fitted on
the default ``LocalCluster``, then the same command again, which fits nothing."""

from __future__ import annotations

import csv
import json

import pytest

from lensframe.cli.main import main

MODEL = """
seed = 0
[likelihood]
name = "imaging"
supersampling = 1
[components.lens]
profile = "SIS"
params.theta_E = { prior = "uniform", low = 0.3, high = 1.0 }
[components.source]
profile = "SERSIC_ELLIPSE"
plane = "source"
params.amp = "linear"
params.n_sersic = 1.0
params.R_sersic = { prior = "loguniform", low = 0.05, high = 0.5 }
params.center_x = { prior = "uniform", low = -0.3, high = 0.3 }
params.center_y = { prior = "uniform", low = -0.3, high = 0.3 }
[[fit]]
fitter = "lbfgs"
n_starts = 3
max_steps = 60
"""

SIMULATE = MODEL + """
[data]
image = @ZEROS@
noise = 0.05
pixel_scale = 0.1
[output]
truth = { "lens.theta_E" = @THETA_E@, "source.amp" = 20.0, "source.R_sersic" = 0.15, \
"source.center_x" = 0.05, "source.center_y" = -0.03 }
"""

BATCH = MODEL + """
[data]
pixel_scale = 0.1
[batch]
folder = "sky"
image = "{name}/cutout.fits[IMAGE]"
noise = "{name}/cutout.fits[NOISE]"
psf = "{name}/cutout.fits[PSF]"
"""


@pytest.fixture
def simulated_catalogue(tmp_path):
    """Three lenses simulated with ``lensframe simulate --noise``; returns {name: θ_E}."""
    zeros = "[" + ", ".join(["[" + ", ".join(["0.0"] * 20) + "]"] * 20) + "]"
    truths = {"a1": 0.5, "b2": 0.65, "c3": 0.8}
    for seed, (name, theta_e) in enumerate(truths.items()):
        config = tmp_path / f"sim_{name}.toml"
        config.write_text(SIMULATE.replace("@ZEROS@", zeros).replace("@THETA_E@", str(theta_e)))
        (tmp_path / "sky" / name).mkdir(parents=True)
        assert main(["simulate", str(config), "--output",
                     str(tmp_path / "sky" / name / "cutout.fits"), "--noise",
                     "--seed", str(seed)]) == 0
    (tmp_path / "batch.toml").write_text(BATCH)
    return truths


def test_batch_command_fits_on_a_local_cluster_and_a_rerun_fits_nothing(
        tmp_path, simulated_catalogue, capsys):
    out = tmp_path / "out"
    args = ["batch", str(tmp_path / "batch.toml"), "--output", str(out), "--workers", "1",
            "--limit", "2", "--retries", "0", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "batch summary" in printed and "lenses/hour" in printed

    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["a1", "b2"]  # --limit 2, in name order
    for row in rows:
        assert row["status"] == "done"
        assert float(row["lens.theta_E"]) == pytest.approx(simulated_catalogue[row["name"]],
                                                           abs=0.02)
        assert 0.5 < float(row["chi2_dof"]) < 1.5
        # the imaging likelihood's own figure of the fit, one per lens
        assert row["figures"] and all(p.endswith(".png") for p in row["figures"].split(";"))
    run = json.loads((out / "run.json").read_text())
    assert (run["done"], run["failed"], run["workers"]) == (2, 0, 1)
    assert run["lenses_per_hour"] > 0 and len(run["first_lens_compile_seconds"]) == 1
    starts = (out / "lenses" / "a1" / "attempts.jsonl").read_text().count('"start"')

    assert main(args) == 0  # everything is done: skipped, nothing refitted
    run = json.loads((out / "run.json").read_text())
    assert (run["done"], run["skipped_already_done"], run["finished_this_run"]) == (2, 2, 0)
    assert (out / "lenses" / "a1" / "attempts.jsonl").read_text().count('"start"') == starts


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('folder = "sky"', 'folder = "nowhere"'), "batch.folder: not a folder"),
    (lambda t: t.replace("n_starts = 3", "n_start = 3"), "n_start"),
    (lambda t: t + "workers = 0\n", "batch.workers"),
])
def test_config_errors_exit_2_naming_the_key(tmp_path, simulated_catalogue, capsys, edit,
                                             message):
    config = tmp_path / "batch.toml"
    config.write_text(edit(config.read_text()))
    assert main(["batch", str(config), "--quiet"]) == 2
    assert message in capsys.readouterr().err.replace("\n", "")


def test_limit_must_be_positive(tmp_path, simulated_catalogue, capsys):
    assert main(["batch", str(tmp_path / "batch.toml"), "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err
