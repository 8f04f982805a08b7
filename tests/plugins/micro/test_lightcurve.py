"""The lightcurve likelihood against MulensModel's χ² with its own linear flux fit, the flux solve
against numpy's least squares, gradients against finite differences, and the config errors.

The lens here is a point lens written in the test (Paczyński 1986), registered as a test double,
so these tests exercise the likelihood alone; the binary-lens profiles are tested with their
plugin and end to end by tests/cli/test_microlensing_example.py."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from lensframe import hookimpl
from lensframe.errors import ConfigError, DataError
from lensframe.params import ParamSpec
from lensframe.problem import Problem
from lensframe.profile import MicrolensProfile
from lensframe_micro.lightcurve import resolve_path, solve_fluxes

TRUTH = {"t0": 7000.0, "u0": 0.15, "tE": 20.0}


class PaczynskiDouble(MicrolensProfile):
    params = (ParamSpec("rho", default=0.0),)  # ignored: a point source

    def magnification(self, y1, y2, **params):
        u2 = y1**2 + y2**2
        return (u2 + 2.0) / jnp.sqrt(u2 * (u2 + 4.0))


class DoublePlugin:
    @staticmethod
    @hookimpl
    def lensframe_register_profiles(registry):
        registry.add("paczynski_double", kind="microlens",
                     ref=f"{__name__}:PaczynskiDouble", params=PaczynskiDouble.params)


@pytest.fixture
def point_lens(register_plugin):
    register_plugin(DoublePlugin(), "paczynski-double")


def mock_sets(seed=3):
    """Two data sets made with MulensModel (not lensframe): different cadence, noise, blending."""
    import MulensModel

    model = MulensModel.Model({"t_0": TRUTH["t0"], "u_0": TRUTH["u0"], "t_E": TRUTH["tE"]})
    rng = np.random.default_rng(seed)
    sets = {}
    for name, n, f_s, f_b, err in (("A", 150, 1.0, 0.3, 0.01), ("B", 60, 2.5, -0.2, 0.03)):
        time = np.sort(rng.uniform(6940.0, 7060.0, n))
        flux = f_s * model.get_magnification(time) + f_b
        mag = 22.0 - 2.5 * np.log10(flux) + rng.normal(scale=err, size=n)
        sets[name] = {"time": time, "mag": mag, "error": np.full(n, err)}
    return sets


def components(t0=TRUTH["t0"], u0=TRUTH["u0"], tE=TRUTH["tE"]):
    return {"lens": {"profile": "paczynski_double", "params": {}},
            "event": {"profile": "rectilinear", "params": {"t0": t0, "u0": u0, "tE": tE}}}


def chi2_mulensmodel(sets, t0, u0, tE):
    import MulensModel

    data = [MulensModel.MulensData([s["time"] + 2450000.0, s["mag"], s["error"]], phot_fmt="mag")
            for s in sets.values()]
    model = MulensModel.Model({"t_0": t0 + 2450000.0, "u_0": u0, "t_E": tE})
    return MulensModel.Event(datasets=data, model=model).get_chi2()


@pytest.mark.parametrize("shift", [0.0, 0.7])
def test_chi2_matches_mulensmodel_with_solved_fluxes(point_lens, shift):
    sets = mock_sets()
    params = {"t0": TRUTH["t0"] + shift, "u0": TRUTH["u0"] * (1 + shift / 5), "tE": TRUTH["tE"]}
    problem = Problem.build(components(**params), sets, likelihood="lightcurve")
    values = problem.values(jnp.zeros(0), problem.args)
    ll = problem.likelihood.log_likelihood(values, problem.args["data"])
    np.testing.assert_allclose(-2.0 * float(ll), chi2_mulensmodel(sets, **params), rtol=1e-9)
    assert problem.likelihood.degrees_of_freedom(problem.args["data"], 0) == 210 - 4


def test_flux_solution_equals_weighted_least_squares():
    rng = np.random.default_rng(0)
    n, k = 40, 3
    member = rng.integers(0, k, n)
    membership = (member[:, None] == np.arange(k)).astype(float)
    a = 1.0 + rng.exponential(size=n)
    f = 2.0 * a + 0.5 + rng.normal(scale=0.1, size=n)
    w = rng.uniform(0.5, 2.0, n)
    f_s, f_b = solve_fluxes(jnp.asarray(a), jnp.asarray(f), jnp.asarray(w), jnp.asarray(membership))
    for j in range(k):
        sel = member == j
        design = np.stack([a[sel], np.ones(sel.sum())], 1) * np.sqrt(w[sel])[:, None]
        ref, *_ = np.linalg.lstsq(design, f[sel] * np.sqrt(w[sel]), rcond=None)
        np.testing.assert_allclose([f_s[j], f_b[j]], ref, rtol=1e-10)
    # a data set the event never magnifies: blend fixed to 0 instead of a singular solve
    f_s, f_b = solve_fluxes(jnp.ones(5), jnp.full(5, 3.0), jnp.ones(5), jnp.ones((5, 1)))
    np.testing.assert_allclose([f_s[0], f_b[0]], [3.0, 0.0])


def test_gradient_matches_finite_differences_and_fit_recovers_truth(point_lens):
    sets = mock_sets()
    priors = {"t0": {"prior": "uniform", "low": 6990.0, "high": 7010.0},
              "u0": {"prior": "uniform", "low": 0.01, "high": 0.5},
              "tE": {"prior": "uniform", "low": 5.0, "high": 50.0}}
    problem = Problem.build(components(**priors), sets, likelihood="lightcurve")
    f = jax.jit(problem.log_likelihood)
    theta = jnp.array([7000.3, 0.17, 18.0])
    grad = jax.grad(problem.log_likelihood)(theta, problem.args)
    steps = jnp.array([1e-4, 1e-6, 1e-4])
    fd = jnp.stack([(f(theta + h * e, problem.args) - f(theta - h * e, problem.args)) / (2 * h)
                    for h, e in zip(steps, jnp.eye(3))])
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, fd, rtol=1e-5)

    import lensframe

    result = lensframe.Fitter(problem, quiet=True).run("lbfgs", n_starts=2, key=0, max_steps=200)
    best = result.best_fit
    assert abs(best["event.t0"] - TRUTH["t0"]) < 0.1
    assert abs(best["event.u0"] - TRUTH["u0"]) < 0.01
    assert abs(best["event.tE"] - TRUTH["tE"]) / TRUTH["tE"] < 0.05


def test_products_error_rescaling_and_files(point_lens, tmp_path):
    sets = mock_sets()
    for name, s in sets.items():
        rows = np.stack([s["time"] + 2450000.0, s["mag"], s["error"]], 1)
        np.savetxt(tmp_path / f"{name}.dat", rows)
    data = {"A": {"file": "A.dat"}, "B": {"file": "B.dat", "error_scale": 2.0}}
    problem = Problem.build(components(), data, likelihood="lightcurve", base_dir=tmp_path)
    values = problem.values(jnp.zeros(0), problem.args)
    out = problem.likelihood.products(values, problem.args["data"])
    assert problem.likelihood.set_names == ("A", "B")
    assert out["model"].shape == out["residual"].shape == (210,)
    np.testing.assert_allclose(out["source_flux"], [1.0, 2.5], rtol=0.05)
    # doubling B's error bars divides its χ² share by 4
    plain = Problem.build(components(), sets, likelihood="lightcurve")
    chi_plain = np.asarray(plain.likelihood.products(values, plain.args["data"])
                           ["normalized_residual"])
    np.testing.assert_allclose(np.asarray(out["normalized_residual"])[150:],
                               chi_plain[150:] / 2.0, atol=1e-8)  # HJD round trip
    paths = problem.likelihood.figures(values, problem.args["data"], tmp_path / "fig", "test")
    assert paths and all(p.is_file() and p.stat().st_size > 10_000 for p in paths)


def test_config_errors_name_the_key(point_lens, tmp_path):
    sets = mock_sets()
    with pytest.raises(ConfigError, match="data.A: unknown key.*'eror_scale'.*did you mean"):
        Problem.build(components(), {"A": {**sets["A"], "eror_scale": 2}}, likelihood="lightcurve")
    with pytest.raises(ConfigError, match="data.A.error_scale: must be > 0"):
        Problem.build(components(), {"A": {**sets["A"], "error_scale": 0}}, likelihood="lightcurve")
    with pytest.raises(DataError, match="data.A: .*missing.dat"):
        Problem.build(components(), {"A": {"file": "missing.dat"}}, likelihood="lightcurve",
                      base_dir=tmp_path)
    (tmp_path / "nan.dat").write_text("7000.1 18 0.1\n7000.2 nan 0.1\n")
    with pytest.raises(DataError, match="data.A: .*nan.dat, line 2: mag is nan"):
        Problem.build(components(), {"A": {"file": "nan.dat"}}, likelihood="lightcurve",
                      base_dir=tmp_path)
    no_trajectory = {"lens": components()["lens"]}
    with pytest.raises(ConfigError, match="exactly one trajectory"):
        Problem.build(no_trajectory, sets, likelihood="lightcurve")
    with pytest.raises(ConfigError, match="at least one data set"):
        Problem.build(components(), {}, likelihood="lightcurve")
    with pytest.raises(Exception, match="tE"):
        bad = components()
        bad["event"]["params"]["tE"] = -1.0
        Problem.build(bad, sets, likelihood="lightcurve")


def test_mulensmodel_data_placeholder():
    import MulensModel

    path = resolve_path("{mulensmodel_data}/photometry_files/OB161195/KCT01I.dat", "/elsewhere")
    assert path.is_file() and str(path).startswith(str(MulensModel.DATA_PATH))


@pytest.mark.parametrize("u0", [0.15, -0.15])
def test_parallax_chi2_matches_mulensmodel(point_lens, u0):
    import MulensModel

    sets = mock_sets()
    coords, t0_par = "17:55:23.50 -30:12:26.1", 7000.0
    params = {"t0": 7000.2, "u0": u0, "tE": 20.0, "piEN": 0.3, "piEE": -0.2}
    comps = components()
    comps["event"] = {"profile": "rectilinear_parallax", "params": params}
    problem = Problem.build(comps, {**sets, "coords": coords, "t0_par": t0_par},
                            likelihood="lightcurve")
    values = problem.values(jnp.zeros(0), problem.args)
    chi2 = -2.0 * float(problem.likelihood.log_likelihood(values, problem.args["data"]))
    data = [MulensModel.MulensData([s["time"] + 2450000.0, s["mag"], s["error"]], phot_fmt="mag")
            for s in sets.values()]
    model = MulensModel.Model({"t_0": params["t0"] + 2450000.0, "u_0": u0, "t_E": 20.0,
                               "pi_E_N": 0.3, "pi_E_E": -0.2, "t_0_par": t0_par + 2450000.0},
                              coords=coords)
    reference = MulensModel.Event(datasets=data, model=model).get_chi2()
    static = chi2_mulensmodel(sets, 7000.2, u0, 20.0)
    assert abs(reference - static) > 20  # parallax matters for these data
    # and lensframe's parallax changes χ² as MulensModel's does (different ephemerides)
    assert abs(chi2 - reference) < 0.02 * abs(reference - static)
    with pytest.raises(ConfigError, match="needs data.coords"):
        Problem.build(comps, sets, likelihood="lightcurve")


@pytest.mark.slow
def test_binary_example_chi2_matches_vbmicrolensing():
    """The binary-lens light curve of examples/binary_event (caustic crossings, ρ = 5e-3): χ² at
    the truth equals VBMicrolensing's (RelTol = Tol = 1e-6, same flux solving) within 0.05."""
    import importlib.util
    from pathlib import Path

    import lensframe

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location(
        "microlensing_example", root / "tests" / "cli" / "test_microlensing_example.py")
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    problem = lensframe.load_config(root / "examples" / "binary_event.toml").problem
    truth = {"s": 1.1, "q": 0.1, "rho": 0.005, "t0": 7500.0, "u0": 0.1, "tE": 20.0, "alpha": 0.6}
    theta = jnp.array([truth[k.split(".")[1]] for k in problem.free_names])
    chi2 = -2.0 * float(jax.jit(problem.log_likelihood)(theta, problem.args))
    assert abs(chi2 - helpers.chi2_vbmicrolensing(problem, truth)) < 0.05


def test_float32_is_warned_about(point_lens):
    """Root solving and epochs of ~1e4 days need float64; building the problem without it warns."""
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.warns(UserWarning, match="jax_enable_x64"):
            Problem.build(components(), mock_sets(), likelihood="lightcurve")
    finally:
        jax.config.update("jax_enable_x64", True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Problem.build(components(), mock_sets(), likelihood="lightcurve")


def test_finite_source_knobs_are_options_checked_on_build(point_lens):
    sets = mock_sets()
    problem = Problem.build(components(), sets, likelihood="lightcurve",
                            likelihood_options={"finite_tol": 1e-3, "n_rings": 6})
    settings = problem.likelihood.options.finite
    assert (settings.tol, settings.n_rings) == (1e-3, 6)
    for bad in ({"finite_tol": 2.0}, {"n_rings": 0}):
        with pytest.raises((ConfigError, ValueError), match=next(iter(bad))):
            Problem.build(components(), sets, likelihood="lightcurve", likelihood_options=bad)


def test_light_curve_figure_zooms_on_the_event_and_ignores_wild_points(point_lens, tmp_path,
                                                                       monkeypatch):
    """Years of baseline (span > 4 tE): a second column shows t0 ± tE; one point 10 magnitudes
    off does not set the magnitude axis."""
    import matplotlib.figure
    from lensframe_micro import lightcurve_plots

    sets = mock_sets()
    rng = np.random.default_rng(0)
    baseline = np.sort(rng.uniform(5000.0, 6900.0, 80))
    sets["C"] = {"time": baseline, "mag": 19.0 + rng.normal(scale=0.02, size=80),
                 "error": np.full(80, 0.02)}
    sets["C"]["mag"][5] = 29.0
    problem = Problem.build(components(), sets, likelihood="lightcurve")
    values = problem.values(jnp.zeros(0), problem.args)
    figures = []
    monkeypatch.setattr(lightcurve_plots, "_save", lambda fig, path: figures.append(fig) or path)
    lightcurve_plots.light_curve_figure(problem.likelihood, values, problem.args["data"],
                                        tmp_path / "lc.png")
    (fig,) = figures
    assert isinstance(fig, matplotlib.figure.Figure)
    full, zoom = fig.axes[0], fig.axes[1]
    assert zoom.get_title() == "t0 ± tE"
    np.testing.assert_allclose(zoom.get_xlim(), [TRUTH["t0"] - TRUTH["tE"],
                                                 TRUTH["t0"] + TRUTH["tE"]], atol=3.0)
    faint, bright = full.get_ylim()
    assert faint > bright and faint < 25.0   # inverted, and the 29 mag point is off the axis
