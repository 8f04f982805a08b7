"""Critical curves and caustics of n point lenses, for plotting.

Critical curves are where det J = 1 − |Σ_k m_k/(z − z_k)²|² = 0, i.e. Σ_k m_k/(z − z_k)² = e^{iφ}
for some φ; clearing denominators gives, for each φ, the degree-2n polynomial

    Σ_k m_k Π_{j≠k} (z − z_j)² − e^{iφ} Π_k (z − z_k)² = 0

(Witt 1990, A&A 236, 311). Caustics are their images w = z − Σ_k m_k / conj(z − z_k). The roots are
followed continuously along the φ grid (each φ's Ehrlich–Aberth iterations start from the previous
φ's roots, in one ``lax.scan``), so column j of the output is a connected piece of curve: joining
consecutive points draws it. Units: θ_E of the total mass.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .roots import polynomial_roots

#: Aberth iterations per φ step when starting from the previous step's roots
_STEP_ITER = 8


def _critical_polynomial(phi, z, m):
    n = z.shape[0]
    squares = [jnp.convolve(jnp.array([1.0 + 0j, -zk]), jnp.array([1.0 + 0j, -zk])) for zk in z]
    total = jnp.ones((1,), complex)
    for sq in squares:
        total = jnp.convolve(total, sq)
    rest = jnp.zeros((2 * n - 1,), complex)
    for k in range(n):
        p = jnp.ones((1,), complex)
        for j in range(n):
            if j != k:
                p = jnp.convolve(p, squares[j])
        rest = rest + m[k] * p
    return jnp.concatenate([jnp.zeros((2,), complex), rest]) - jnp.exp(1j * phi) * total


def critical_curves(z, m, n_phi: int = 512):
    """Critical-curve points, complex (n_phi + 1, 2n): row i solves the equation at φ_i = 2π i/n_phi
    (the last row closes the loop at φ = 2π); column j follows one root continuously."""
    z = jnp.asarray(z, complex)
    m = jnp.asarray(m, float).astype(complex)
    phis = jnp.linspace(0.0, 2.0 * jnp.pi, n_phi + 1)
    first = polynomial_roots(_critical_polynomial(phis[0], z, m), 60)

    def step(prev, phi):
        roots = polynomial_roots(_critical_polynomial(phi, z, m), _STEP_ITER, start=prev)
        return roots, roots

    _, rest = jax.lax.scan(step, first, phis[1:])
    return jnp.concatenate([first[None], rest])


def caustics(z, m, n_phi: int = 512):
    """(critical, caustic): complex (n_phi + 1, 2n) critical-curve points and their images under the
    lens equation (see :func:`critical_curves`)."""
    z = jnp.asarray(z, complex)
    m = jnp.asarray(m, float)
    crit = critical_curves(z, m, n_phi)
    caus = crit - jnp.sum(m / jnp.conj(crit[..., None] - z), axis=-1)
    return crit, caus


def closed_curve_count(critical):
    """Number of separate closed critical curves traced by :func:`critical_curves`.

    After a full turn of φ the roots come back permuted; each cycle of that permutation is one
    closed curve (a curve around which e^{iφ} winds k times carries k roots per φ)."""
    import numpy as np

    crit = np.asarray(critical)
    start, end = crit[0], crit[-1]
    perm = np.argmin(np.abs(end[:, None] - start[None, :]), axis=1)
    seen, cycles = set(), 0
    for i in range(len(perm)):
        if i in seen:
            continue
        cycles += 1
        j = i
        while j not in seen:
            seen.add(j)
            j = perm[j]
    return cycles
