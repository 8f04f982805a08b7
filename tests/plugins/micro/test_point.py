"""Point-source images and magnification against VBMicrolensing, MulensModel, the Paczyński closed
form and an extended-precision (mpmath) solution of the lens equation, all computed here."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lensframe_micro.caustics import caustics  # noqa: E402
from lensframe_micro.lenses import binary_lenses, triple_lenses  # noqa: E402
from lensframe_micro.point import (MAX_IMAGE_MAGNIFICATION, abs2, image_positions,  # noqa: E402
                                   images, in_blocks, jacobian_determinant,
                                   point_lens_magnification, point_magnification)
from lensframe_micro.polynomial import lens_polynomial  # noqa: E402

VBM = pytest.importorskip("VBMicrolensing")

batched = jax.jit(jax.vmap(lambda w, z, m: point_magnification(w, z, m)))


def _per_point(z, m, n):
    """The lenses repeated for n positions (the batched functions map over every argument)."""
    return jnp.broadcast_to(z, (n,) + z.shape), jnp.broadcast_to(m, (n,) + m.shape)


#: d A / d(y1, y2) at many positions, each with its own lenses
gradient_in_y = jax.jit(jax.vmap(jax.grad(
    lambda y1, y2, z, m: point_magnification(y1 + 1j * y2, z, m), argnums=(0, 1))))


binary_caustics = jax.jit(jax.vmap(lambda s, q: caustics(*binary_lenses(s, q), 64)[1]))


def vbm():
    v = VBM.VBMicrolensing()
    v.RelTol, v.Tol = 1e-10, 1e-10
    return v


def precise_magnification(w, z, m, dps=40):
    """Σ 1/|det J| from the polynomial's roots polished on the lens equation in mpmath at ``dps``
    digits; distinct converged solutions only (an independent, slow reference)."""
    mpmath.mp.dps = dps
    coeffs = [mpmath.mpc(c) for c in np.asarray(lens_polynomial(w, z, m))]
    roots = mpmath.polyroots(coeffs, maxsteps=400, extraprec=4 * dps)
    zs = [mpmath.mpc(c) for c in np.asarray(z)]
    ms = [mpmath.mpf(float(c)) for c in np.asarray(m)]
    W = mpmath.mpc(complex(w))
    found = []
    for r in roots:
        for _ in range(60):
            f = r - W - sum(mk / mpmath.conj(r - zk) for zk, mk in zip(zs, ms))
            g = sum(mk / mpmath.conj(r - zk) ** 2 for zk, mk in zip(zs, ms))
            r = r + (-f + g * mpmath.conj(f)) / (1 - abs(g) ** 2)
        f = r - W - sum(mk / mpmath.conj(r - zk) for zk, mk in zip(zs, ms))
        if abs(f) < mpmath.mpf(10) ** (-dps + 8) and all(abs(r - o) > 1e-20 for o in found):
            found.append(r)
    total = 0
    for r in found:
        g = sum(mk / mpmath.conj(r - zk) ** 2 for zk, mk in zip(zs, ms))
        total += 1 / abs(1 - abs(g) ** 2)
    return float(total), len(found)


def binary_sample(rng, n):
    """n random binaries (s 0.2–5, q 1e-5–10) and source positions: 70% uniform in |y| < 2, 30% at
    1e-6–1e-2 θ_E from a point of the caustic."""
    s = 10 ** rng.uniform(np.log10(0.2), np.log10(5.0), n)
    q = 10 ** rng.uniform(-5.0, 1.0, n)
    w = rng.uniform(-2, 2, n) + 1j * rng.uniform(-2, 2, n)
    near = rng.random(n) < 0.3
    caustic = np.asarray(binary_caustics(s, q)).reshape(n, -1)
    pick = caustic[np.arange(n), rng.integers(caustic.shape[1], size=n)]
    offset = 10 ** rng.uniform(-6, -2, n) * np.exp(2j * np.pi * rng.random(n))
    return s, q, np.where(near, pick + offset, w)


def check_binaries(n, seed):
    rng = np.random.default_rng(seed)
    s, q, w = binary_sample(rng, n)
    z, m = jax.vmap(binary_lenses)(s, q)
    ours = np.asarray(batched(jnp.asarray(w), z, m))
    v = vbm()
    ref = np.array([v.BinaryMag0(a, b, c.real, c.imag) for a, b, c in zip(s, q, w)])
    assert np.all(np.isfinite(ours))
    rel = np.abs(ours / ref - 1)
    off = np.flatnonzero(rel > 1e-8)
    # VBMicrolensing's own point-source solver loses accuracy at high magnification (near cusps);
    # where we differ from it, an extended-precision solution decides, and must side with us
    for i in off:
        precise, _ = precise_magnification(w[i], z[i], m[i])
        assert abs(ours[i] / precise - 1) < 1e-8, (s[i], q[i], w[i], ours[i], ref[i], precise)
        assert abs(ref[i] / precise - 1) > abs(ours[i] / precise - 1)
    assert off.size <= 0.05 * n, f"{off.size} of {n} points differ from VBMicrolensing"
    return rel


def test_binary_matches_vbmicrolensing_fast():
    check_binaries(200, seed=1)


@pytest.mark.slow
def test_binary_matches_vbmicrolensing_1000_points():
    check_binaries(1500, seed=2)


def check_triples(n_systems, n_points, seed):
    rng = np.random.default_rng(seed)
    v = vbm()
    f = jax.jit(jax.vmap(point_magnification, in_axes=(0, None, None)))
    for _ in range(n_systems):
        s, s13 = 10 ** rng.uniform(np.log10(0.3), np.log10(3.0), 2)
        q, q3 = 10 ** rng.uniform(-4.0, 0.0, 2)
        z, m = triple_lenses(s, q, s13, q3, rng.uniform(0, 2 * np.pi))
        zn, mn = np.asarray(z), np.asarray(m)
        v.SetLensGeometry([x for k in range(3) for x in (zn[k].real, zn[k].imag, mn[k])])
        w = rng.uniform(-1.5, 1.5, n_points) + 1j * rng.uniform(-1.5, 1.5, n_points)
        ours = np.asarray(f(jnp.asarray(w), z, m))
        ref = np.array([v.MultiMag0(c.real, c.imag) for c in w])
        np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_triple_matches_vbmicrolensing_fast():
    check_triples(4, 40, seed=3)


@pytest.mark.slow
def test_triple_matches_vbmicrolensing_many():
    check_triples(40, 50, seed=4)


def test_triple_with_two_planets_matches_vbmicrolensing():
    """Two light lenses (q, q3 1e-5–1e-4), sources placed where the primary's minor image falls
    near a planet (w = z_p − m_1/conj(z_p − z_1) plus up to 0.05 θ_E): the polynomial's roots near
    the heavier planet are ~1e-4 θ_E off, and the plain Newton step of the lens equation never
    reached the faint image beside it (the step's pole at the planet), so that image was lost:
    up to 9e-4 low at A ~ 1.1. The pole-free step (``point._newton_step``) reaches it."""
    rng = np.random.default_rng(5)
    v = vbm()
    worst = 0.0
    for _ in range(12):
        s, s13 = 10 ** rng.uniform(np.log10(0.5), np.log10(2.0), 2)
        q, q3 = 10 ** rng.uniform(-5.0, -4.0, 2)
        z, m = triple_lenses(s, q, s13, q3, rng.uniform(0, 2 * np.pi))
        zn, mn = np.asarray(z), np.asarray(m)
        v.SetLensGeometry([x for k in range(3) for x in (zn[k].real, zn[k].imag, mn[k])])
        planet = zn[1 + rng.integers(2)]
        w = (planet - mn[0] / np.conj(planet - zn[0])
             + 0.05 * np.sqrt(rng.uniform(size=40)) * np.exp(2j * np.pi * rng.uniform(size=40)))
        ours = np.asarray(batched(jnp.asarray(w), *_per_point(z, m, w.size)))
        ref = np.array([v.MultiMag0(c.real, c.imag) for c in w])
        worst = max(worst, np.max(np.abs(ours / ref - 1)))
    assert worst < 1e-9, worst


def test_binary_matches_mulensmodel_light_curve():
    mm = pytest.importorskip("MulensModel")
    s, q, u0, alpha = 1.1, 0.2, 0.05, 0.8
    model = mm.Model({"t_0": 0.0, "u_0": u0, "t_E": 1.0, "s": s, "q": q,
                      "alpha": np.degrees(alpha)})
    tau = np.linspace(-1.5, 1.5, 61)
    ref = model.get_magnification(tau)
    y1 = u0 * np.sin(alpha) - tau * np.cos(alpha)
    y2 = -u0 * np.cos(alpha) - tau * np.sin(alpha)
    z, m = binary_lenses(s, q)
    ours = np.asarray(jax.vmap(point_magnification, in_axes=(0, None, None))(
        jnp.asarray(y1 + 1j * y2), z, m))
    np.testing.assert_allclose(ours, ref, rtol=1e-8)


def test_point_lens_closed_form_and_polynomial_agree():
    u = np.geomspace(1e-3, 10, 50)
    closed = np.asarray(point_lens_magnification(u))
    exact = (u**2 + 2) / (u * np.sqrt(u**2 + 4))
    np.testing.assert_allclose(closed, exact, rtol=1e-14)
    poly = np.asarray(batched(jnp.asarray(u + 0j), *_per_point(jnp.zeros(1, complex),
                                                                jnp.ones(1), u.size)))
    np.testing.assert_allclose(poly, exact, rtol=1e-10)
    assert np.isfinite(point_lens_magnification(0.0))


def test_images_solve_lens_equation_with_parities():
    z, m = binary_lenses(1.0, 0.5)
    w = 0.02 + 0.01j  # inside the central caustic: five images
    zi, parity = images(w, z, m)
    true = np.asarray(parity) != 0
    assert true.sum() == 5
    zi = np.asarray(zi)[true]
    lens_eq = zi - np.sum(np.asarray(m) / np.conj(zi[:, None] - np.asarray(z)), axis=1)
    np.testing.assert_allclose(lens_eq, w, atol=1e-12)
    det = np.asarray(jacobian_determinant(zi, z, m))
    np.testing.assert_array_equal(np.sign(det), np.asarray(parity)[true])
    # Σ parity / |det J| = Σ 1/det J = 1 for any point lens system (Witt & Mao 1995)
    np.testing.assert_allclose(np.sum(1 / det), 1.0, atol=1e-10)
    far = images(3.0 + 0j, z, m)[1]
    assert int(np.sum(np.asarray(far) != 0)) == 3


def test_fold_pair_close_to_a_critical_curve_is_kept_whole():
    """Sources ~1e-13 θ_E inside a fold of a planetary caustic: the new image pair sits at
    det J ~ ±1e-8, where a Newton-step test alone dropped one of the two (rounding in F is
    magnified by 1/det J). Both must be kept (5 images, negative minus positive parities = 1),
    and the magnification must match the extended-precision solution."""
    z, m = binary_lenses(1.2, 1e-3)
    centre = -0.00104 - 0.00003j
    for theta in (0.295725956085468, 0.29572596388769773, 0.31267324955651243):
        w = centre + 1e-4 * np.exp(1j * theta)
        _, parity = images(w, z, m)
        parity = np.asarray(parity)
        assert np.sum(parity != 0) == 5, parity
        assert np.sum(parity < 0) - np.sum(parity > 0) == 1, parity
        precise, n_found = precise_magnification(w, z, m)
        assert n_found == 5
        # A ~ 1e8 here: double precision limits the relative accuracy to ~eps·A; a dropped image
        # would be off by ~50 %
        assert abs(float(point_magnification(w, z, m)) / precise - 1) < 1e-2


def test_on_caustic_is_finite():
    z, m = binary_lenses(1.0, 1.0)
    _, caustic = caustics(z, m, 64)
    w = jnp.asarray(np.asarray(caustic).ravel()[:32])
    a = np.asarray(batched(w, *_per_point(z, m, w.size)))
    # exactly on a caustic the merging pair may be dropped (see point.py): finite, never NaN
    assert np.all(np.isfinite(a)) and np.all(a > 0) and np.all(a <= 5 * MAX_IMAGE_MAGNIFICATION)
    g = jax.jit(jax.vmap(jax.grad(lambda w: point_magnification(w, z, m))))(w)
    assert np.all(np.isfinite(np.asarray(g)))


def test_gradients_match_finite_differences():
    def a_of(p):
        z, m = binary_lenses(p[0], p[1])
        return point_magnification(p[2] + 1j * p[3], z, m)

    a_of = jax.jit(a_of)
    for p in ([1.2, 0.3, 0.05, 0.1], [0.7, 1e-3, -0.6, 0.02], [2.0, 2.0, 0.4, -0.3]):
        p = jnp.asarray(p)
        grad = np.asarray(jax.grad(a_of)(p))
        assert np.all(np.isfinite(grad))
        h = 1e-6
        fd = np.array([(a_of(p.at[i].add(h)) - a_of(p.at[i].add(-h))) / (2 * h) for i in range(4)])
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)
        # forward mode through the implicit step agrees with reverse mode
        fwd = np.asarray(jax.jacfwd(a_of)(p))
        np.testing.assert_allclose(fwd, grad, rtol=1e-10)


def test_triple_gradient_matches_finite_differences():
    def a_of(p):
        z, m = triple_lenses(p[0], p[1], p[2], p[3], p[4])
        return point_magnification(0.1 + 0.05j, z, m)

    a_of = jax.jit(a_of)
    p = jnp.asarray([1.0, 0.2, 0.8, 0.05, 1.0])
    grad = np.asarray(jax.grad(a_of)(p))
    h = 1e-6
    fd = np.array([(a_of(p.at[i].add(h)) - a_of(p.at[i].add(-h))) / (2 * h) for i in range(5)])
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def test_image_positions_vmap_and_jit_agree():
    z, m = binary_lenses(0.8, 0.1)
    w = jnp.asarray([0.1 + 0.2j, -0.3 + 0.0j])
    jitted = jax.jit(jax.vmap(image_positions, in_axes=(0, None, None)))(w, z, m)
    eager = [image_positions(x, z, m) for x in w]
    for k in range(2):
        np.testing.assert_allclose(np.asarray(jitted[0][k]), np.asarray(eager[k][0]), atol=1e-12)
        np.testing.assert_array_equal(np.asarray(jitted[1][k]), np.asarray(eager[k][1]))


@pytest.mark.parametrize("n", [0, 1, 37])
def test_blocks_give_what_one_vmap_gives(n):
    """``in_blocks`` (a lax.map of vmapped blocks, the last one partial) returns, point for point,
    what a single vmap over all points returns, magnifications and their gradients alike."""
    rng = np.random.default_rng(n)
    s = jnp.asarray(10 ** rng.uniform(-0.5, 0.5, n))
    q = jnp.asarray(10 ** rng.uniform(-4, 0, n))
    w = jnp.asarray(rng.uniform(-1.5, 1.5, n) + 1j * rng.uniform(-1.5, 1.5, n))

    def one(s, q, w):
        return point_magnification(w, *binary_lenses(s, q))

    blocked = jax.jit(lambda *a: in_blocks(one, *a, block=16))(s, q, w)
    plain = jax.jit(jax.vmap(one))(s, q, w)
    assert blocked.shape == (n,)
    np.testing.assert_allclose(np.asarray(blocked), np.asarray(plain), rtol=1e-12)
    grad = jax.grad(one, argnums=(0, 1))
    g_blocked = jax.jit(lambda *a: in_blocks(grad, *a, block=16))(s, q, w)
    g_plain = jax.jit(jax.vmap(grad))(s, q, w)
    for a, b in zip(g_blocked, g_plain):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)


def test_abs2_is_the_squared_modulus():
    c = jnp.asarray([3 + 4j, -1e-200 + 0j, 0j, 2.5 - 1e150j])
    np.testing.assert_allclose(np.asarray(abs2(c)), np.abs(np.asarray(c)) ** 2, rtol=1e-15)



def test_lens_starts_reach_the_roots_from_the_circle_in_fewer_iterations():
    """The binary lens's Aberth starts (the lenses' single-lens images and the Vieta fifth) find
    the same five roots as Aberth's circle, on random draws, on the lens axis (real
    coefficients) and with the source on a lens, in fewer iterations over all draws."""
    from lensframe_micro.point import lens_starts
    from lensframe_micro.roots import _aberth_step, initial_guesses

    def solve(w, z, m, use_starts):
        origin = z[jnp.argmin(m)]
        c = lens_polynomial(w - origin, z - origin, m)
        x = lens_starts(c, w - origin, z - origin, m) if use_starts else initial_guesses(c)
        off = ~jnp.eye(5, dtype=bool)

        def step(carry):
            i, xr, xi, _ = carry
            return (i + 1, *_aberth_step(c.real, c.imag, xr, xi, off))

        i, xr, xi, _ = jax.lax.while_loop(lambda k: (k[0] < 40) & (k[3] >= 1e-10), step,
                                          (0, x.real, x.imag, jnp.inf))
        return i, jax.lax.complex(xr, xi) + origin, jnp.polyval(c, jax.lax.complex(xr, xi))

    rng = np.random.default_rng(3)
    n = 400
    s = 10 ** rng.uniform(np.log10(0.2), np.log10(5.0), n)
    q = 10 ** rng.uniform(-5.0, 0.0, n)
    z, m = jax.vmap(binary_lenses)(jnp.asarray(s), jnp.asarray(q))
    w = rng.uniform(-2, 2, n) + 1j * rng.uniform(-2, 2, n)
    w[:100] = w[:100].real                     # on the lens axis
    w[100:110] = np.asarray(z[100:110, 0])     # on the heavier lens
    w[110:120] = np.asarray(z[110:120, 1])     # on the lighter lens
    run = jax.jit(jax.vmap(solve, in_axes=(0, 0, 0, None)), static_argnums=3)
    it_new, roots_new, p_new = (np.asarray(a) for a in run(jnp.asarray(w), z, m, True))
    it_old, roots_old, _ = (np.asarray(a) for a in run(jnp.asarray(w), z, m, False))
    assert np.all(np.isfinite(roots_new)) and it_new.max() < 40
    off_lens = np.r_[0:100, 120:n]   # on a lens the circle fails (every root NaN, see below)
    assert not np.any(np.isfinite(roots_old[100:120]))
    gap = np.abs(roots_old[off_lens, :, None] - roots_new[off_lens, None, :]).min(axis=2)
    assert gap.max() < 1e-8          # the same five roots (ill-conditioned ones agree to ~1e-13)
    assert np.abs(p_new[off_lens]).max() < 1e-8
    assert it_new[off_lens].sum() < 0.8 * it_old[off_lens].sum()


@pytest.mark.parametrize("lenses", [binary_lenses(1.0, 0.1), binary_lenses(0.7, 1e-3),
                                    binary_lenses(2.0, 0.5), triple_lenses(1.0, 0.1, 0.8, 0.01, 1.0),
                                    triple_lenses(0.6, 1e-3, 1.3, 0.3, 2.5)])
def test_source_on_and_near_a_lens(lenses):
    """On a lens the polynomial loses its leading coefficient (a root at infinity) and close to
    one Aberth's circle is huge: the magnification there once came out 0 (binaries exactly on a
    lens, triples within ~1e-6 θ_E). It matches VBMicrolensing's ``MultiMag0`` from 0 to 1e-2 θ_E
    off each lens, and its gradient is finite on the lens."""
    z, m = lenses
    v = vbm()
    zn, mn = np.asarray(z), np.asarray(m)
    v.SetLensGeometry([x for k in range(len(mn)) for x in (zn[k].real, zn[k].imag, mn[k])])

    eps = np.array([0.0, 1e-12, 1e-8, 1e-6, 1e-4, 1e-3, 2e-3, 1e-2])
    w = (zn[:, None] + eps * (1 + 0.5j)).ravel()        # every lens, every distance: one call
    ours = np.asarray(batched(jnp.asarray(w), *_per_point(z, m, w.size)))
    reference = [v.MultiMag0(x.real, x.imag) for x in w]
    np.testing.assert_allclose(ours, reference, rtol=1e-7)
    grad = np.asarray(gradient_in_y(jnp.asarray(zn.real), jnp.asarray(zn.imag),
                                    *_per_point(z, m, zn.size)))
    assert np.all(np.isfinite(grad))
