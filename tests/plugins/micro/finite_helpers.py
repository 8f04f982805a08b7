"""Test helpers for the finite-source tests: caustic points (numpy, independent of the plugin) and
VBMicrolensing references at tight tolerances."""

import numpy as np


def caustic_points(z, m, n_phi=100):
    """Caustic points of lenses z (complex), m: roots of Σ m_k Π_{l≠k}(x − z_l)² = e^{iφ} Π (x − z_l)²
    (the critical curves, |Σ m_k/(x − z_k)²| = 1) mapped through the lens equation."""
    z = np.asarray(z, complex)
    m = np.asarray(m, float)
    squares = [np.poly1d([1.0, -zk]) ** 2 for zk in z]
    product = np.poly1d([1.0 + 0j])
    for sq in squares:
        product = product * sq
    weighted = np.poly1d([0j])
    for k in range(len(z)):
        term = np.poly1d([m[k] + 0j])
        for l, sq in enumerate(squares):
            if l != k:
                term = term * sq
        weighted = weighted + term
    out = []
    for phi in np.linspace(0.0, 2 * np.pi, n_phi, endpoint=False):
        crit = (weighted - np.exp(1j * phi) * product).roots
        out.extend(crit - np.sum(m / np.conj(crit[:, None] - z), axis=1))
    return np.array(out)


def near_caustic(z, m, rho, n, rng):
    """n source centres within 1.5 rho of random caustic points."""
    caustic = caustic_points(z, m)
    centre = caustic[rng.integers(0, caustic.size, n)]
    return centre + rho * rng.uniform(0.0, 1.5, n) * np.exp(2j * np.pi * rng.uniform(size=n))


def vbm_binary(s, q, w, rho, a1=0.0):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    vbm.RelTol = 1e-7
    vbm.Tol = 1e-7
    vbm.a1 = a1
    return np.array([vbm.BinaryMag2(s, q, x.real, x.imag, rho) for x in np.atleast_1d(w)])
