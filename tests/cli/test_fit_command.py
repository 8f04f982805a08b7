"""`lensframe fit` on the shipped example: the end-to-end proof of the first vertical slice."""

import json
from pathlib import Path

import pytest

from lensframe.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sie_mock.toml"


def test_example_fit_recovers_the_einstein_radius(tmp_path, capsys):
    out = tmp_path / "fit"
    assert main(["fit", str(EXAMPLE), "--output", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "lens.theta_E" in printed and "best fit" in printed
    summary = json.loads((out / "summary.json").read_text())
    truth = json.loads((EXAMPLE.parent / "sie_mock" / "truth.json").read_text())
    fitted = summary["best_fit"]["lens.theta_E"]
    assert abs(fitted - truth["lens.theta_E"]) / truth["lens.theta_E"] < 0.01
    assert abs(summary["best_fit"]["lens.center_x"] - truth["lens.center_x"]) < 0.02
    assert summary["truth"] == truth
    # reduced chi-square of a correct model on this mock is close to one
    assert 0.9 < summary["chi2"] / summary["dof"] < 1.1
    assert summary["provenance"]["fitter"] == "lbfgs"
    assert summary["diagnostics"]["converged"] is True
    from lensframe.result import FitResult

    loaded = FitResult.load(out)   # result.fits restores the same fit
    assert loaded.best_fit == summary["best_fit"] and loaded.fitter == "lbfgs"
    assert loaded.log_likelihood is not None and loaded.max_likelihood_theta is not None
    png = (out / "model.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


@pytest.mark.parametrize("argv,match", [
    (["--fitter", "lbfgs", "--option", "bogus=1"], "unknown option(s) 'bogus'"),
    (["--option", "n_starts=2"], "--option needs --fitter"),
    (["--fitter", "lbfgs", "--option", "n_starts"], "expected KEY=VALUE"),
    (["--fitter", "nope"], "unknown fitter 'nope'"),
])
def test_command_line_fitter_override_is_validated_before_fitting(tmp_path, capsys, argv, match):
    assert main(["fit", str(EXAMPLE), "--output", str(tmp_path), *argv]) == 2
    assert match in capsys.readouterr().err.replace("\n", " ")
    assert not (tmp_path / "summary.json").exists()


def test_missing_config_file(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
