"""`lensframe fit examples/binary_event.toml`: the mock binary-lens event (made by VBMicrolensing)
fitted end to end, and the real events OGLE-2016-BLG-1195 and OGLE-2003-BLG-235 against their
published solutions."""

import json
import math
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from lensframe import hookimpl
from lensframe.cli.main import main
from lensframe.profile import MicrolensProfile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Shvartzvald et al. (2017), Table 1, close solution, in VBMicrolensing's frame (u0 -> -u0 and
# alpha -> alpha + pi from the published values; docs/microlensing.md says how this was checked)
PUBLISHED_OB161195 = {"s": 0.9842, "q": 5.43e-5, "rho": 0.00290, "t0": 7568.7692, "u0": 0.05321,
                      "tE": 9.96, "alpha": -0.9684 + math.pi}


# Bond et al. (2004), ApJ 606, L155: s = 1.120, q = 0.0039, t* = 0.059 d (rho = t*/tE), alpha =
# 223.8 deg; in VBMicrolensing's frame alpha + 180 deg (u0 unchanged), the one of the four sign
# choices with the lowest chi2 by far on these data (docs/microlensing.md)
PUBLISHED_OB03235 = {"s": 1.120, "q": 0.0039, "rho": 0.059 / 61.5, "t0": 2848.06, "u0": 0.133,
                     "tE": 61.5, "alpha": math.radians(223.8 + 180.0 - 360.0)}


class PaczynskiDouble(MicrolensProfile):
    """Point lens, point source, A(u) = (u² + 2)/(u √(u² + 4)) (Paczyński 1986): a test double
    that keeps this CLI test independent of the lens plugin's compile time."""

    def magnification(self, y1, y2):
        u2 = y1**2 + y2**2
        return (u2 + 2.0) / jnp.sqrt(u2 * (u2 + 4.0))


class DoublePlugin:
    @staticmethod
    @hookimpl
    def lensframe_register_profiles(registry):
        registry.add("paczynski_double", kind="microlens", ref=f"{__name__}:PaczynskiDouble")


def write_point_lens_event(folder: Path) -> dict:
    """A small point-lens event made by MulensModel (two data sets) and its config file."""
    import MulensModel

    truth = {"event.t0": 7000.0, "event.u0": 0.2, "event.tE": 15.0}
    model = MulensModel.Model({"t_0": 2457000.0, "u_0": 0.2, "t_E": 15.0})
    rng = np.random.default_rng(1195)
    sets = ""
    for name, n, err, f_s, f_b in (("survey", 90, 0.02, 1.0, 0.1), ("followup", 40, 0.01, 2.0, 0.0)):
        lo, hi = (6960.0, 7040.0) if name == "survey" else (6990.0, 7010.0)
        time = np.sort(rng.uniform(lo, hi, n)) + 2450000.0
        mag = 22.0 - 2.5 * np.log10(f_s * model.get_magnification(time) + f_b)
        mag += rng.normal(scale=err, size=n)
        np.savetxt(folder / f"{name}.dat", np.stack([time, mag, np.full(n, err)], 1))
        sets += f'[data.{name}]\nfile = "{name}.dat"\n\n'
    (folder / "truth.json").write_text(json.dumps(truth))
    (folder / "event.toml").write_text(sets + """
[likelihood]
name = "lightcurve"

[components.lens]
profile = "paczynski_double"

[components.event]
profile = "rectilinear"
params.t0 = { prior = "uniform", low = 6990.0, high = 7010.0 }
params.u0 = { prior = "uniform", low = 0.01, high = 1.0 }
params.tE = { prior = "loguniform", low = 3.0, high = 60.0 }

[[fit]]
fitter = "lbfgs"
n_starts = 3
max_steps = 200

[output]
truth = "truth.json"
""")
    return truth


def test_point_lens_event_through_the_cli(tmp_path, capsys, register_plugin):
    """The fast end-to-end check: files → config → lensframe fit → summary and figures."""
    register_plugin(DoublePlugin(), "paczynski-double")
    truth = write_point_lens_event(tmp_path)
    out = tmp_path / "out"
    assert main(["fit", str(tmp_path / "event.toml"), "--output", str(out), "--quiet"]) == 0
    assert "event.tE" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    best = summary["best_fit"]
    # u0, tE and the blend fluxes are correlated: these data allow ~10% in u0 and tE
    assert abs(best["event.t0"] - truth["event.t0"]) < 0.05
    assert abs(best["event.u0"] - truth["event.u0"]) < 0.03
    assert abs(best["event.tE"] - truth["event.tE"]) / truth["event.tE"] < 0.15
    # the optimum: χ² (MulensModel's, with its own flux fit) no worse than the truth's
    import MulensModel

    data = [MulensModel.MulensData(file_name=str(tmp_path / f"{n}.dat"))
            for n in ("survey", "followup")]

    def chi2(t0, u0, tE):
        model = MulensModel.Model({"t_0": t0 + 2450000.0, "u_0": u0, "t_E": tE})
        return MulensModel.Event(datasets=data, model=model).get_chi2()

    fitted = chi2(best["event.t0"], best["event.u0"], best["event.tE"])
    np.testing.assert_allclose(summary["chi2"], fitted, rtol=1e-8)
    assert fitted <= chi2(truth["event.t0"], truth["event.u0"], truth["event.tE"]) + 1e-6
    assert 0.7 < summary["chi2"] / summary["dof"] < 1.4
    for name in ("light_curve.png", "caustics.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_binary_event_fit_recovers_the_lens(tmp_path, capsys):
    out = tmp_path / "fit"
    assert main(["fit", str(EXAMPLES / "binary_event.toml"), "--output", str(out), "--quiet"]) == 0
    assert "lens.q" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    best, truth = summary["best_fit"], summary["truth"]
    assert abs(best["lens.s"] - truth["lens.s"]) < 0.01            # 1%
    assert abs(math.log(best["lens.q"] / truth["lens.q"])) < 0.05  # 5%
    assert abs(best["event.u0"] - truth["event.u0"]) < 0.005
    assert abs(best["event.tE"] - truth["event.tE"]) / truth["event.tE"] < 0.03
    # a correct model on this mock: reduced χ² near one (140 points)
    assert 0.6 < summary["chi2"] / summary["dof"] < 1.5
    for name in ("light_curve.png", "caustics.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def chi2_vbmicrolensing(problem, p):
    """χ² of parameters ``p`` with VBMicrolensing's magnifications (RelTol = Tol = 1e-6) on the
    problem's data, with each data set's fluxes solved by numpy's weighted least squares."""
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    vbm.RelTol, vbm.Tol = 1e-6, 1e-6
    data = {k: np.asarray(v) for k, v in problem.args["data"].items()}
    params = [math.log(p["s"]), math.log(p["q"]), p["u0"], p["alpha"], math.log(p["rho"]),
              math.log(p["tE"]), p["t0"]]
    magnification = np.asarray(vbm.BinaryLightCurve(params, list(data["time"]))[0])
    total = 0.0
    for k in range(data["membership"].shape[1]):
        sel = data["membership"][:, k] > 0
        a, f, w = magnification[sel], data["flux"][sel], data["weight"][sel]
        design = np.stack([a, np.ones_like(a)], 1) * np.sqrt(w)[:, None]
        x, *_ = np.linalg.lstsq(design, f * np.sqrt(w), rcond=None)
        total += float(np.sum(w * (f - design @ x / np.sqrt(w)) ** 2))
    return total


@pytest.mark.slow
def test_ob161195_fit_is_no_worse_than_the_published_solution(tmp_path):
    out = tmp_path / "ob161195"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # six KMTNet files are sorted on reading
        assert main(["fit", str(EXAMPLES / "ob161195.toml"), "--output", str(out), "--quiet",
                     "--no-plots"]) == 0
        import lensframe

        problem = lensframe.load_config(EXAMPLES / "ob161195.toml").problem
    best = json.loads((out / "summary.json").read_text())["best_fit"]
    ours = {k.split(".", 1)[1]: v for k, v in best.items()}
    published = chi2_vbmicrolensing(problem, PUBLISHED_OB161195)
    no_planet = chi2_vbmicrolensing(problem, {**PUBLISHED_OB161195, "q": 1e-12})
    ours_vbm = chi2_vbmicrolensing(problem, ours)
    # the planet is detected (the published solution beats no planet by ~1000) ...
    assert published < no_planet - 500
    # ... and lensframe's best fit, re-evaluated by VBMicrolensing, is no worse than it
    assert ours_vbm <= published + 1.0


@pytest.mark.slow
def test_ob03235_chi2_of_the_published_solution_matches_vbmicrolensing():
    """OGLE I magnitudes and MOA difference fluxes (IPAC tables): lensframe's χ² of the published
    parameters equals VBMicrolensing's (same flux solving) within 0.05, and the planet is seen."""
    import jax

    import lensframe

    problem = lensframe.load_config(EXAMPLES / "ob03235.toml").problem
    theta = jnp.array([PUBLISHED_OB03235[k.split(".")[1]] for k in problem.free_names])
    ours = -2.0 * float(jax.jit(problem.log_likelihood)(theta, problem.args))
    reference = chi2_vbmicrolensing(problem, PUBLISHED_OB03235)
    assert abs(ours - reference) < 0.05
    assert reference < chi2_vbmicrolensing(problem, {**PUBLISHED_OB03235, "q": 1e-12}) - 300


@pytest.mark.slow
def test_ob03235_fit_is_no_worse_than_the_published_solution(tmp_path):
    out = tmp_path / "ob03235"
    assert main(["fit", str(EXAMPLES / "ob03235.toml"), "--output", str(out), "--quiet"]) == 0
    import lensframe

    problem = lensframe.load_config(EXAMPLES / "ob03235.toml").problem
    best = json.loads((out / "summary.json").read_text())["best_fit"]
    ours = {k.split(".", 1)[1]: v for k, v in best.items()}
    assert chi2_vbmicrolensing(problem, ours) <= chi2_vbmicrolensing(problem, PUBLISHED_OB03235) + 1
    for name in ("light_curve.png", "caustics.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
