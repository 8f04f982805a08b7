"""Multi-start L-BFGS on the negative log-posterior, in unconstrained space.

Each start is an independent L-BFGS run (Nocedal 1980; Liu & Nocedal 1989): optax's L-BFGS
direction (``optax.scale_by_lbfgs``) with a strong-Wolfe zoom line search (Nocedal & Wright 2006,
Alg. 3.5–3.6; ``linesearch.py``, which costs nothing for a start that has converged). Parameters
are mapped to the reals through the priors' bijections, so bounded parameters never leave their
prior; the objective is −[ln L + ln π] at the mapped point (the maximum a posteriori in the
parameters themselves, no Jacobian). All starts are ``vmap``ped and iterated in compiled chunks of ``chunk`` steps (a
``lax.scan``), so the progress bar moves between chunks without host callbacks in the program.
The best start (lowest objective) is kept. After a stage that reports several optima
(``candidate_theta``: ``pso`` with ``n_swarms`` > 1), the first starts are those optima, the rest
jittered around the best.

By default the starts run one after another, each stopping as soon as it converges: on a CPU a
``vmap``ped batch of starts costs more per start than a single one (the line search's while loop
runs for the slowest member, and the batch's intermediates fall out of cache). ``vectorize = true``
runs all starts as one ``vmap``ped batch instead, which pays on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from lensframe.fitter import FitterPlugin
from lensframe.options import positive
from lensframe.result import FitResult

from .linesearch import strong_wolfe


@dataclass(frozen=True)
class LBFGSOptions:
    n_starts: int = field(default=8, metadata={"help": "independent starts drawn from the prior"})
    max_steps: int = field(default=400, metadata={"help": "L-BFGS iterations per start, at most"})
    chunk: int = field(default=25, metadata={"help": "iterations per compiled chunk"})
    memory_size: int = field(default=10, metadata={"help": "L-BFGS history length"})
    gtol: float = field(default=1e-5, metadata={"help": "stop when |∇| ≤ gtol·max(1, |f|)"})
    ftol: float = field(default=1e-9, metadata={"help": "stop when |Δf| ≤ ftol·max(1, |f|)"})
    vectorize: bool = field(default=False, metadata={
        "help": "run all starts as one vmapped batch (for GPUs) instead of one after another"})
    jitter: float = field(default=0.05, metadata={
        "help": "spread (unconstrained units) of starts around init_from; 0 = all at it"})

    def __post_init__(self):
        for name in ("n_starts", "max_steps", "chunk", "memory_size"):
            positive(name, getattr(self, name))
        positive("gtol", self.gtol, allow_zero=True)
        positive("ftol", self.ftol, allow_zero=True)
        positive("jitter", self.jitter, allow_zero=True)


class _Carry(NamedTuple):
    z: jax.Array
    memory: optax.OptState     # optax.scale_by_lbfgs's state: the last (Δz, Δ∇) pairs
    value: jax.Array
    grad: jax.Array
    done: jax.Array
    steps: jax.Array
    evaluations: jax.Array


def _batched(fn, batch):
    """``vmap(fn)(batch)``, except that a batch of one (the default: starts run one after another)
    is run unbatched, so the chunk's ``lax.cond``s (the first evaluation, and those of the
    log-density) stay conditionals instead of becoming selects that evaluate both branches."""
    if jax.tree_util.tree_leaves(batch)[0].shape[0] == 1:
        return jax.tree_util.tree_map(lambda x: x[None], fn(
            jax.tree_util.tree_map(lambda x: x[0], batch)))
    return jax.vmap(fn)(batch)


def _other_candidates(previous, limit: int) -> np.ndarray:
    """The previous stage's ``candidate_theta`` after its first (the best fit, already a start),
    at most ``limit`` of them."""
    candidates = (previous.diagnostics or {}).get("candidate_theta") or [previous.best_theta]
    return np.asarray(candidates, dtype=float).reshape(len(candidates), -1)[1:1 + max(limit, 0)]


class LBFGS(FitterPlugin):
    Options = LBFGSOptions
    reference = ("Liu & Nocedal (1989), Math. Prog. 45, 503 (optax.scale_by_lbfgs); strong-Wolfe "
                 "line search: Nocedal & Wright (2006), Alg. 3.5-3.6")

    def run(self, problem, options, *, key, init_from, programs, progress):
        direction_of = optax.scale_by_lbfgs(memory_size=options.memory_size)

        def objective(z, args):
            theta, _ = problem.from_unconstrained(z, args)
            value = -problem.log_density(theta, args)
            return jnp.where(jnp.isfinite(value), value, jnp.inf)

        value_and_grad = jax.value_and_grad(objective)

        def start(z0, args):
            # no objective here: the first chunk evaluates it (one copy of the likelihood fewer to
            # compile: the benchmark's cold compile went from 10.5 s to 8.2 s, means of four runs)
            def one(z):
                return _Carry(z, direction_of.init(z), jnp.array(jnp.inf, z.dtype),
                              jnp.zeros_like(z), jnp.array(False), jnp.array(0), jnp.array(0))
            return jax.vmap(one)(z0)

        def advance(carry, args):
            def step(c, _):
                hg, memory = direction_of.update(c.grad, c.memory, c.z)
                direction = -hg
                slope = jnp.dot(c.grad, direction)
                descent = jnp.isfinite(slope) & (slope < 0)
                direction = jnp.where(descent, direction, -c.grad)
                # no curvature known yet (first step, or a reset): a step of unit length
                unit = jnp.minimum(1.0, 1.0 / jnp.maximum(jnp.max(jnp.abs(c.grad)), 1e-300))
                first = (c.steps == 0) | ~descent
                search = strong_wolfe(value_and_grad, c.z, c.value, c.grad, direction,
                                      jnp.where(first, unit, 1.0), args, active=~c.done)
                z = c.z + search.step * direction
                scale = jnp.maximum(1.0, jnp.abs(search.value))
                converged = ((jnp.max(jnp.abs(search.grad)) <= options.gtol * scale)
                             | (jnp.abs(c.value - search.value) <= options.ftol * scale)
                             | (search.step == 0))   # no lower point along the direction
                keep = c.done
                nxt = _Carry(
                    jnp.where(keep, c.z, z),
                    jax.tree_util.tree_map(lambda a, b: jnp.where(keep, a, b), c.memory, memory),
                    jnp.where(keep, c.value, search.value),
                    jnp.where(keep, c.grad, search.grad), keep | converged,
                    c.steps + jnp.where(keep, 0, 1),
                    c.evaluations + jnp.where(keep, 0, search.evaluations))
                return nxt, None

            def first_evaluation(c):
                value, grad = value_and_grad(c.z, args)
                return c._replace(value=value, grad=grad, done=~jnp.isfinite(value),
                                  evaluations=jnp.array(1))

            def chunk(c):
                c = jax.lax.cond(c.evaluations == 0, first_evaluation, lambda c: c, c)
                return jax.lax.scan(step, c, None, length=options.chunk)[0]

            return _batched(chunk, carry)

        def initial_points(key, args):
            dim = problem.dim
            u = jax.random.uniform(key, (options.n_starts, dim), minval=0.02, maxval=0.98)
            theta = jax.vmap(lambda v: problem.from_unit(v, args))(u)
            return jax.vmap(lambda t: problem.to_unconstrained(t, args))(theta)

        args = problem.args
        start_c = programs.compile("lbfgs_start", start)
        advance_c = programs.compile("lbfgs_chunk", advance)
        draw_c = programs.compile("lbfgs_initial_points", initial_points)

        z0 = draw_c(key, args)
        if init_from is not None:
            centre = problem.to_unconstrained(jnp.asarray(init_from.best_theta), args)
            noise = jax.random.normal(jax.random.fold_in(key, 1), z0.shape) * options.jitter
            z0 = (centre[None, :] + noise).at[0].set(centre)
            # the other optima a previous stage found (pso's swarms) are starts of their own
            others = _other_candidates(init_from, options.n_starts - 1)
            if len(others):
                z_others = jax.vmap(lambda t: problem.to_unconstrained(t, args))(
                    jnp.asarray(others, dtype=z0.dtype))
                z0 = z0.at[1:1 + len(others)].set(z_others)

        group = options.n_starts if options.vectorize else 1
        n_chunks = -(-options.max_steps // options.chunk)
        finished, interrupted_at = [], None
        with progress.task(f"lbfgs ×{options.n_starts}",
                           total=options.n_starts * n_chunks * options.chunk) as tick:
            for first in range(0, options.n_starts, group):
                carry = start_c(z0[first:first + group], args)
                steps_done = 0
                try:
                    for i in range(n_chunks):
                        carry = advance_c(carry, args)
                        steps_done += options.chunk
                        done = np.asarray(carry.done)
                        best = float(np.min(np.asarray(carry.value)))
                        tick(options.chunk * group,
                             status=f"start {first + 1}: −lnP {best:.6g}")
                        if done.all():
                            tick((n_chunks - i - 1) * options.chunk * group)
                            break
                except KeyboardInterrupt:
                    starts = f"{first + 1}–{first + group}" if group > 1 else f"{first + 1}"
                    interrupted_at = (f"start(s) {starts} of {options.n_starts}, step "
                                      f"{min(steps_done, options.max_steps)} of "
                                      f"{options.max_steps}")
                    if steps_done == 0 and not finished:   # no start has an objective value yet
                        raise KeyboardInterrupt(f"lbfgs interrupted at {interrupted_at}: no "
                                                "result yet") from None
                if steps_done:   # (a start interrupted before its first chunk has no value)
                    finished.append(carry)
                if interrupted_at is not None:
                    break
        carry = jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *finished)

        values = np.asarray(carry.value)
        best = int(np.argmin(values))
        z_best = carry.z[best]
        theta_best, _ = problem.from_unconstrained(z_best, args)
        theta_best = np.asarray(theta_best)
        starts_theta = np.asarray(jax.vmap(lambda z: problem.from_unconstrained(z, args)[0])(
            carry.z))
        return FitResult(
            fitter="lbfgs", free_names=list(problem.free_names), best_theta=theta_best,
            best_fit=problem.named(theta_best), log_density=float(-values[best]),
            diagnostics={
                "converged": bool(np.asarray(carry.done)[best]),
                "n_converged": int(np.asarray(carry.done).sum()), "n_starts": options.n_starts,
                "steps": np.asarray(carry.steps).tolist(),
                "n_likelihood_calls": int(np.asarray(carry.evaluations).sum()),
                "start_log_density": (-values).tolist(),
                "start_theta": starts_theta.tolist(), "best_start": best,
                "interrupted": interrupted_at is not None,
                **({"interrupted_at": interrupted_at} if interrupted_at is not None else {}),
            })
