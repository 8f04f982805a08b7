"""`lensframe simulate` on the shipped example: the noiseless mock is what the fit machinery calls
the model at the truth (ln L of it there is 0, the linear re-solve returns the true amplitudes),
and is lenstronomy's image of the same lens (computed here, with the example's own generator
settings); the noise has unit normalised variance and follows the seed; parameter precedence; bad
input exits with status 2 and a message, writing nothing."""

import importlib.util
import json
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy.io import fits  # noqa: E402
from lensframe import config as config_mod  # noqa: E402
from lensframe.cli.main import main  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sie_mock.toml"
MOCK_DIR = EXAMPLE.parent / "sie_mock"
TRUTH = json.loads((MOCK_DIR / "truth.json").read_text())


def read(path):
    with fits.open(path) as hdus:
        params = {str(n): (float(v), str(s)) for n, v, s in hdus["PARAMS"].data}
        return ({ext: np.array(hdus[ext].data) for ext in ("IMAGE", "NOISE", "PSF")},
                dict(hdus["IMAGE"].header), params)


@pytest.fixture(scope="module")
def noiseless(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "clean.fits"
    assert main(["simulate", str(EXAMPLE), "--output", str(out)]) == 0
    return out


def lenstronomy_image(psf):
    """The example's lens imaged by lenstronomy without noise, with the settings of
    examples/sie_mock/make_mock.py (imported, not copied)."""
    spec = importlib.util.spec_from_file_location("make_mock", MOCK_DIR / "make_mock.py")
    mm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mm)
    origin = -0.5 * mm.PIXEL_SCALE * (mm.N_PIX - 1)
    data = mm.ImageData(image_data=np.zeros((mm.N_PIX, mm.N_PIX)), ra_at_xy_0=origin,
                        dec_at_xy_0=origin, transform_pix2angle=np.eye(2) * mm.PIXEL_SCALE)
    model = mm.ImageModel(data, mm.PSF(psf_type="PIXEL", kernel_point_source=psf),
                          lens_model_class=mm.LensModel(["SIE", "SHEAR"]),
                          source_model_class=mm.LightModel(["SERSIC_ELLIPSE"]),
                          lens_light_model_class=mm.LightModel(["SERSIC_ELLIPSE"]),
                          kwargs_numerics={"supersampling_factor": mm.SUPERSAMPLING,
                                           "supersampling_convolution": False})
    t = mm.TRUTH
    return model.image([t["lens"], dict(t["shear"], ra_0=0.0, dec_0=0.0)], [t["source"]],
                       [t["lens_light"]])


def test_noiseless_mock_is_the_model_at_the_truth(noiseless):
    images, header, params = read(noiseless)
    example = {ext: np.asarray(fits.getdata(MOCK_DIR / "sie_mock.fits", ext))
               for ext in ("IMAGE", "NOISE", "PSF")}
    assert images["IMAGE"].shape == (64, 64)
    np.testing.assert_array_equal(images["NOISE"], example["NOISE"])
    np.testing.assert_allclose(images["PSF"], example["PSF"] / example["PSF"].sum(), rtol=1e-15)
    assert header["PIXSCALE"] == 0.08 and header["NOISY"] is False and "SEED" not in header
    assert header["XORIGIN"] == pytest.approx(-2.52)
    assert {k: v for k, (v, _) in params.items() if k in TRUTH} == TRUTH
    assert params["shear.ra_0"] == (0.0, "fixed")

    # the fit's problem, with the mock as its data: at the truth the model reproduces it
    run = config_mod.load(EXAMPLE)
    raw = dict(run.raw["data"], image=str(noiseless) + "[IMAGE]")
    problem = run.problem.with_data(raw, base_dir=EXAMPLE.parent)
    theta = jnp.array([TRUTH[k] for k in problem.free_names])
    log_l = float(jax.jit(problem.log_likelihood)(theta, problem.args))
    # round-off only, through the linear re-solve (whose 1e-12 ridge leaves the amplitudes
    # ~1e-12 relative off): measured ln L = −5e-21
    assert -1e-15 < log_l <= 0.0
    solved = problem.named(theta, problem.args)
    for key in ("lens_light.amp", "source.amp"):
        assert solved[key] == pytest.approx(TRUTH[key], rel=1e-10)

    # and it is lenstronomy's image of the same lens (lensframe's SIE is exactly singular,
    # lenstronomy's has a tiny core: measured max difference 1.4e-10 of the peak)
    ref = lenstronomy_image(example["PSF"])
    assert np.max(np.abs(images["IMAGE"] - ref)) < 1e-8 * np.max(ref)
    # ... so the example's data minus the mock is the example's noise: unit normalised variance
    residual = (example["IMAGE"] - images["IMAGE"]) / example["NOISE"]
    assert abs(np.mean(residual**2) - 1.0) < 0.1


def test_noise_has_unit_normalised_variance_and_follows_the_seed(tmp_path, noiseless):
    clean, _, _ = read(noiseless)
    paths = {name: tmp_path / f"{name}.fits" for name in ("a", "b", "c")}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        assert main(["simulate", str(EXAMPLE), "--output", str(paths[name]), "--noise",
                     "--seed", str(seed)]) == 0
    noisy, header, _ = read(paths["a"])
    assert header["NOISY"] is True and header["SEED"] == 7
    z = (noisy["IMAGE"] - clean["IMAGE"]) / clean["NOISE"]
    n = z.size
    # mean 0 ± 1/√n, variance 1 ± √(2/n) = 0.022: 4.5 standard errors either way
    assert abs(z.mean()) < 4.5 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 4.5 * np.sqrt(2.0 / n)
    np.testing.assert_array_equal(read(paths["b"])[0]["IMAGE"], noisy["IMAGE"])
    assert not np.array_equal(read(paths["c"])[0]["IMAGE"], noisy["IMAGE"])
    # the documented generator: numpy's default_rng(seed), standard normal times σ
    expected = clean["IMAGE"] + clean["NOISE"] * np.random.default_rng(7).standard_normal((64, 64))
    np.testing.assert_allclose(noisy["IMAGE"], expected, rtol=1e-15, atol=0)


def write_config(tmp_path, truth_line: str | None, extra: str = "") -> Path:
    """The example config with absolute data paths and another [output] truth line."""
    text = EXAMPLE.read_text().replace('"sie_mock/', f'"{MOCK_DIR}/')
    lines = [ln for ln in text.splitlines() if not ln.startswith("truth")]
    if truth_line is not None:
        lines.append(truth_line)
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def test_precedence_truth_then_config_then_prior_median(tmp_path, capsys):
    truth = ('truth = { "lens_light.amp" = 8.0, "source.amp" = 12.0, "lens.theta_E" = 1.1, '
             '"shear.ra_0" = 0.01, "lens_light.center_y" = 0.05 }')
    out = tmp_path / "mock.fits"
    assert main(["simulate", str(write_config(tmp_path, truth)), "--output", str(out)]) == 0
    _, _, params = read(out)
    assert params["lens.theta_E"] == (1.1, "truth")
    assert params["lens.e1"] == (0.0, "prior median")  # uniform on [-0.3, 0.3]
    assert params["lens.center_x"] == (0.0, "prior median")  # normal, mu = 0
    assert params["lens_light.R_sersic"][0] == pytest.approx(np.sqrt(0.2 * 3.0))  # loguniform
    assert params["lens_light.n_sersic"] == (3.5, "prior median")
    assert params["lens_light.center_x"] == (0.0, "linked (lens.center_x)")
    assert params["shear.dec_0"] == (0.0, "fixed")
    # truth beats a fixed value and a link, and says so
    assert params["shear.ra_0"] == (0.01, "truth")
    assert params["lens_light.center_y"] == (0.05, "truth")
    printed = " ".join(capsys.readouterr().out.split())  # undo rich's line wrapping
    assert "shear.ra_0: truth 0.01 replaces the config's fixed value 0" in printed
    assert "lens_light.center_y: truth 0.05 replaces the config's linked (lens.center_y)" in printed


@pytest.mark.parametrize("truth_line,argv,match", [
    (None, [], "output.truth: no value for the linear parameter(s) lens_light.amp, source.amp"),
    ('truth = { "lens_light.amp" = 8.0, "source.amp" = 12.0, "lens.theta_E" = -1.0 }', [],
     "output.truth: lens.theta_E = -1 is outside the allowed range [0, inf]"),
    ('truth = { "lens.theta_e" = 1.0 }', [], "output.truth: parameter lens.theta_e: unknown key"),
    (f'truth = "{MOCK_DIR}/truth.json"', ["--output-is-not-fits"], "expected a .fits file name"),
])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, truth_line, argv, match):
    config = write_config(tmp_path, truth_line)
    out = tmp_path / ("mock.txt" if argv else "mock.fits")
    assert main(["simulate", str(config), "--output", str(out)]) == 2
    assert match in " ".join(capsys.readouterr().err.split())
    assert not out.exists()


def test_missing_or_broken_config(tmp_path, capsys):
    out = tmp_path / "mock.fits"
    assert main(["simulate", str(tmp_path / "nope.toml"), "--output", str(out)]) == 2
    assert "config file not found" in capsys.readouterr().err
    broken = write_config(tmp_path, None, extra="[components.extra]\nprofile = \"NOPE\"\n")
    assert main(["simulate", str(broken), "--output", str(out)]) == 2
    assert "NOPE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # --output is required (argparse: status 2)
        main(["simulate", str(EXAMPLE)])
    assert exc.value.code == 2
    assert not out.exists()
