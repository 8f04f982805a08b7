"""TOML configs: the example loads; every mistake names the key (and the line) before compiling."""

import shutil
from pathlib import Path

import pytest

from lensframe import config
from lensframe.errors import ConfigError, DataError, ParameterError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sie_mock.toml"


def test_example_config_loads():
    run = config.load(EXAMPLE)
    assert [s.fitter for s in run.stages] == ["lbfgs"]
    assert run.problem.free_names[0] == "lens.theta_E"
    assert dict(run.problem.layout.linked) == {"lens_light.center_x": "lens.center_x",
                                              "lens_light.center_y": "lens.center_y"}
    assert run.truth["lens.theta_E"] > 0
    assert run.problem.data["image"].shape == (64, 64)


def edited(tmp_path, old, new):
    """A copy of the example (with its data folder) with one line edited."""
    shutil.copytree(EXAMPLE.parent / "sie_mock", tmp_path / "sie_mock")
    text = EXAMPLE.read_text()
    assert old in text, old
    path = tmp_path / "case.toml"
    path.write_text(text.replace(old, new, 1))
    return path, text.replace(old, new, 1).splitlines()


def line_of(lines, fragment):
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


@pytest.mark.parametrize("old,new,error,match,fragment", [
    ('params.theta_E = { prior = "uniform", low = 0.5, high = 2.0 }',
     'params.theta_E = { prior = "uniform", low = 2.0, high = 0.5 }', ParameterError,
     r"components.lens.params.theta_E: prior bounds are reversed", "params.theta_E"),
    ('[output]', '[outptu]', ConfigError, r"outptu: unknown key \(did you mean 'output'\?\)",
     "[outptu]"),
    ('supersampling = 2', 'supersampling = 2\nsupersamplnig = 3', TypeError,
     r"likelihood 'imaging' got unknown option\(s\) 'supersamplnig'", None),
    ('fitter = "lbfgs"', 'fitter = "lbfsg"', ConfigError,
     r"fit\[0\].fitter: unknown fitter 'lbfsg' \(did you mean 'lbfgs'", 'fitter = "lbfsg"'),
    ('n_starts = 8', 'n_starts = -8', ValueError, r"fit\[0\]: fitter 'lbfgs'.*n_starts", None),
    ('n_starts = 8', 'nstarts = 8', TypeError, r"did you mean 'n_starts'", None),
    ('image = "sie_mock/sie_mock.fits[IMAGE]"', 'image = "sie_mock/missing.fits"', DataError,
     r"data.image: file not found", None),
    ('image = "sie_mock/sie_mock.fits[IMAGE]"', 'image = "sie_mock/sie_mock.fits[NOPE]"',
     DataError, r"data.image: .* has no extension 'NOPE'", None),
    ('psf = "sie_mock/sie_mock.fits[PSF]"', 'psf = "sie_mock/sie_mock.fits[IMAGE]"', DataError,
     r"data.psf: kernel \(64, 64\)|data.psf: the kernel must be 2D with odd sides", None),
    ('truth = "sie_mock/truth.json"', 'truth = "sie_mock/nothing.json"', ConfigError,
     r"output.truth: file not found", None),
])
def test_mistakes_name_the_key(tmp_path, old, new, error, match, fragment):
    path, lines = edited(tmp_path, old, new)
    with pytest.raises(error, match=match) as info:
        config.load(path)
    assert str(path) in str(info.value)
    if fragment is not None:
        assert f"(line {line_of(lines, fragment)})" in str(info.value)


def test_toml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[data]\nimage = \n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML.*line 2"):
        config.load(path)


def test_missing_sections(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("seed = 1\n")
    with pytest.raises(ConfigError, match=r"data: missing section \[data\]"):
        config.load(path)
