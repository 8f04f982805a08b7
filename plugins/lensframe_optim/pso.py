"""Particle swarm optimisation of the log-posterior in the priors' unit cube.

Each particle i has a position x_i ∈ [0, 1]^d (mapped to the parameters by the priors' inverse
CDFs, ``problem.from_unit``), a velocity v_i and the best position p_i it has visited; g is the
best position of the whole swarm. One iteration (Kennedy & Eberhart 1995, with the inertia weight
of Shi & Eberhart 1998) is

    v_i ← w v_i + c₁ r₁ ⊙ (p_i − x_i) + c₂ r₂ ⊙ (g − x_i),    x_i ← x_i + v_i,

with r₁, r₂ ~ U(0, 1)^d drawn afresh per particle and dimension. The defaults are Clerc & Kennedy's
(2002) constriction coefficients, χ = 0.7298 and c₁ = c₂ = 2.05 χ = 1.49618, which make the swarm
contract without velocity explosion. Velocities are clamped to ``v_max`` (unit-cube widths) and a
particle crossing a wall of the cube is reflected back inside with its velocity component reversed,
so every evaluated point lies inside the prior's support.

With ``n_swarms`` > 1 the swarms run one after another with their own keys and the best is kept;
``stratify = "<parameter>"`` confines swarm k of K to the k-th of K equal slices of that
parameter's unit interval (equal prior mass; walls reflect as the cube's do), so the swarms explore
different ranges of it instead of converging on one basin — stratified sampling (e.g. McKay,
Beckman & Conover 1979) applied to the starts of a global search. Every swarm's best point is
reported (``candidate_theta``, best first), and ``lbfgs`` after ``pso`` starts from each of them.
With ``candidates_per_swarm`` = k > 1 each swarm also reports up to k − 1 more of its particles'
own best positions, the best ones at least ``candidate_separation`` (unit-cube distance) from
every one already taken — particles remember other basins after the swarm has left them; the list
is ordered round by round (every swarm's best, then every swarm's second, ...).

The objective is ln p(θ | data) = ln L + ln π at θ = from_unit(x): the maximum a posteriori, as
``lbfgs`` finds, so the two chain naturally (``pso → lbfgs``). A NaN log-density counts as −∞ and
is reported as ``n_nonfinite``. The swarm's evaluations are one batched call
(``problem.log_density_batch``) and the iterations run in compiled ``lax.scan`` chunks of ``chunk``
steps, the progress bar moving between chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from lensframe.fitter import FitterPlugin, require_free_parameters
from lensframe.options import positive
from lensframe.result import FitResult

#: positions are kept this far inside the unit cube: a Normal prior's inverse CDF is ±∞ at 0 and 1
_EDGE = 1e-9
_CHI = 0.7298  # Clerc & Kennedy (2002) constriction factor for φ = 4.1
_C = 2.05 * _CHI


@dataclass(frozen=True)
class PSOOptions:
    n_particles: int = field(default=64, metadata={"help": "particles in the swarm"})
    n_iterations: int = field(default=300, metadata={"help": "swarm updates"})
    n_swarms: int = field(default=1, metadata={
        "help": "independent swarms run one after another (own keys), the best kept: a swarm "
                "that converged into a local optimum does not drag the others there"})
    chunk: int = field(default=25, metadata={"help": "iterations per compiled chunk"})
    inertia: float = field(default=_CHI, metadata={
        "help": "inertia weight w (default: Clerc–Kennedy constriction χ = 0.7298)"})
    cognitive: float = field(default=_C, metadata={
        "help": "pull c₁ towards each particle's own best (default 2.05 χ)"})
    social: float = field(default=_C, metadata={
        "help": "pull c₂ towards the swarm's best (default 2.05 χ)"})
    v_max: float = field(default=0.5, metadata={
        "help": "largest velocity component, in unit-cube widths"})
    stratify: str = field(default="", metadata={
        "help": "a free parameter: swarm k of n_swarms stays in the k-th of n_swarms equal slices "
                "of its prior (e.g. lens.theta_E), so the swarms search different ranges of it"})
    candidates_per_swarm: int = field(default=1, metadata={
        "help": "points each swarm reports as starts for a following lbfgs: its best, then its "
                "particles' best positions in other places (candidate_separation apart)"})
    candidate_separation: float = field(default=0.1, metadata={
        "help": "least unit-cube (Euclidean) distance between one swarm's reported points"})
    init_spread: float = field(default=0.05, metadata={
        "help": "with init_from: spread (unit-cube widths) of the swarm around the previous best"})

    def __post_init__(self):
        for name in ("n_particles", "n_iterations", "n_swarms", "chunk", "v_max", "init_spread",
                     "candidates_per_swarm", "candidate_separation"):
            positive(name, getattr(self, name))
        for name in ("inertia", "cognitive", "social"):
            positive(name, getattr(self, name), allow_zero=True)
        if self.v_max > 1.0:
            raise ValueError(f"option 'v_max' must be ≤ 1 (a unit-cube width), got {self.v_max}")
        if self.init_spread > 1.0:
            raise ValueError(f"option 'init_spread' must be ≤ 1 (a unit-cube width), got "
                             f"{self.init_spread}")


class Swarm(NamedTuple):
    x: jax.Array            # (n, d) positions in the unit cube
    v: jax.Array            # (n, d) velocities
    best_x: jax.Array       # (n, d) each particle's best position
    best_f: jax.Array       # (n,) ln p there
    key: jax.Array
    iteration: jax.Array    # () iterations done
    n_nonfinite: jax.Array  # () NaN evaluations so far


def _reflect(x, v, lo, hi):
    """Fold positions that left [lo, hi] (the unit cube, or a swarm's slice of it) back inside,
    reversing the velocity component."""
    low, high = x < lo, x > hi
    x = jnp.where(low, 2.0 * lo - x, jnp.where(high, 2.0 * hi - x, x))
    v = jnp.where(low | high, -v, v)
    return jnp.clip(x, lo + _EDGE, hi - _EDGE), v


def strata(dim: int, index: int | None, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per swarm, the (lo, hi) corners of its box in the unit cube: the whole cube, or with a
    stratified dimension ``index`` its k-th of n equal slices."""
    boxes = []
    for k in range(n):
        lo, hi = np.zeros(dim), np.ones(dim)
        if index is not None:
            lo[index], hi[index] = k / n, (k + 1) / n
        boxes.append((lo, hi))
    return boxes


def distinct_bests(best_x, best_f, k: int, separation: float) -> list[int]:
    """Indices of up to k particles, best ln p first, each of whose best positions lies at least
    ``separation`` (unit-cube Euclidean distance) from those of the particles already taken."""
    best_x, best_f = np.asarray(best_x), np.asarray(best_f)
    taken: list[int] = []
    for i in np.argsort(-best_f, kind="stable"):   # ties: the first, as argmax
        if len(taken) == k or not np.isfinite(best_f[i]):
            break
        if all(np.linalg.norm(best_x[i] - best_x[j]) >= separation for j in taken):
            taken.append(int(i))
    return taken


def unit_of(problem, theta, args, iterations: int = 64):
    """u with ``problem.from_unit(u) ≈ theta``, by bisection on each (monotone) inverse CDF:
    priors define only the inverse CDF, and 64 halvings reach double precision."""
    def halve(bounds, _):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        right = problem.from_unit(mid, args) < theta
        return (jnp.where(right, mid, lo), jnp.where(right, hi, mid)), None

    zeros = jnp.zeros_like(theta)
    (lo, hi), _ = jax.lax.scan(halve, (zeros, jnp.ones_like(theta)), None, length=iterations)
    return jnp.clip(0.5 * (lo + hi), _EDGE, 1.0 - _EDGE)


class PSO(FitterPlugin):
    Options = PSOOptions
    reference = ("Kennedy & Eberhart (1995), Proc. ICNN'95 4, 1942; constriction coefficients of "
                 "Clerc & Kennedy (2002), IEEE Trans. Evol. Comput. 6, 58")

    def run(self, problem, options, *, key, init_from, programs, progress):
        require_free_parameters(problem, "pso")
        n, dim = options.n_particles, problem.dim
        stratified = None
        if options.stratify:
            names = list(problem.free_names)
            if options.stratify not in names:
                raise ValueError(f"fitter 'pso': option 'stratify' names '{options.stratify}', "
                                 f"which is not a free parameter (free: {', '.join(names)})")
            stratified = names.index(options.stratify)

        def evaluate(x, args):
            thetas = jax.vmap(lambda u: problem.from_unit(u, args))(x)
            f = problem.log_density_batch(thetas, args)
            bad = jnp.isnan(f) | (f == jnp.inf)
            return jnp.where(bad, -jnp.inf, f), jnp.sum(bad)

        def start(key, args, centre, use_centre, lo, hi):
            k_x, k_around, k_v, k_next = jax.random.split(key, 4)
            uniform = lo + (hi - lo) * jax.random.uniform(k_x, (n, dim), minval=_EDGE,
                                                          maxval=1.0 - _EDGE)
            centre = jnp.clip(centre, lo + _EDGE, hi - _EDGE)
            around = centre + options.init_spread * jax.random.normal(k_around, (n, dim))
            around = jnp.clip(around, lo + _EDGE, hi - _EDGE).at[0].set(centre)
            x = jnp.where(use_centre, around, uniform)
            # half the way to another random point (SPSO-2011 style): no initial bias
            target = jax.random.uniform(k_v, (n, dim))
            v = jnp.clip(0.5 * (target - x), -options.v_max, options.v_max)
            f, bad = evaluate(x, args)
            return Swarm(x, v, x, f, k_next, jnp.array(0), bad)

        def advance(swarm, args, lo, hi):
            def step(s):
                k_r, k_next = jax.random.split(s.key)
                r1, r2 = jax.random.uniform(k_r, (2, n, dim))
                g = s.best_x[jnp.argmax(s.best_f)]
                v = (options.inertia * s.v + options.cognitive * r1 * (s.best_x - s.x)
                     + options.social * r2 * (g[None, :] - s.x))
                v = jnp.clip(v, -options.v_max, options.v_max)
                x, v = _reflect(s.x + v, v, lo, hi)
                f, bad = evaluate(x, args)
                better = f > s.best_f
                return Swarm(x, v, jnp.where(better[:, None], x, s.best_x),
                             jnp.where(better, f, s.best_f), k_next, s.iteration + 1,
                             s.n_nonfinite + bad)

            def maybe_step(s, _):
                # the last chunk may run past n_iterations: those steps change nothing
                return jax.lax.cond(s.iteration < options.n_iterations, step, lambda t: t, s), None

            return jax.lax.scan(maybe_step, swarm, None, length=options.chunk)[0]

        def to_unit(theta, args):
            return unit_of(problem, theta, args)

        args = problem.args
        start_c = programs.compile("pso_start", start)
        advance_c = programs.compile("pso_chunk", advance)
        if init_from is not None:
            centre = programs.compile("pso_unit_of", to_unit)(
                jnp.asarray(init_from.best_theta, dtype=jnp.result_type(float)), args)
            use_centre = jnp.array(True)
        else:
            centre, use_centre = jnp.full((dim,), 0.5), jnp.array(False)

        n_chunks = -(-options.n_iterations // options.chunk)
        swarm_best, swarm_u, best_swarm, best_history, calls = [], [], None, [], 0
        extra = []   # per swarm: (ln p, unit-cube point) of its further distinct particles' bests
        boxes = [tuple(jnp.asarray(b, dtype=centre.dtype) for b in box)
                 for box in strata(dim, stratified, options.n_swarms)]
        interrupted_at = None
        label = f"pso ×{n}" + (f" ×{options.n_swarms} swarms" if options.n_swarms > 1 else "")
        with progress.task(label, total=options.n_swarms * options.n_iterations) as tick:
            for index in range(options.n_swarms):
                lo, hi = boxes[index]
                swarm = start_c(jax.random.fold_in(key, index) if index else key, args, centre,
                                use_centre, lo, hi)
                history = []
                try:
                    for _ in range(n_chunks):
                        done_before = int(swarm.iteration)
                        swarm = advance_c(swarm, args, lo, hi)
                        best = float(np.max(np.asarray(swarm.best_f)))
                        history.append(best)
                        tick(int(swarm.iteration) - done_before,
                             status=f"swarm {index + 1}: ln P {best:.6g}")
                except KeyboardInterrupt:
                    interrupted_at = (f"swarm {index + 1} of {options.n_swarms}, iteration "
                                      f"{int(swarm.iteration)} of {options.n_iterations}")
                best_f = np.asarray(swarm.best_f)
                # a swarm that never saw a finite ln p still reports its (−∞) best
                picked = distinct_bests(swarm.best_x, best_f, options.candidates_per_swarm,
                                        options.candidate_separation) or [int(np.argmax(best_f))]
                swarm_best.append(float(best_f[picked[0]]))
                swarm_u.append(swarm.best_x[picked[0]])
                extra.append([(float(best_f[i]), swarm.best_x[i]) for i in picked[1:]])
                calls += n * (int(swarm.iteration) + 1)
                if best_swarm is None or swarm_best[-1] > max(swarm_best[:-1]):
                    best_swarm, best_history = swarm, history
                if interrupted_at is not None:
                    break
        swarm = best_swarm

        thetas = np.asarray(jax.vmap(lambda u: problem.from_unit(u, args))(swarm.x))
        order = np.argsort(swarm_best)[::-1]
        # round by round: every swarm's best (best first), then each swarm's next distinct point
        ranked = [(swarm_best[i], swarm_u[i]) for i in order]
        for r in range(max(map(len, extra), default=0)):
            ranked += [extra[i][r] for i in order if r < len(extra[i])]
        candidates = np.asarray(jax.vmap(lambda u: problem.from_unit(u, args))(
            jnp.stack([u for _, u in ranked])))
        theta_best, u_best = candidates[0], swarm_u[order[0]]
        iterations = int(swarm.iteration)
        diagnostics = {
            "iterations": iterations, "n_particles": n,
            "spread_unit": np.std(np.asarray(swarm.x), axis=0).tolist(),
            "spread": np.std(thetas, axis=0).tolist(),
            "best_unit": np.asarray(u_best).tolist(),
            "best_log_density_per_chunk": best_history,
            "n_likelihood_calls": calls,
            "n_nonfinite": int(swarm.n_nonfinite),
            "swarm_log_density": swarm_best,
            # each swarm's best, best first, then further distinct points round by round:
            # starts for a following lbfgs
            "candidate_theta": candidates.tolist(),
            "candidate_log_density": [f for f, _ in ranked],
            "interrupted": interrupted_at is not None,
        }
        if interrupted_at is not None:
            diagnostics["interrupted_at"] = interrupted_at
        return FitResult(fitter="pso", free_names=list(problem.free_names), best_theta=theta_best,
                         best_fit=problem.named(theta_best), log_density=swarm_best[order[0]],
                         diagnostics=diagnostics)
