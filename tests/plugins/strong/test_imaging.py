"""The imaging likelihood against lenstronomy's ImageModel / ImageLinearFit, its input checks, and
its behaviour under jit, vmap and grad.

lenstronomy is set up as in examples/sie_mock/make_mock.py: pixel grid centred on (0, 0), PSF type
PIXEL, supersampling without supersampled convolution. With an SIS both codes agree to round-off
(measured 4e-16 of the peak), which pins the sub-pixel grid, the pixel-area factor, the orientation
of the image and the PSF (an asymmetric kernel, so a flipped or correlated kernel would show) and
the FFT edge handling. With lenstronomy's SIE the images differ by 1.5e-10 of the peak: that is its
NIE core (s_scale = 1e-10 arcsec), see test_isothermal.py.
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lenstronomy.Data.imaging_data import ImageData  # noqa: E402
from lenstronomy.Data.psf import PSF  # noqa: E402
from lenstronomy.ImSim.image_linear_solve import ImageLinearFit  # noqa: E402
from lenstronomy.ImSim.image_model import ImageModel  # noqa: E402
from lenstronomy.LensModel.lens_model import LensModel  # noqa: E402
from lenstronomy.LightModel.light_model import LightModel  # noqa: E402
from lensframe.errors import ConfigError, DataError  # noqa: E402
from lensframe.problem import Problem  # noqa: E402

N = 32
PIXEL_SCALE = 0.08  # arcsec
TRUTH = {
    "lens": {"theta_E": 1.12, "e1": 0.09, "e2": -0.04, "center_x": 0.03, "center_y": -0.02},
    "shear": {"gamma1": 0.035, "gamma2": -0.015},
    "lens_light": {"amp": 8.0, "R_sersic": 0.75, "n_sersic": 3.5, "e1": 0.06, "e2": -0.03,
                   "center_x": 0.03, "center_y": -0.02},
    "source": {"amp": 12.0, "R_sersic": 0.22, "n_sersic": 1.3, "e1": 0.12, "e2": 0.06,
               "center_x": 0.10, "center_y": 0.07},
}
SIS_KEYS = ("theta_E", "center_x", "center_y")


def asymmetric_psf():
    """9×9, normalised, with no symmetry (an off-centre core plus a side lobe)."""
    yy, xx = np.mgrid[-4:5, -4:5]
    kernel = (np.exp(-((xx - 1.0) ** 2 + (yy + 0.5) ** 2) / 3.0)
              + 0.3 * np.exp(-((xx + 2.0) ** 2 + (yy - 2.0) ** 2)))
    return kernel / kernel.sum()


def model_params(lens="SIE", truth=TRUTH):
    params = {k: dict(v) for k, v in truth.items()}
    if lens == "SIS":
        params["lens"] = {k: params["lens"][k] for k in SIS_KEYS}
    return params


# -- lenstronomy -------------------------------------------------------------------------------
def lenstronomy_classes(lens, shape, psf, supersampling, image=None, noise=None, origin=None):
    ny, nx = shape
    if origin is None:
        origin = -0.5 * PIXEL_SCALE * np.array([nx - 1, ny - 1])
    data = ImageData(image_data=np.zeros(shape) if image is None else image,
                     ra_at_xy_0=origin[0], dec_at_xy_0=origin[1],
                     transform_pix2angle=np.eye(2) * PIXEL_SCALE, noise_map=noise)
    psf_class = (PSF(psf_type="NONE") if psf is None
                 else PSF(psf_type="PIXEL", kernel_point_source=psf))
    return dict(data_class=data, psf_class=psf_class,
                lens_model_class=LensModel([lens, "SHEAR"]),
                source_model_class=LightModel(["SERSIC_ELLIPSE"]),
                lens_light_model_class=LightModel(["SERSIC_ELLIPSE"]),
                kwargs_numerics={"supersampling_factor": supersampling,
                                 "supersampling_convolution": False})


def lenstronomy_kwargs(params):
    return ([params["lens"], dict(params["shear"], ra_0=0.0, dec_0=0.0)], [params["source"]],
            [params["lens_light"]])


def lenstronomy_image(lens, shape, psf, supersampling, params):
    model = ImageModel(**lenstronomy_classes(lens, shape, psf, supersampling))
    return model.image(*lenstronomy_kwargs(params))


# -- lensframe ---------------------------------------------------------------------------------
def components(lens, params):
    return {"lens": {"profile": lens, "params": params["lens"]},
            "shear": {"profile": "SHEAR", "params": params["shear"]},
            "lens_light": {"profile": "SERSIC_ELLIPSE", "plane": "lens",
                           "params": params["lens_light"]},
            "source": {"profile": "SERSIC_ELLIPSE", "plane": "source", "params": params["source"]}}


def data_dict(image, noise=1.0, psf=None, **extra):
    data = {"image": image, "noise": noise, "pixel_scale": PIXEL_SCALE, **extra}
    if psf is not None:
        data["psf"] = psf
    return data


def lensframe_image(lens, shape, psf, supersampling, params, origin=None, **options):
    """The model image with every parameter fixed (amplitudes included)."""
    extra = {} if origin is None else {"origin": list(origin)}
    problem = Problem.build(components(lens, params), data_dict(np.zeros(shape), psf=psf, **extra),
                            likelihood_options={"supersampling": supersampling, **options})
    return np.asarray(jax.jit(lambda args: problem.likelihood.products(
        problem.values(jnp.zeros(0), args), args["data"])["model"])(problem.args))


# -- (a) model images and likelihood against lenstronomy ---------------------------------------
@pytest.mark.parametrize("lens, supersampling, psf, tol", [
    # conventions: exact up to round-off (measured 4.5e-16 of the peak)
    ("SIS", 2, "asymmetric", 1e-13),
    ("SIS", 3, None, 1e-13),
    # lenstronomy's SIE core: measured 1.5e-10 … 1.8e-10 of the peak for these cases
    ("SIE", 2, "asymmetric", 2e-9),
    ("SIE", 1, "asymmetric", 2e-9),
    ("SIE", 3, None, 2e-9),
])
def test_model_image_matches_lenstronomy(lens, supersampling, psf, tol):
    kernel = asymmetric_psf() if psf else None
    params = model_params(lens)
    ref = lenstronomy_image(lens, (N, N), kernel, supersampling, params)
    ours = lensframe_image(lens, (N, N), kernel, supersampling, params)
    assert np.max(np.abs(ours - ref)) <= tol * np.max(ref)


@pytest.mark.parametrize("side, fine, psf", [(9, 4, "asymmetric"), (5, 3, None)])
def test_central_supersampling_matches_lenstronomy_adaptive(side, fine, psf):
    """A central square rendered finer (``central_pixels``, ``central_supersampling``) against
    lenstronomy's adaptive mode with the same pixels supersampled; and it differs from the plain
    coarse image at the lens light's centre (the square is not ignored)."""
    kernel = asymmetric_psf() if psf else None
    params = model_params("SIE")
    classes = lenstronomy_classes("SIE", (N, N), kernel, fine)
    square = np.zeros((N, N), bool)
    lo = (N - side) // 2
    square[lo:lo + side, lo:lo + side] = True
    classes["kwargs_numerics"] = {"supersampling_factor": fine, "compute_mode": "adaptive",
                                  "supersampled_indexes": square,
                                  "supersampling_convolution": False}
    ref = ImageModel(**classes).image(*lenstronomy_kwargs(params))
    ours = lensframe_image("SIE", (N, N), kernel, 1, params, central_pixels=side,
                           central_supersampling=fine)
    assert np.max(np.abs(ours - ref)) <= 2e-9 * np.max(ref)
    coarse = lensframe_image("SIE", (N, N), kernel, 1, params)
    assert np.max(np.abs(coarse - ref)) > 1e-3 * np.max(ref)


@pytest.mark.parametrize("options, message", [
    ({"central_pixels": 4}, "central_pixels' must be odd"),
    ({"central_pixels": 41}, "central_pixels: 41 is larger than the image"),
    ({"central_pixels": 5, "central_supersampling": 0}, "central_supersampling"),
])
def test_bad_central_square_is_refused(options, message):
    with pytest.raises((ConfigError, DataError, ValueError), match=message):
        Problem.build(components("SIS", model_params("SIS")), data_dict(np.zeros((N, N))),
                      likelihood_options=options)


@pytest.mark.parametrize("axis", [0, 1], ids=["fewer-rows", "fewer-columns"])
def test_non_square_image_is_a_crop(axis):
    """lenstronomy needs square images; a 24×32 (or 32×24) lensframe image must equal the
    matching crop of lenstronomy's 32×32 one: everywhere without a PSF, and at least a PSF
    half-width (4 pixels) from the cut edges with one (zero padding differs only there)."""
    params = model_params("SIS")
    kernel = asymmetric_psf()
    full_origin = -0.5 * PIXEL_SCALE * (N - 1) * np.ones(2)
    cut = slice(4, N - 4)
    shape = (N - 8, N) if axis == 0 else (N, N - 8)
    origin = full_origin + PIXEL_SCALE * (np.array([0, 4]) if axis == 0 else np.array([4, 0]))
    crop = (cut, slice(None)) if axis == 0 else (slice(None), cut)
    inner = (slice(4, -4), slice(None)) if axis == 0 else (slice(None), slice(4, -4))
    for psf in (None, kernel):
        ref = lenstronomy_image("SIS", (N, N), psf, 2, params)[crop]
        ours = lensframe_image("SIS", shape, psf, 2, params, origin=origin)
        where = (slice(None), slice(None)) if psf is None else inner
        np.testing.assert_allclose(ours[where], ref[where], rtol=0, atol=1e-13 * ref.max())
        if psf is not None:  # and the edge rows/columns do differ: the crop is not trivial
            assert np.max(np.abs(ours - ref)) > 1e-6 * ref.max()


@pytest.fixture(scope="module")
def noisy_mock():
    """A lenstronomy image of TRUTH with Poisson-like Gaussian noise (seeded)."""
    kernel = asymmetric_psf()
    clean = lenstronomy_image("SIE", (N, N), kernel, 2, model_params())
    noise = np.sqrt(0.05**2 + np.clip(clean, 0, None) / 1000.0)
    image = clean + np.random.default_rng(20261122).normal(size=clean.shape) * noise
    return image, noise, kernel


def off_truth():
    """Non-linear parameters moved off the truth, so the solved amplitudes are not the true ones
    and the residual is not pure noise."""
    params = model_params()
    params["lens"]["theta_E"] = 1.1
    params["source"]["R_sersic"] = 0.25
    params["lens_light"]["n_sersic"] = 3.2
    return params


@pytest.mark.parametrize("masked", [False, True], ids=["all-pixels", "masked"])
def test_linear_log_likelihood_matches_lenstronomy(noisy_mock, masked):
    image, noise, kernel = noisy_mock
    params = off_truth()
    mask = np.ones((N, N), bool)
    if masked:
        yy, xx = np.mgrid[:N, :N] - (N - 1) / 2
        mask = (np.hypot(xx, yy) > 2.5) & (np.hypot(xx, yy) < 14)
        mask[3, 20] = False
    fit = ImageLinearFit(**lenstronomy_classes("SIE", (N, N), kernel, 2, image, noise),
                         likelihood_mask=mask.astype(int))
    ref_logl, ref_amps = fit.likelihood_data_given_model(*lenstronomy_kwargs(params))

    ours = {k: dict(v) for k, v in params.items()}
    ours["source"]["amp"] = ours["lens_light"]["amp"] = "linear"
    extra = {"mask": mask.astype(float)} if masked else {}
    problem = Problem.build(components("SIE", ours), data_dict(image, noise, kernel, **extra))
    logl, amps = jax.jit(lambda args: (
        problem.log_likelihood(jnp.zeros(0), args),
        problem.likelihood.linear_solution(problem.values(jnp.zeros(0), args), args["data"])))(
        problem.args)
    logl = float(logl)
    # measured: ln L 5e-10 relative, amplitudes 1e-9 relative (lenstronomy's SIE core moves the
    # model by 1.5e-10 of its peak, and the 1e-12 ridge of the WLS solver)
    assert logl == pytest.approx(ref_logl, rel=1e-8)
    # lenstronomy orders the linear parameters source first, then lens light
    assert float(amps["source.amp"]) == pytest.approx(ref_amps[0], rel=1e-8)
    assert float(amps["lens_light.amp"]) == pytest.approx(ref_amps[1], rel=1e-8)


# -- (b) bad input -----------------------------------------------------------------------------
def build(data, comps=None):
    return Problem.build(comps or components("SIS", model_params("SIS")), data)


def blank(shape=(N, N)):
    return np.random.default_rng(1).normal(size=shape)


def test_noise_shape_mismatch():
    with pytest.raises(DataError, match=r"data\.noise"):
        build(data_dict(blank(), noise=np.ones((N, N - 1))))


def test_even_sized_psf():
    with pytest.raises(DataError, match=r"data\.psf"):
        build(data_dict(blank(), psf=np.ones((8, 8)) / 64))


def test_unnormalised_psf_is_normalised_with_a_warning():
    kernel = asymmetric_psf()
    with pytest.warns(UserWarning, match=r"data\.psf"):
        problem = build(data_dict(blank(), psf=3.0 * kernel))
    np.testing.assert_allclose(problem.data["psf"], kernel, rtol=1e-14)
    assert problem.data["psf"].sum() == pytest.approx(1.0, rel=1e-14)


def test_nan_pixels_are_masked_with_a_warning():
    image = blank()
    bad = [(3, 5), (17, 0), (31, 31)]
    for i, j in bad:
        image[i, j] = np.nan
    with pytest.warns(UserWarning, match="masking 3 pixel"):
        problem = build(data_dict(image, noise=0.1))
    weights = problem.data["weights"]
    assert all(weights[i, j] == 0 for i, j in bad) and np.sum(weights == 0) == len(bad)
    logl = float(jax.jit(problem.log_density)(jnp.zeros(0), problem.args))
    assert np.isfinite(logl)
    # the same as masking those pixels explicitly (whatever finite value they then hold)
    mask = np.ones((N, N))
    filled = image.copy()
    for i, j in bad:
        mask[i, j] = 0
        filled[i, j] = 1e6
    explicit = build(data_dict(filled, noise=0.1, mask=mask))
    assert logl == pytest.approx(float(jax.jit(explicit.log_density)(jnp.zeros(0),
                                                                     explicit.args)), rel=1e-13)


@pytest.mark.parametrize("value", [0.0, -0.5])
def test_non_positive_noise_in_an_unmasked_pixel(value):
    noise = np.full((N, N), 0.1)
    noise[7, 9] = value
    with pytest.raises(DataError, match=r"data\.noise.*row 7, column 9"):
        build(data_dict(blank(), noise=noise))
    mask = np.ones((N, N))
    mask[7, 9] = 0
    problem = build(data_dict(blank(), noise=noise, mask=mask))  # masked: allowed
    assert problem.data["weights"][7, 9] == 0


def test_unknown_data_key_suggests_the_right_one():
    data = data_dict(blank())
    data["nosie"] = data.pop("noise")
    with pytest.raises(ConfigError, match=r"'nosie' \(did you mean 'noise'\?\)"):
        build(data)


def test_light_component_without_plane():
    comps = components("SIS", model_params("SIS"))
    del comps["source"]["plane"]
    with pytest.raises(ConfigError, match=r"components\.source\.plane"):
        build(data_dict(blank()), comps)


# -- (c) jit, vmap and gradients of the log-density --------------------------------------------
FREE = {
    "lens": {"theta_E": {"prior": "uniform", "low": 0.8, "high": 1.5},
             "e1": {"prior": "uniform", "low": -0.3, "high": 0.3},
             "e2": {"prior": "uniform", "low": -0.3, "high": 0.3},
             "center_x": {"prior": "normal", "mu": 0.0, "sigma": 0.1},
             "center_y": {"prior": "normal", "mu": 0.0, "sigma": 0.1}},
    "shear": {"gamma1": {"prior": "uniform", "low": -0.1, "high": 0.1},
              "gamma2": {"prior": "uniform", "low": -0.1, "high": 0.1}},
    "lens_light": {"amp": "linear", "R_sersic": {"prior": "loguniform", "low": 0.3, "high": 2.0},
                   "n_sersic": 3.5, "e1": 0.06, "e2": -0.03,
                   "center_x": {"link": "lens.center_x"}, "center_y": {"link": "lens.center_y"}},
    "source": {"amp": "linear", "R_sersic": {"prior": "loguniform", "low": 0.05, "high": 0.5},
               "n_sersic": {"prior": "uniform", "low": 0.5, "high": 4.0},
               "e1": 0.12, "e2": 0.06,
               "center_x": {"prior": "uniform", "low": -0.3, "high": 0.3},
               "center_y": {"prior": "uniform", "low": -0.3, "high": 0.3}},
}


@pytest.fixture(scope="module")
def free_problem(noisy_mock):
    image, noise, kernel = noisy_mock
    problem = Problem.build(components("SIE", FREE), data_dict(image, noise, kernel))
    truth = jnp.asarray([TRUTH[c][p] for c, p in (k.split(".") for k in problem.free_names)])
    return problem, truth


def test_vmap_rows_equal_single_calls(free_problem):
    problem, truth = free_problem
    u = np.random.default_rng(5).uniform(0.05, 0.95, (6, problem.dim))
    batch = jnp.stack([problem.from_unit(jnp.asarray(row), problem.args) for row in u])
    batch = batch.at[0].set(truth)
    batched = jax.jit(jax.vmap(problem.log_density, in_axes=(0, None)))(batch, problem.args)
    single = jax.jit(problem.log_density)
    assert np.all(np.isfinite(np.asarray(batched)))
    for i in range(batch.shape[0]):
        assert float(batched[i]) == pytest.approx(float(single(batch[i], problem.args)),
                                                  rel=1e-12)
    assert int(np.argmax(batched)) == 0  # the truth fits the mock best


def test_value_and_grad(free_problem):
    problem, truth = free_problem
    theta = truth + jnp.asarray(np.random.default_rng(6).normal(0, 0.01, problem.dim))
    value, grad = jax.jit(jax.value_and_grad(problem.log_density))(theta, problem.args)
    # central differences through the whole model (ray tracing, PSF, linear solve, priors),
    # all 2 × dim evaluations in one batched call
    h = 1e-6
    steps = h * jnp.eye(problem.dim)
    points = jnp.concatenate([theta[None], theta + steps, theta - steps])
    values = jax.jit(jax.vmap(problem.log_density, in_axes=(0, None)))(points, problem.args)
    assert float(value) == pytest.approx(float(values[0]), rel=1e-12)
    assert np.all(np.isfinite(np.asarray(grad)))
    fd = np.asarray(values[1:1 + problem.dim] - values[1 + problem.dim:]) / (2 * h)
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=1e-5, atol=1e-6 * np.max(np.abs(fd)))
