"""Nested sampling with neural-network-boosted importance sampling (nautilus): posterior and
evidence.

nautilus (Lange 2023) explores the likelihood over the unit hypercube in shells bounded by
neural-network emulators of the likelihood and combines every point by importance sampling. Here
its prior transform is the identity and the compiled, batched log-likelihood takes unit-cube points,
ln L(from_unit(u)) (``problem.from_unit`` applies the priors' inverse CDFs): one compiled program,
and the points map to parameters once at the end. ``vectorized=True``: nautilus hands batches of
varying size, each padded to the next power of two so only a few shapes are compiled.

Stopping: nautilus stops when the effective sample size of the posterior reaches ``n_eff`` (and the
live set holds less than ``f_live`` of the evidence). ``discard_exploration`` drops the points of
the exploration phase from the posterior (unbiased, as nautilus recommends for publication runs).

Evidence error: nautilus returns ln Z without an error. Its estimate is an importance-sampling sum
Z = (1/N) Σ w_i over the N points with importance weights w_i; the standard error of such a mean,
relative to Z, is √[(1/N)(N Σw² / (Σw)² − 1)] = √(1/n_eff − 1/N) with n_eff = (Σw)² / Σw² (Kish),
which is what ``log_evidence_error`` reports (a first-order error of ln Z; it ignores that the
shells' bounds depend on the points, so treat it as a lower bound of the true scatter). On the
3-parameter Gaussian of the tests (n_live = 200, n_eff = 1000) it is ≈ 0.022 and three seeds put
ln Z 0.4, 0.8 and 1.5 of it from the analytic value.

Reproducibility: ``seed`` for nautilus (its NumPy generator and its networks) is drawn from
``key``. Ctrl-C during ``run`` keeps the points sampled so far: nautilus' shell bookkeeping is brought up
to date and the posterior and evidence are computed from them (``diagnostics["interrupted"]``);
an interrupt before the first batch came back propagates, as there is nothing to keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from lensframe.fitter import FitterPlugin, require_free_parameters
from lensframe.options import positive

from ._host import (BatchedLogFunction, batched, in_blocks, nan_to_minus_inf, sample_result,
                    seed_of)


@dataclass(frozen=True)
class NautilusOptions:
    n_live: int = field(default=2000, metadata={"help": "live points per shell"})
    n_eff: int = field(default=10000, metadata={
        "help": "stop when the posterior's effective sample size reaches this"})
    n_networks: int = field(default=4, metadata={"help": "neural networks per emulator"})
    f_live: float = field(default=0.01, metadata={
        "help": "stop only when the live set holds less than this fraction of the evidence"})
    discard_exploration: bool = field(default=False, metadata={
        "help": "drop the exploration-phase points from the posterior (unbiased, slower)"})
    n_like_max: int | None = field(default=None, metadata={
        "help": "stop after this many likelihood calls (default: no limit)"})

    def __post_init__(self):
        for name in ("n_live", "n_eff", "n_networks", "f_live"):
            positive(name, getattr(self, name))
        if self.f_live >= 1.0:
            raise ValueError(f"option 'f_live' must be < 1, got {self.f_live}")
        if self.n_like_max is not None:
            positive("n_like_max", self.n_like_max)


class Nautilus(FitterPlugin):
    Options = NautilusOptions
    reference = "Lange (2023), MNRAS 525, 3181 (nautilus)"

    def run(self, problem, options, *, key, init_from, programs, progress):
        import nautilus

        require_free_parameters(problem, "nautilus")
        dim = problem.dim

        def log_likelihood(u, args):
            thetas = batched(problem.from_unit)(u, args)
            values = problem.log_likelihood_batch(thetas, args)
            return nan_to_minus_inf(values)

        def to_theta(u, args):
            thetas = batched(problem.from_unit)(u, args)
            return thetas, problem.log_density_batch(thetas, args)

        args = problem.args
        loglike = BatchedLogFunction(programs.compile("nautilus_log_likelihood", log_likelihood),
                                     args, pad_value=np.full(dim, 0.5))
        to_theta_c = programs.compile("nautilus_to_theta", to_theta)
        seed = seed_of(key)

        interrupted_at = None
        # the bar follows the stopping criterion: the posterior's effective sample size
        shown = [0]
        with progress.task("nautilus n_eff", total=options.n_eff) as tick:
            def reporting(u):
                values = loglike(u)
                try:
                    n_eff = min(int(sampler.n_eff), options.n_eff)
                except Exception:  # no shell is complete yet
                    n_eff = shown[0]
                tick(max(0, n_eff - shown[0]), status=f"{loglike.n_calls} likelihood calls")
                shown[0] = max(shown[0], n_eff)
                return values

            sampler = nautilus.Sampler(lambda u: u, reporting, n_dim=dim, n_live=options.n_live,
                                       n_networks=options.n_networks, vectorized=True,
                                       pass_dict=False, seed=seed)
            try:
                sampler.run(f_live=options.f_live, n_eff=options.n_eff, verbose=False,
                            discard_exploration=options.discard_exploration,
                            n_like_max=options.n_like_max or np.inf)
            except KeyboardInterrupt:
                interrupted_at = f"after {loglike.n_calls} likelihood calls"
                _sync_shells(sampler)
        try:
            points, log_w, _ = sampler.posterior()
        except Exception:  # nautilus may hold no usable points if interrupted very early
            if interrupted_at is None:
                raise
            points = []
        if len(points) == 0:
            raise KeyboardInterrupt(f"nautilus interrupted {interrupted_at}: no posterior yet")
        weights = np.exp(log_w - np.max(log_w))
        weights /= weights.sum()
        thetas, log_density = in_blocks(to_theta_c, points, args, np.full(dim, 0.5))
        n_eff = float(1.0 / np.sum(weights**2))
        log_z = float(sampler.log_z)
        log_z_error = float(np.sqrt(max(1.0 / n_eff - 1.0 / len(weights), 0.0)))
        diagnostics = {
            "n_likelihood_calls": loglike.n_calls, "n_nonfinite": loglike.n_nonfinite,
            "likelihood_seconds": round(loglike.seconds, 3),
            "n_eff": n_eff, "n_points": int(len(weights)), "n_live": options.n_live,
            "n_shells": int(len(sampler.shell_n)) if hasattr(sampler, "shell_n") else None,
            "discard_exploration": options.discard_exploration, "seed": seed,
        }
        return sample_result("nautilus", problem, thetas, log_density, diagnostics, interrupted_at,
                             weights=weights, log_evidence=log_z, log_evidence_error=log_z_error)


def _sync_shells(sampler) -> None:
    """After an interrupt in the middle of filling a shell, nautilus' per-shell bookkeeping lags
    its stored points (the shell's count is still 0); recompute it so ``posterior()`` uses every
    point sampled so far."""
    for index, points in enumerate(sampler.points):
        if sampler.shell_n[index] != len(points):
            sampler.update_shell_info(index)
