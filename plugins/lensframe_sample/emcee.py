"""emcee's affine-invariant ensemble sampler over a compiled, batched log-density.

The stretch move (Goodman & Weare 2010) as implemented by emcee (Foreman-Mackey et al. 2013) with
``vectorize=True``: each half-ensemble update is one call of a compiled batched log-density
(padded to a power-of-two batch, so a few programs serve every batch size).

Space: the walkers live in the priors' unconstrained space z (``problem.from_unconstrained``), and
the target is ln p(θ(z) | data) + ln |dθ/dz|. The stretch move is affine-invariant, not
invariant under nonlinear maps, so the choice matters: in z no proposal ever leaves the prior's
support (in θ space a walker near a wall has up to half of its stretch proposals rejected outright,
and a posterior pressed against a wall is skewed there), and one-sided priors (log-uniform) become
closer to symmetric. The samples returned are θ(z).

Initial ensemble: rows drawn from ``init_from``'s samples when it has them (by weight), else a ball
of radius ``init_scale`` (unconstrained units) around its best fit, else draws from the prior; of
4 × n_walkers such candidates those with a finite log-density are used first (a walker at −∞
never moves).

Result: ``samples`` is the flattened chain after ``burn`` steps, thinned by ``thin``; the best fit
is the sample of highest ln p(θ). Diagnostics: mean acceptance fraction, emcee's integrated
autocorrelation time (``tol=0``: an estimate even for short chains, with ``autocorr_reliable``
saying whether the chain is longer than 50 τ), split-R̂ and bulk ESS with the walkers taken as
chains, likelihood calls and NaN evaluations (``n_nonfinite``). Ctrl-C keeps the steps done so far
(``diagnostics["interrupted"]``); if burn-in was not finished, half of the steps so far are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.batching import over_batch
from lensframe.errors import LensframeError
from lensframe.fitter import FitterPlugin, require_free_parameters
from lensframe.options import positive

from ._host import (BatchedLogFunction, batched, chain_diagnostics, nan_to_minus_inf,
                    sample_result, seed_of, start_candidates, starting_points)


@dataclass(frozen=True)
class EmceeOptions:
    n_walkers: int | None = field(default=None, metadata={
        "help": "walkers in the ensemble (default max(2·dim + 2, 32); at least 2·dim)"})
    n_steps: int = field(default=2000, metadata={"help": "ensemble updates, burn-in included"})
    burn: int = field(default=500, metadata={"help": "first steps discarded as burn-in"})
    thin: int = field(default=1, metadata={"help": "keep every thin-th step after burn-in"})
    init_scale: float = field(default=1e-2, metadata={
        "help": "radius (unconstrained units) of the initial ball around init_from's best fit"})
    stretch: float = field(default=2.0, metadata={"help": "scale a of the stretch move (> 1)"})

    def __post_init__(self):
        if self.n_walkers is not None:
            positive("n_walkers", self.n_walkers)
        for name in ("n_steps", "thin", "init_scale"):
            positive(name, getattr(self, name))
        positive("burn", self.burn, allow_zero=True)
        if self.burn >= self.n_steps:
            raise ValueError(f"option 'burn' ({self.burn}) must be smaller than 'n_steps' "
                             f"({self.n_steps})")
        if self.stretch <= 1.0:
            raise ValueError(f"option 'stretch' must be > 1, got {self.stretch}")


class Emcee(FitterPlugin):
    Options = EmceeOptions
    reference = ("Foreman-Mackey et al. (2013), PASP 125, 306 (emcee); Goodman & Weare (2010), "
                 "Comm. App. Math. Comp. Sci. 5, 65")

    def run(self, problem, options, *, key, init_from, programs, progress):
        import emcee

        require_free_parameters(problem, "emcee")
        dim = problem.dim
        n_walkers = options.n_walkers or max(2 * dim + 2, 32)
        if n_walkers < 2 * dim:
            raise LensframeError(f"fitter 'emcee': option 'n_walkers' ({n_walkers}) must be at "
                                 f"least twice the number of free parameters ({2 * dim})")
        args = problem.args

        def log_density(zs, args):
            # lax.map over small vmapped chunks on a CPU: faster per point than one vmap
            values = over_batch(problem.log_density_unconstrained)(zs, args)
            return nan_to_minus_inf(values)

        def to_theta(zs, args):
            thetas, logjac = batched(problem.from_unconstrained)(zs, args)
            return thetas, logjac

        to_theta_c = programs.compile("emcee_to_theta", to_theta)
        k_init, k_seed = jax.random.split(key)
        z0 = starting_points(problem, init_from, n_walkers, k_init, args,
                             programs.compile("emcee_starts", start_candidates(problem)),
                             options.init_scale)
        logp = BatchedLogFunction(programs.compile("emcee_log_density", log_density), args,
                                  pad_value=z0[0])
        seed = seed_of(k_seed)

        sampler = emcee.EnsembleSampler(n_walkers, dim, logp, vectorize=True,
                                        moves=emcee.moves.StretchMove(a=options.stretch))
        every = max(1, options.n_steps // 200)
        interrupted_at = None
        with progress.task(f"emcee ×{n_walkers}", total=options.n_steps) as tick:
            try:
                start = emcee.State(z0, random_state=np.random.RandomState(seed).get_state())
                for i, _ in enumerate(sampler.sample(start, iterations=options.n_steps)):
                    if (i + 1) % every == 0:
                        tick(every, status=f"acceptance "
                                           f"{np.mean(sampler.acceptance_fraction):.2f}")
            except KeyboardInterrupt:
                interrupted_at = (f"step {sampler.iteration} of {options.n_steps}"
                                  + (" (during burn-in)" if sampler.iteration <= options.burn
                                     else ""))

        done = sampler.iteration
        if done == 0:
            raise KeyboardInterrupt("emcee interrupted before its first step: nothing to keep")
        burn = options.burn if done > options.burn else done // 2
        chain_z = sampler.get_chain(discard=burn, thin=options.thin)   # (steps, walkers, dim)
        logp_z = sampler.get_log_prob(discard=burn, thin=options.thin)
        flat_z = chain_z.reshape(-1, dim)
        thetas, logjac = (np.asarray(a) for a in to_theta_c(jnp.asarray(flat_z), args))
        log_density_theta = logp_z.reshape(-1) - logjac
        chains = thetas.reshape(chain_z.shape).transpose(1, 0, 2)   # (walkers, steps, dim)

        diagnostics = {
            "n_walkers": n_walkers, "n_steps": done, "burn": burn, "thin": options.thin,
            "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
            "acceptance_fraction_range": [float(np.min(sampler.acceptance_fraction)),
                                          float(np.max(sampler.acceptance_fraction))],
            "n_likelihood_calls": logp.n_calls, "n_nonfinite": logp.n_nonfinite,
            "likelihood_seconds": round(logp.seconds, 3),
            **_autocorrelation(sampler, burn), **chain_diagnostics(chains),
        }
        return sample_result("emcee", problem, thetas, log_density_theta, diagnostics, interrupted_at,
                             chains=chains)


def _autocorrelation(sampler, burn) -> dict:
    """emcee's integrated autocorrelation time per parameter (Goodman & Weare 2010, §3), with
    ``tol=0`` so a short chain still gets an estimate; ``autocorr_reliable`` is emcee's own
    criterion (chain longer than 50 τ)."""
    chain = sampler.get_chain(discard=burn)
    if len(chain) < 2:
        return {}
    with np.errstate(invalid="ignore", divide="ignore"):  # a walker that never moved: NaN
        tau = np.asarray(sampler.get_autocorr_time(discard=burn, tol=0, quiet=True))
    return {"autocorr_time": tau.tolist(),
            "autocorr_reliable": bool(len(chain) > 50 * np.max(tau))}
