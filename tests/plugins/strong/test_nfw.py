"""NFW, NFW_ELLIPSE_CSE and the physical halo conversion, against lenstronomy, JAXtronomy, a
60-digit mpmath evaluation of the closed forms, and against themselves (½ trace of the hessian = κ,
α = ∇ψ, H = ∇α, parameter gradients = central finite differences).

Why mpmath as well as lenstronomy: lenstronomy's NFW evaluates ln(x/2) + arccosh(1/x)/√(1−x²)
and ln²(x/2) − arccosh²(1/x) as written, which cancel at small x = r/Rs (relative error ~ε/x²,
2e-6 at x = 1e-5), and (1 − A)/(x² − 1), which cancels near x = 1. So each comparison with
lenstronomy (and JAXtronomy, which ports the same formulas) allows that code's own error, measured
point by point against mpmath, and the tight comparison is with mpmath.

Parameters are passed as (draws, 1) columns and coordinates as (draws, points) arrays, so one
compiled call evaluates every parameter draw on its own points.
"""

import math
from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import lensframe  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lensframe.testing import parameter_jvps  # noqa: E402
from lensframe.testing import ellipticity, mass_quantities  # noqa: E402
from lensframe.testing import param_columns as column  # noqa: E402
from lensframe.testing import param_row as row  # noqa: E402
from lensframe.testing import profile_quantities as lensframe_eval  # noqa: E402
from lensframe.testing import reference_quantities as model_eval  # noqa: E402
from lensframe_strong import halo  # noqa: E402
from lensframe_strong.nfw import CSE_A, CSE_S  # noqa: E402
from lenstronomy.LensModel.lens_model import LensModel  # noqa: E402

NFW_PARAMS = ("Rs", "alpha_Rs", "center_x", "center_y")
CSE_PARAMS = ("Rs", "alpha_Rs", "e1", "e2", "center_x", "center_y")
N_DRAWS = 200
Q_MIN = 0.2
EPS = np.finfo(float).eps
# x = r/Rs where the NFW switches between its series (|1 − x²| < 0.25) and closed forms
WINDOW_EDGES = (math.sqrt(0.75), math.sqrt(1.25))


@pytest.fixture(scope="module")
def nfw():
    return lensframe.get_profile("NFW")


@pytest.fixture(scope="module")
def cse():
    return lensframe.get_profile("NFW_ELLIPSE_CSE")


# -- draws and points ----------------------------------------------------------------------------
# Every test of one profile uses the same (draws, points) shape, so each compiled function is
# compiled once. Per draw the points are, by column:
CENTRE = 0  # the centre exactly
ON_RS = np.s_[1:3]  # (Rs, 0) and (0, −Rs) from the centre: r = Rs exactly where the centre is 0
# 3–8: r/Rs = 1, 1 ∓ 1e-9 and either side of the series edges (random directions);
# 9–10: r = 1e3 and 1e4 arcsec;
N_RANDOM = 24  # then r log-uniform in [1e-3, 100] arcsec
OFF_CENTRE = np.s_[1:]
ZERO_CENTRE = [0, 1, 2, 3, 4, 5, 8, 9]  # draws centred on (0, 0)


def draw_nfw(rng, n):
    """n draws, Rs log-uniform in [0.05, 20] arcsec except Rs = 1e-3 (draws 0, 1, 8) and 100
    (draws 2, 3, 9); draws in ZERO_CENTRE centred on (0, 0)."""
    rs = np.exp(rng.uniform(np.log(0.05), np.log(20.0), n))
    rs[[0, 1, 8]] = 1e-3
    rs[[2, 3, 9]] = 100.0
    draws = {"Rs": rs, "alpha_Rs": rng.uniform(0.05, 3.0, n),
             "center_x": rng.uniform(-0.5, 0.5, n), "center_y": rng.uniform(-0.5, 0.5, n)}
    for k in ("center_x", "center_y"):
        draws[k][ZERO_CENTRE] = 0.0
    return draws


ROUND = np.s_[8:16]  # CSE draws with e1 = e2 = 0
ELONGATED = np.s_[0:8]  # CSE draws with q = 0.2


def draw_cse(rng, n):
    """As draw_nfw plus (e1, e2): q = 0.2 for draws 0–7, round for draws 8–15."""
    draws = draw_nfw(rng, n)
    q = rng.uniform(Q_MIN, 1.0, n)
    q[ELONGATED] = Q_MIN
    q[ROUND] = 1.0
    draws["e1"], draws["e2"] = ellipticity(q, rng.uniform(0.0, np.pi, n))
    return {k: draws[k] for k in CSE_PARAMS}


def points(rng, draws):
    rs = draws["Rs"][:, None]
    m = len(rs)
    zero = np.zeros((m, 1))
    special = rs * np.array([1.0, 1.0 - 1e-9, 1.0 + 1e-9, WINDOW_EDGES[0] * (1 - 1e-12),
                             WINDOW_EDGES[0] * (1 + 1e-12), WINDOW_EDGES[1] * (1 + 1e-12)])
    far = np.broadcast_to([1e3, 1e4], (m, 2))
    rand = np.exp(rng.uniform(np.log(1e-3), np.log(100.0), (m, N_RANDOM)))
    r = np.concatenate([special, far, rand], axis=1)
    t = rng.uniform(0.0, 2.0 * np.pi, r.shape)
    dx = np.concatenate([zero, rs, zero, r * np.cos(t)], axis=1)
    dy = np.concatenate([zero, zero, -rs, r * np.sin(t)], axis=1)
    return draws["center_x"][:, None] + dx, draws["center_y"][:, None] + dy


def take(out, index):
    """Select draws from a dict of (…, draws, points) arrays."""
    return {k: v[..., index, :] for k, v in out.items()}


def cols(out, index):
    """Select points from a dict of (…, draws, points) arrays."""
    return {k: v[..., index] for k, v in out.items()}


def mp_nfw(x, y, draws):
    """The NFW closed forms at 60 digits from the same float inputs (NaN at r = 0)."""
    out = {"pot": np.full(x.shape, np.nan), "alpha": np.full((2, *x.shape), np.nan),
           "hess": np.full((4, *x.shape), np.nan), "kappa": np.full(x.shape, np.nan)}
    with mpmath.workdps(60):
        for i in range(x.shape[0]):
            rs = mpmath.mpf(draws["Rs"][i])
            k = mpmath.mpf(draws["alpha_Rs"][i]) / (1 - mpmath.log(2))
            for j in range(x.shape[1]):
                dx = mpmath.mpf(float(x[i, j] - draws["center_x"][i]))  # the same float as ours
                dy = mpmath.mpf(float(y[i, j] - draws["center_y"][i]))
                r2 = dx * dx + dy * dy
                if r2 == 0:
                    continue
                xx = mpmath.sqrt(r2) / rs
                u = 1 - xx * xx
                if xx < 1:
                    a = mpmath.atanh(mpmath.sqrt(u)) / mpmath.sqrt(u)
                elif xx > 1:
                    a = mpmath.atan(mpmath.sqrt(-u)) / mpmath.sqrt(-u)
                else:
                    a = mpmath.mpf(1)
                f = (a - 1) / u if u != 0 else mpmath.mpf(1) / 3
                g = mpmath.log(xx / 2) + a
                h = mpmath.log(xx / 2) ** 2 - u * a * a
                kappa = k * f / (2 * rs)
                gamma = k * (2 * g / xx**2 - f) / (2 * rs)
                g1, g2 = -gamma * (dx * dx - dy * dy) / r2, -gamma * 2 * dx * dy / r2
                out["pot"][i, j] = float(k * rs * h / 2)
                scale = k * g / (xx * xx * rs)
                out["alpha"][:, i, j] = float(scale * dx), float(scale * dy)
                out["hess"][:, i, j] = (float(kappa + g1), float(g2), float(g2),
                                        float(kappa - g1))
                out["kappa"][i, j] = float(kappa)
    return out


def errors(a, b, exact=None):
    """Per point: |a − b| for ψ, α (length of the difference), the hessian (largest component)
    and κ, relative to the size of ``exact`` (default b) at that point."""
    exact = b if exact is None else exact

    def norm(v):
        return np.max(np.abs(v), axis=0)

    with np.errstate(divide="ignore", invalid="ignore"):  # ψ = α = 0 at centres: NaN, skipped
        return {"pot": np.abs(a["pot"] - b["pot"]) / np.abs(exact["pot"]),
                "alpha": np.hypot(*(a["alpha"] - b["alpha"])) / np.hypot(*exact["alpha"]),
                "hess": norm(a["hess"] - b["hess"]) / norm(exact["hess"]),
                "kappa": np.abs(a["kappa"] - b["kappa"]) / np.abs(exact["kappa"])}


def worst(values):
    return float(np.nanmax(values))


# -- spherical NFW: values ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def nfw_case(nfw):
    rng = np.random.default_rng(20261201)
    draws = draw_nfw(rng, N_DRAWS)
    x, y = points(rng, draws)
    return draws, x, y, lensframe_eval(nfw, x, y, draws), mp_nfw(x, y, draws)


def test_nfw_matches_60_digit_closed_form(nfw_case):
    """Every quantity at every point off the centre (r/Rs from 1e-5 to 1e7, r = Rs exactly, both
    sides of x = 1 and of the series edges) within a few ε of the exact value. Measured max
    relative errors: ψ 1.6e-15, α 1.5e-15, hessian 3.7e-15, κ 4.0e-15; 1e-13 leaves room for
    other CPUs' libm."""
    _, _, _, ours, exact = nfw_case
    for name, err in errors(cols(ours, OFF_CENTRE), cols(exact, OFF_CENTRE)).items():
        assert worst(err) < 1e-13, f"{name}: {worst(err):.2e} from the 60-digit value"


def test_nfw_matches_lenstronomy_within_its_own_error(nfw_case):
    """|ours − lenstronomy| ≤ 2 |lenstronomy − exact| + 1e-13 |exact| at every point off the
    centre: we sit within lenstronomy's own round-off of it. That error is large in places
    (measured against the 60-digit values): ψ 3.8e-5 and α 8.6e-7 relative at x ~ 1e-5
    (cancellation ~ε/x²); its κ, hence H, has relative error ~ε/|x − 1|² near x = 1 (1e-5 at
    |x − 1| = 1e-6, ~40% within 1e-8, 100% — κ = 0 — at x = 1 ± 1 ulp); and where the computed
    x lands within an ulp of 1 its α is off by up to 130% (1/x rounds to 1, so arccosh(1/x) = 0
    while √(1 − x²) does not vanish). Where lenstronomy is well conditioned (x ≥ 0.1,
    |x − 1| > 0.01) the two agree to 1e-12 outright (measured 2.1e-13, ψ)."""
    draws, x, y, ours, exact = nfw_case
    ref = model_eval(LensModel(["NFW"]), x, y, draws)
    ours, ref, exact = cols(ours, OFF_CENTRE), cols(ref, OFF_CENTRE), cols(exact, OFF_CENTRE)
    ours_err, ref_err = errors(ours, exact), errors(ref, exact)
    diff = errors(ours, ref, exact)
    for name in diff:
        excess = diff[name] / (2 * ref_err[name] + 1e-13)
        assert worst(excess) <= 1.0, f"{name}: off lenstronomy by more than its own error"
    xr = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])
    xr = xr[:, OFF_CENTRE] / draws["Rs"][:, None]
    good = (xr >= 0.1) & (np.abs(xr - 1) > 0.01)
    for name in diff:
        assert worst(diff[name][good]) < 1e-12, name
    # and where they differ by more, lenstronomy is the one that is off
    for name in diff:
        assert worst(ours_err[name]) < 1e-3 * worst(ref_err[name]), name


def test_nfw_matches_jaxtronomy_within_its_own_error(nfw_case):
    """JAXtronomy's NFW (the same formulas as lenstronomy's) on 40 of the draws."""
    from jaxtronomy.LensModel.lens_model import LensModel as JaxLensModel

    draws, x, y, ours, exact = nfw_case
    sub = np.s_[:40]
    draws = {k: v[sub] for k, v in draws.items()}
    x, y = x[sub, 1:], y[sub, 1:]
    ours, exact = cols(take(ours, sub), OFF_CENTRE), cols(take(exact, sub), OFF_CENTRE)
    ref = model_eval(JaxLensModel(["NFW"]), x, y, draws)
    diff, ref_err = errors(ours, ref, exact), errors(ref, exact)
    for name in diff:
        excess = diff[name] / (2 * ref_err[name] + 1e-13)
        assert worst(excess) <= 1.0, f"{name}: off JAXtronomy by more than its own error"


def test_nfw_at_centre(nfw_case):
    """α = 0 exactly (as lenstronomy), ψ(0) = 0 (the radius is floored at 1e-12 arcsec:
    ψ ~ k Rs (r/Rs)² ln(Rs/r) there); κ, which diverges like ln(Rs/r), is finite and larger than
    anywhere else; the hessian is finite."""
    draws, x, y, ours, _ = nfw_case
    ref = model_eval(LensModel(["NFW"]), x[:, :1], y[:, :1], draws)
    centre = cols(ours, CENTRE)
    np.testing.assert_array_equal(centre["alpha"], 0.0)
    np.testing.assert_array_equal(ref["alpha"], 0.0)
    k_rs = draws["alpha_Rs"] * draws["Rs"] / (1 - math.log(2))
    assert np.all(np.abs(centre["pot"]) < 1e-15 * k_rs)
    # lenstronomy floors x at 1e-6 in h: its ψ(0) = k Rs h(1e-6)/2 ≈ 3.7e-12 k Rs
    assert np.all(np.abs(centre["pot"] - ref["pot"][:, 0]) < 1e-11 * k_rs)
    assert np.all(np.isfinite(centre["hess"])) and np.all(np.isfinite(centre["kappa"]))
    assert np.all(centre["kappa"] > ours["kappa"][:, OFF_CENTRE].max(axis=1))


def test_nfw_at_scale_radius(nfw_case):
    """r = Rs exactly (centred draws): lenstronomy special-cases x = 1, so the two agree to
    round-off (measured ≤ 3.5e-16); and |α(Rs)| = alpha_Rs by definition."""
    draws, x, y, ours, _ = nfw_case
    zc = ZERO_CENTRE
    sub = {k: v[zc] for k, v in draws.items()}
    ref = model_eval(LensModel(["NFW"]), x[zc][:, ON_RS], y[zc][:, ON_RS], sub)
    on_rs = cols(take(ours, zc), ON_RS)
    for name, err in errors(on_rs, ref).items():
        assert worst(err) < 1e-14, name
    alpha_rs = np.broadcast_to(sub["alpha_Rs"][:, None], on_rs["pot"].shape)
    np.testing.assert_allclose(np.hypot(*on_rs["alpha"]), alpha_rs, rtol=1e-15)


# -- internal consistency -------------------------------------------------------------------------
@partial(jax.jit, static_argnums=0)
def _autodiff_quantities(profile, params, x, y):
    """α as ∇ψ and H as ∇α by autodiff (the profiles write both out by hand)."""
    grad = jnp.stack(jax.grad(lambda xx, yy: jnp.sum(profile.potential(xx, yy, **params)),
                              (0, 1))(x, y))
    hess = jnp.stack(lensframe.profile.MassProfile.hessian(profile, x, y, **params))
    return grad, hess


def check_hand_written_derivatives(profile, draws, x, y, ours):
    """κ = ½ trace H (κ is computed separately; compared relative to the largest hessian
    component, as the trace cancels where the shear dominates), f_xy = f_yx, α = ∇ψ, H = ∇α, off
    the centre."""
    fxx, fxy, fyx, fyy = ours["hess"]
    trace_err = np.abs(ours["kappa"] - 0.5 * (fxx + fyy)) / np.max(np.abs(ours["hess"]), axis=0)
    assert worst(trace_err) < 1e-13  # measured 1.2e-15 (CSE), 2.1e-16 (NFW)
    np.testing.assert_array_equal(fxy, fyx)
    grad, hess = _autodiff_quantities(profile, column(draws), jnp.asarray(x), jnp.asarray(y))
    grad, hess = np.asarray(grad)[..., 1:], np.asarray(hess)[..., 1:]
    off = cols(ours, OFF_CENTRE)
    err = np.hypot(*(grad - off["alpha"])) / np.hypot(*off["alpha"])
    hess_err = np.max(np.abs(hess - off["hess"]), axis=0) / np.max(np.abs(off["hess"]), axis=0)
    return worst(err), worst(hess_err)


def test_nfw_hand_written_derivatives_agree_with_autodiff(nfw, nfw_case):
    """Measured: α vs ∇ψ 3.6e-15, H vs ∇α 9.8e-15 (relative)."""
    draws, x, y, ours, _ = nfw_case
    alpha_err, hess_err = check_hand_written_derivatives(nfw, draws, x, y, ours)
    assert alpha_err < 1e-13 and hess_err < 1e-13


# -- elliptical NFW (CSE) ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cse_case(cse):
    rng = np.random.default_rng(20261202)
    draws = draw_cse(rng, N_DRAWS)
    x, y = points(rng, draws)
    ref = model_eval(LensModel(["NFW_ELLIPSE_CSE"]), x, y, draws)
    return draws, x, y, lensframe_eval(cse, x, y, draws), ref


def cse_potential_tolerance(draws, ref):
    """lenstronomy's CSE potential is q/(2s) ln Φ − q/s ln((1+q)s) per component: two terms of
    size (a/s)·ln(s), whose difference is much smaller at small radii. Summed over the 44
    components its absolute round-off is ~Σ a_i |ln s_i| / s_i · ε ≈ 30 ε in units of
    k Rs = alpha_Rs Rs / (1 − ln 2); 1e-13 k Rs + 1e-13 |ψ| (measured max |Δψ|: 2.4e-14 k Rs)."""
    k_rs = (draws["alpha_Rs"] * draws["Rs"] / (1 - math.log(2)))[:, None]
    return 1e-13 * k_rs + 1e-13 * np.abs(ref["pot"])


def kappa_error(ours, ref):
    """|Δκ| relative to the largest hessian component: lenstronomy's κ is ½ (f_xx + f_yy), which
    cancels where the shear dominates (far outside Rs, κ ~ x⁻³ against γ ~ x⁻² ln x), so it
    carries the hessian's round-off (measured |Δκ|/|κ| up to 6e-11 far outside Rs, |Δκ|/|H|
    1.3e-15). Ours is the direct sum of the CSE convergences."""
    return np.abs(ours["kappa"] - ref["kappa"]) / np.max(np.abs(ref["hess"]), axis=0)


def test_cse_matches_lenstronomy(cse_case):
    """Same 44 components, different algebra (no rotation angle here), at every point including
    the centre, q = 0.2, e1 = e2 = 0, Rs = 1e-3 and 100, r up to 1e4 arcsec: deflection and hessian
    to round-off (measured max relative 1.3e-15, 2.0e-15), κ to the hessian's round-off
    (kappa_error), ψ within lenstronomy's cancellation (cse_potential_tolerance; measured at most
    0.04 of it). At the centre α = ψ = 0 exactly."""
    draws, _, _, ours, ref = cse_case
    err = errors(ours, ref)
    for name in ("alpha", "hess"):
        assert worst(err[name]) < 1e-13, f"{name}: {worst(err[name]):.2e}"
    assert worst(kappa_error(ours, ref)) < 1e-13
    assert worst(np.abs(ours["pot"] - ref["pot"]) / cse_potential_tolerance(draws, ref)) <= 1.0
    np.testing.assert_array_equal(ours["alpha"][..., CENTRE], 0.0)
    np.testing.assert_array_equal(ours["pot"][..., CENTRE], 0.0)


def test_cse_matches_jaxtronomy(cse_case):
    """JAXtronomy's NFW_ELLIPSE_CSE on 12 draws (q = 0.2, round, extreme Rs among them)."""
    from jaxtronomy.LensModel.lens_model import LensModel as JaxLensModel

    draws, x, y, ours, _ = cse_case
    sub = np.s_[:12]
    draws = {k: v[sub] for k, v in draws.items()}
    ours = take(ours, sub)
    ref = model_eval(JaxLensModel(["NFW_ELLIPSE_CSE"]), x[sub], y[sub], draws)
    err = errors(ours, ref)
    for name in ("alpha", "hess"):
        assert worst(err[name]) < 1e-13, f"{name}: {worst(err[name]):.2e}"  # measured 1.9e-15
    assert worst(kappa_error(ours, ref)) < 1e-13
    assert worst(np.abs(ours["pot"] - ref["pot"]) / cse_potential_tolerance(draws, ref)) <= 1.0


def test_round_cse_is_the_nfw_to_oguris_accuracy(nfw, cse_case):
    """At e1 = e2 = 0 the CSE sum approximates the spherical NFW; Oguri (2021) quotes a fractional
    accuracy better than 1e-4 for 1e-4 < r/Rs < 1e3. Measured max relative differences there:
    κ 3.7e-5, α 4.6e-6, ψ 7.3e-6 (ψ(0) = 0 in both)."""
    draws, x, y, ours, _ = cse_case
    nfw_out = lensframe_eval(nfw, x, y, {k: draws[k] for k in NFW_PARAMS})
    xr = np.hypot(x - draws["center_x"][:, None], y - draws["center_y"][:, None])
    xr = xr / draws["Rs"][:, None]
    round_draws = np.zeros(N_DRAWS, bool)
    round_draws[ROUND] = True
    inside = (xr > 1e-4) & (xr < 1e3) & round_draws[:, None]
    assert inside.sum() > 150
    err = errors(ours, nfw_out)
    for name in ("pot", "alpha", "kappa"):
        assert worst(err[name][inside]) < 1e-4, f"{name}: {worst(err[name][inside]):.2e}"


def test_cse_table_sums_to_the_nfw_convergence():
    """Σ a_i / (2 (s_i² + x²)^{3/2}) = F(x)/2 (the NFW convergence in units of k/Rs) to Oguri's
    quoted 1e-4 over 1e-4 ≤ x ≤ 1e3, against the 60-digit F (measured max 2.4e-5)."""
    xs = np.geomspace(1e-4, 1e3, 56)
    total = np.sum(CSE_A[:, None] / (2 * (CSE_S[:, None] ** 2 + xs**2) ** 1.5), axis=0)
    with mpmath.workdps(40):
        def half_f(x):
            x = mpmath.mpf(x)
            u = 1 - x * x
            a = (mpmath.atanh(mpmath.sqrt(u)) / mpmath.sqrt(u) if x < 1
                 else mpmath.atan(mpmath.sqrt(-u)) / mpmath.sqrt(-u))
            return float((a - 1) / u / 2)
        exact = np.array([half_f(v) for v in xs])
    assert np.max(np.abs(total / exact - 1)) < 1e-4


def test_cse_hand_written_derivatives_agree_with_autodiff(cse, cse_case):
    """Measured: α vs ∇ψ 1.2e-15, H vs ∇α 1.2e-15, κ vs ½ trace H 1.2e-15 (relative)."""
    draws, x, y, ours, _ = cse_case
    alpha_err, hess_err = check_hand_written_derivatives(cse, draws, x, y, ours)
    assert alpha_err < 1e-13 and hess_err < 1e-13


_evaluate = jax.jit(mass_quantities, static_argnums=0)


# -- gradients with respect to the parameters ---------------------------------------------------
@partial(jax.jit, static_argnums=(0, 1))
def _jvps(profile, names, params, x, y):
    """∂(ψ, α, H, κ)/∂p for every p in names, stacked on a leading axis (one compiled forward-mode
    pass; the draws are independent, so a tangent of ones gives each draw its own derivative)."""
    return parameter_jvps(lambda p: _evaluate(profile, p, x, y), params, names)


@partial(jax.jit, static_argnums=0)
def _reverse_gradient(profile, params, weights, x, y):
    """Reverse-mode gradient of Σ w·α with respect to every parameter (what a fit uses)."""
    return jax.grad(lambda p: jnp.sum(weights * jnp.stack(profile.deflection(x, y, **p))))(params)


def check_gradients(profile, draws, x, y, names):
    """Every derivative of ψ, α, H, κ finite at every point (centre included) in forward mode,
    and of α in reverse mode, where it equals forward mode. Returns, per draw, the largest
    |forward mode − finite difference| off the centre beyond the difference quotient's own
    round-off, relative to the largest derivative of that draw, quantity and component.
    Fourth-order central differences (truncation ~(h/ℓ)⁴, ℓ the smallest length the function
    varies on: r, times √q across the minor axis of the CSE, ≥ 4e-4 arcsec here) with steps
    1e-5 × (Rs, alpha_Rs, 1 for e1 and e2) and 1e-6 min(Rs, 1) arcsec for the centre."""
    params, xj, yj = column(draws), jnp.asarray(x), jnp.asarray(y)
    ad = {k: np.asarray(v) for k, v in _jvps(profile, tuple(names), params, xj, yj).items()}
    weights = np.random.default_rng(0).normal(size=(2, *x.shape))
    grads = _reverse_gradient(profile, params, jnp.asarray(weights), xj, yj)
    for i, name in enumerate(names):
        for q, v in ad.items():
            assert np.all(np.isfinite(v[i])), f"∂{q}/∂{name} (forward mode) not finite"
        reverse = np.asarray(grads[name])[:, 0]
        assert np.all(np.isfinite(reverse)), f"∂α/∂{name} (reverse mode) not finite"
        # reverse mode = forward mode: Σ_points w·∂α/∂p per draw (each draw has its own p)
        forward = np.sum(weights * ad["alpha"][i], axis=(0, 2))
        np.testing.assert_allclose(reverse, forward, rtol=1e-10,
                                   atol=1e-12 * np.max(np.abs(forward)), err_msg=name)
    centre_step = 0.1 * jnp.minimum(params["Rs"], 1.0)
    steps = {"Rs": params["Rs"], "alpha_Rs": params["alpha_Rs"], "e1": 1.0, "e2": 1.0,
             "center_x": centre_step, "center_y": centre_step}
    out = {}
    for i, name in enumerate(names):
        h = 1e-5 * jnp.asarray(steps[name])

        def shifted(m):
            p = dict(params, **{name: params[name] + m * h})
            return {k: np.asarray(v)[..., 1:] for k, v in _evaluate(profile, p, xj, yj).items()}

        plus2, plus1, minus1, minus2 = shifted(2), shifted(1), shifted(-1), shifted(-2)
        for q in ad:
            fd = (8 * (plus1[q] - minus1[q]) - (plus2[q] - minus2[q])) / (12 * np.asarray(h))
            # the difference quotient's own round-off: (16 + 2)/12 × the error of f, a few ε|f|
            # (ψ of the CSE sums 44 logarithms), over h. It dominates for ψ at r = 1e4 arcsec,
            # where ψ ~ k Rs ln² x is large while ∂ψ/∂centre = −α is small.
            size = np.maximum(np.abs(plus2[q]), np.abs(minus2[q]))
            noise = 10 * EPS * size / np.asarray(h)
            scale = np.max(np.abs(fd), axis=-1, keepdims=True)
            excess = np.maximum(np.abs(ad[q][i][..., 1:] - fd) - noise, 0.0)
            rel = excess / np.where(scale > 0, scale, 1.0)
            out[(q, name)] = rel.reshape(-1, *rel.shape[-2:]).max(axis=(0, 2))
    return out


def test_nfw_gradients(nfw, nfw_case):
    """All 200 draws: Rs = 1e-3 and 100, r = 0, r = Rs exactly, points either side of x = 1 and of
    the series edges, r up to 1e4 arcsec. Measured max disagreement with finite differences beyond
    their round-off: 9e-10 (relative to the largest derivative of the draw; H at Rs = 1e-3)."""
    draws, x, y, _, _ = nfw_case
    for (q, name), err in check_gradients(nfw, draws, x, y, NFW_PARAMS).items():
        assert err.max() < 1e-6, f"∂{q}/∂{name}: off finite differences by {err.max():.2e}"


def test_cse_gradients(cse, cse_case):
    """As for the NFW, with q = 0.2 and e1 = e2 = 0 among the draws (measured max 7e-10)."""
    draws, x, y, _, _ = cse_case
    for (q, name), err in check_gradients(cse, draws, x, y, CSE_PARAMS).items():
        assert err.max() < 1e-6, f"∂{q}/∂{name}: off finite differences by {err.max():.2e}"


# -- physical halo parameterisation ---------------------------------------------------------------
def _cosmologies():
    from astropy.cosmology import FlatLambdaCDM, Planck18

    return [FlatLambdaCDM(H0=70, Om0=0.3, Ob0=0.05), Planck18]


HALO_CASES = [(0.3, 1.5), (0.5, 2.0), (1.2, 3.5)]
HALO_MC = [(1e11, 12.0), (3e12, 7.0), (1e13, 6.0), (1e15, 4.0)]


# lenstronomy 1.14 still calls astropy's deprecated angular_diameter_distance_z1z2
@pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyDeprecationWarning")
def test_halo_conversion_matches_lenstronomy():
    """Given lenstronomy's own D_d, ρ_crit(z) and Σ_crit, the JAX conversion reproduces
    ``LensCosmo.nfw_physical2angle`` to round-off (measured 7e-16). From astropy (our default
    route) the distances agree exactly and the rest differs only by the constants: lenstronomy's
    G, M_sun and ρ_crit,0 are older values (Σ_crit ratio 1 − 2.8e-4, ρ_crit 1 + 9e-10), so Rs ∝
    ρ_crit^{-1/3} and alpha_Rs ∝ ρ_crit^{1/3} / Σ_crit move by exactly those ratios."""
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    for cosmo in _cosmologies():
        for zl, zs in HALO_CASES:
            lc = LensCosmo(zl, zs, cosmo)
            dist = halo.LensDistances.from_cosmology(zl, zs, cosmo)
            rho_len = lc.nfw_param.rhoc_z(zl) * lc.h**2
            np.testing.assert_allclose([dist.D_d, dist.D_s, dist.D_ds], [lc.dd, lc.ds, lc.dds],
                                       rtol=1e-14)
            rho_ratio, sigma_ratio = dist.rho_crit / rho_len, dist.sigma_crit / lc.sigma_crit
            assert abs(sigma_ratio - 1) < 1e-3 and abs(rho_ratio - 1) < 1e-8
            for m200, c in HALO_MC:
                ref = np.array(lc.nfw_physical2angle(m200, c))
                same = np.array(halo.nfw_physical_to_angle(m200, c, lc.dd, rho_len,
                                                           lc.sigma_crit))
                np.testing.assert_allclose(same, ref, rtol=1e-14)
                ours = np.array(halo.nfw_halo_to_angle(m200, dist, c))
                expected = ref * [rho_ratio ** (-1 / 3), rho_ratio ** (1 / 3) / sigma_ratio]
                np.testing.assert_allclose(ours, expected, rtol=1e-13)


def test_duffy_concentration_matches_lenstronomy():
    """lenstronomy's c_M_z is Duffy's form with A, B, C = 5.22, −0.072, −0.42 and M in M_sun/h;
    ours takes M in M_sun and h, and the coefficients (default Duffy et al. 2008 Table 1, full
    sample, 200c)."""
    from lenstronomy.Cosmo.nfw_param import NFWParam

    masses = np.geomspace(1e10, 1e15, 11)
    for z, h in [(0.1, 0.7), (0.8, 0.674), (2.0, 0.7)]:
        ref = NFWParam.c_M_z(masses * h, z)
        ours = halo.duffy08_concentration(jnp.asarray(masses), z, h, A=5.22, B=-0.072, C=-0.42)
        np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-14)
    assert halo.DUFFY08_200C == dict(A=5.71, B=-0.084, C=-0.47)


def test_halo_conversion_is_differentiable():
    """∂ ln Rs/∂ ln M200 = 1/3 and ∂ ln alpha_Rs/∂ ln M200 = 2/3 at fixed c (r_s ∝ M^{1/3}, ρ0
    independent of M); through the Duffy relation both gain (−1, +1)·(∂ ln c/∂ ln M = B) times the
    c-derivatives; and the whole chain M200 → (Rs, alpha_Rs) → α(θ) matches finite differences."""
    dist = halo.LensDistances.from_cosmology(0.5, 2.0, _cosmologies()[0])

    def log_angles(log_m, log_c):
        rs, a = halo.nfw_physical_to_angle(jnp.exp(log_m), jnp.exp(log_c), dist.D_d,
                                           dist.rho_crit, dist.sigma_crit)
        return jnp.log(jnp.stack([rs, a]))

    jac = np.asarray(jax.jit(jax.jacfwd(log_angles, argnums=(0, 1)))(jnp.log(1e13),
                                                                     jnp.log(6.0)))
    np.testing.assert_allclose(jac[0], [1 / 3, 2 / 3], rtol=1e-13)

    @jax.jit
    def log_angles_duffy(log_m):
        return jnp.log(jnp.stack(halo.nfw_halo_to_angle(jnp.exp(log_m), dist)))

    c = float(halo.duffy08_concentration(1e13, dist.z_lens, dist.h))
    expected = np.array([1 / 3, 2 / 3]) + halo.DUFFY08_200C["B"] * np.asarray(
        jax.jacfwd(log_angles, argnums=1)(jnp.log(1e13), jnp.log(c)))
    np.testing.assert_allclose(np.asarray(jax.jacfwd(log_angles_duffy)(jnp.log(1e13))), expected,
                               rtol=1e-12)

    nfw = lensframe.get_profile("NFW")
    theta = (jnp.array([0.3, 1.1, 4.0]), jnp.array([-0.2, 0.4, 0.0]))

    @jax.jit
    def alpha_x(log_m):
        rs, a = halo.nfw_halo_to_angle(jnp.exp(log_m), dist)
        return nfw.deflection(*theta, Rs=rs, alpha_Rs=a)[0]

    ad = np.asarray(jax.jit(jax.jacfwd(alpha_x))(jnp.log(2e12)))
    h = 1e-5
    fd = (np.asarray(alpha_x(jnp.log(2e12) + h)) - np.asarray(alpha_x(jnp.log(2e12) - h))) / (2 * h)
    assert np.all(np.isfinite(ad))
    np.testing.assert_allclose(ad, fd, rtol=1e-8)
