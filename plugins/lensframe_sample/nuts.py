"""The No-U-Turn sampler (blackjax), several chains ``vmap``ped, in unconstrained space.

NUTS (Hoffman & Gelman 2014) in blackjax's multinomial form (Betancourt 2017) samples
ln p(θ(z) | data) + ln |dθ/dz| over the priors' unconstrained space z, so no trajectory leaves the
prior's support; the samples returned are θ(z). Each chain first runs blackjax's
``window_adaptation`` (Stan's warm-up: dual averaging of the step size towards
``target_accept``, and a diagonal or dense inverse mass matrix from Welford estimates over doubling
windows), then ``n_samples`` NUTS transitions with its own adapted step size and mass matrix.

Compiled pieces: the warm-up of all chains is ONE compiled call (blackjax's ``window_adaptation``
runs its own ``lax.scan`` over a schedule fixed by the number of steps and exposes no way to resume
it, so it cannot be cut into chunks); the progress display shows it as a one-step task. The
sampling runs in compiled chunks of ``chunk`` transitions (a ``lax.scan``), the bar moving between
chunks.

Start: ``init_from``'s samples (one per chain, by weight) when it has them, else its best fit plus
``init_scale`` jitter in z, else draws from the prior; candidates with a finite log-density first
(a chain started at −∞ never moves: its step size collapses in warm-up).

Diagnostics: split-R̂ and bulk ESS per parameter (Vehtari et al. 2021, :mod:`lensframe.diagnostics`),
divergent transitions (sampling; warm-up ones separately), mean acceptance, the adapted step sizes,
and the gradient evaluations (leapfrog steps, warm-up included). A NaN log-density is −∞ to the
sampler, so a trajectory entering such a region ends as a divergence; ``n_nonfinite`` counts the
transitions whose trajectory ended on a non-finite log-density. Ctrl-C during sampling keeps the
transitions done so far (``diagnostics["interrupted"]``); during warm-up there is nothing to keep
and the interrupt propagates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.fitter import FitterPlugin, require_free_parameters
from lensframe.options import positive

from ._host import (batched, chain_diagnostics, nan_to_minus_inf, sample_result,
                    start_candidates, starting_points)


@dataclass(frozen=True)
class NUTSOptions:
    n_chains: int = field(default=4, metadata={"help": "independent chains (vmapped)"})
    n_warmup: int = field(default=500, metadata={"help": "warm-up (adaptation) steps per chain"})
    n_samples: int = field(default=1000, metadata={"help": "kept transitions per chain"})
    chunk: int = field(default=50, metadata={"help": "transitions per compiled chunk"})
    target_accept: float = field(default=0.8, metadata={
        "help": "acceptance rate the step size is tuned to, in (0, 1)"})
    mass_matrix: Literal["diagonal", "dense"] = field(default="diagonal", metadata={
        "help": "inverse mass matrix adapted in warm-up: 'diagonal' or 'dense'"})
    max_tree_depth: int = field(default=10, metadata={
        "help": "largest number of trajectory doublings (≤ 2^depth leapfrog steps)"})
    init_scale: float = field(default=0.1, metadata={
        "help": "jitter (unconstrained units) of the chains' starts around init_from's best"})

    def __post_init__(self):
        for name in ("n_chains", "n_warmup", "n_samples", "chunk", "max_tree_depth",
                     "init_scale"):
            positive(name, getattr(self, name))
        if not 0.0 < self.target_accept < 1.0:
            raise ValueError(f"option 'target_accept' must be in (0, 1), got "
                             f"{self.target_accept}")
        if self.mass_matrix not in ("diagonal", "dense"):
            raise ValueError(f"option 'mass_matrix' must be 'diagonal' or 'dense', got "
                             f"{self.mass_matrix!r}")


class Trace(NamedTuple):
    position: jax.Array       # (chains, chunk, d) unconstrained
    logdensity: jax.Array     # (chains, chunk)
    divergent: jax.Array      # (chains, chunk)
    acceptance: jax.Array     # (chains, chunk)
    n_leapfrog: jax.Array     # (chains, chunk)
    nonfinite: jax.Array      # (chains, chunk)


class NUTS(FitterPlugin):
    Options = NUTSOptions
    reference = ("Hoffman & Gelman (2014), JMLR 15, 1593; blackjax window_adaptation + nuts "
                 "(Cabezas et al. 2024)")

    def run(self, problem, options, *, key, init_from, programs, progress):
        import blackjax
        from blackjax.adaptation.base import get_filter_adapt_info_fn

        require_free_parameters(problem, "nuts")
        dim, n_chains = problem.dim, options.n_chains

        def target(args):
            def logdensity(z):
                return nan_to_minus_inf(problem.log_density_unconstrained(z, args))[0]
            return logdensity

        def warmup(keys, z0, args):
            adaptation = blackjax.window_adaptation(
                blackjax.nuts, target(args),
                is_mass_matrix_diagonal=options.mass_matrix == "diagonal",
                target_acceptance_rate=options.target_accept,
                max_num_doublings=options.max_tree_depth,
                adaptation_info_fn=get_filter_adapt_info_fn(
                    info_keys={"num_integration_steps", "is_divergent"}))

            def one(k, z):
                (state, params), info = adaptation.run(k, z, options.n_warmup)
                return (state, params["step_size"], params["inverse_mass_matrix"],
                        jnp.sum(info.info.num_integration_steps),
                        jnp.sum(info.info.is_divergent))
            return jax.vmap(one)(keys, z0)

        def sample_chunk(states, keys, step_sizes, inverse_mass, args):
            logdensity = target(args)

            def one(state, k, step_size, imm):
                kernel = blackjax.nuts(logdensity, step_size, imm,
                                       max_num_doublings=options.max_tree_depth)

                def step(s, k_step):
                    s, info = kernel.step(k_step, s)
                    ends = jnp.stack([info.trajectory_leftmost_state.logdensity,
                                      info.trajectory_rightmost_state.logdensity])
                    return s, Trace(s.position, s.logdensity, info.is_divergent,
                                    info.acceptance_rate, info.num_integration_steps,
                                    jnp.any(~jnp.isfinite(ends)))
                return jax.lax.scan(step, state, jax.random.split(k, options.chunk))
            return jax.vmap(one)(states, keys, step_sizes, inverse_mass)

        def to_theta(zs, args):
            thetas, logjac = batched(problem.from_unconstrained)(zs, args)
            return thetas, logjac

        args = problem.args
        k_init, k_warm, k_sample = jax.random.split(key, 3)
        z0 = starting_points(problem, init_from, n_chains, k_init, args,
                             programs.compile("nuts_starts", start_candidates(problem)),
                             options.init_scale)
        warmup_c = programs.compile("nuts_warmup", warmup)
        chunk_c = programs.compile("nuts_chunk", sample_chunk)
        to_theta_c = programs.compile("nuts_to_theta", to_theta)

        with progress.task(f"nuts warm-up ×{n_chains}", total=1) as tick:
            tick(0, status=f"{options.n_warmup} adaptation steps per chain, one compiled call")
            states, step_sizes, inverse_mass, warm_leapfrog, warm_divergent = warmup_c(
                jax.random.split(k_warm, n_chains), z0, args)
            tick(1, status=f"step sizes {np.round(np.asarray(step_sizes), 3).tolist()}")

        n_chunks = -(-options.n_samples // options.chunk)
        traces: list[Trace] = []
        interrupted_at = None
        with progress.task(f"nuts ×{n_chains}", total=n_chunks * options.chunk) as tick:
            try:
                for i in range(n_chunks):
                    keys = jax.random.split(jax.random.fold_in(k_sample, i), n_chains)
                    states, trace = chunk_c(states, keys, step_sizes, inverse_mass, args)
                    traces.append(jax.tree_util.tree_map(np.asarray, trace))
                    n_div = sum(int(t.divergent.sum()) for t in traces)
                    tick(options.chunk, status=f"accept {np.mean(trace.acceptance):.2f}, "
                                               f"divergent {n_div}")
            except KeyboardInterrupt:
                interrupted_at = (f"sampling transition {len(traces) * options.chunk} of "
                                  f"{n_chunks * options.chunk}")
        if not traces:
            raise KeyboardInterrupt("nuts interrupted before its first sampling chunk: nothing "
                                    "to keep")

        trace = Trace(*(np.concatenate(parts, axis=1) for parts in zip(*traces)))
        z = trace.position.reshape(-1, dim)
        thetas, logjac = (np.asarray(a) for a in to_theta_c(jnp.asarray(z), args))
        log_density_theta = trace.logdensity.reshape(-1) - logjac
        chains = thetas.reshape(n_chains, -1, dim)
        diagnostics = {
            "n_chains": n_chains, "n_warmup": options.n_warmup,
            "n_samples": int(chains.shape[1]), "mass_matrix": options.mass_matrix,
            "divergences": int(trace.divergent.sum()),
            "divergences_per_chain": trace.divergent.sum(axis=1).tolist(),
            "warmup_divergences": int(np.sum(warm_divergent)),
            "mean_acceptance": float(np.mean(trace.acceptance)),
            "step_size": np.asarray(step_sizes).tolist(),
            "n_gradient_evaluations": int(np.sum(warm_leapfrog) + trace.n_leapfrog.sum()),
            "n_nonfinite": int(trace.nonfinite.sum()),
            **chain_diagnostics(chains),
        }
        return sample_result("nuts", problem, thetas, log_density_theta, diagnostics, interrupted_at,
                             chains=chains)
