"""A strong-Wolfe line search with one objective evaluation per loop iteration.

The bracketing and zoom phases of Nocedal & Wright (2006), *Numerical Optimization*, 2nd ed.,
Algorithms 3.5 and 3.6, written as one state machine inside a single ``lax.while_loop``: every
iteration evaluates the objective and its gradient once, at the trial step, and then either
accepts it, widens the search (bracketing) or narrows the bracket (zoom, with the safeguarded
cubic interpolation of their eq. 3.59 and bisection as the fallback).

Why not optax's ``scale_by_zoom_linesearch``: a multi-start L-BFGS runs its starts in compiled
chunks of steps, and a start that has converged keeps being stepped until its chunk ends. Under
``vmap`` optax's search cannot be switched off for it (its ``lax.cond`` becomes a select that runs
both branches), so every such step spent the whole evaluation budget at the minimum; here the
loop's condition is simply false for it (``active``). That halved the run time of the benchmark
fit. (One call site instead of optax's three did not, as hoped, shorten XLA's compile time: it is
about the same.) The L-BFGS direction itself stays optax's (``optax.scale_by_lbfgs``, Liu &
Nocedal 1989).

A non-finite objective at a trial step counts as "too high": the bracket shrinks towards the
current point by a factor of ten instead of by interpolation, so a step into a region where the
model is undefined (−ln P = +inf) is recovered from in a few evaluations.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


class LineSearchResult(NamedTuple):
    step: jax.Array        # accepted step length along the direction (0 if nothing decreased)
    value: jax.Array       # objective at the accepted point
    grad: jax.Array        # gradient there
    evaluations: jax.Array
    wolfe: jax.Array       # True if the strong Wolfe conditions hold at the accepted step


class _State(NamedTuple):
    trial: jax.Array       # step to evaluate next
    zooming: jax.Array     # False: bracketing phase, True: zoom phase
    lo: jax.Array          # zoom: the end with the lower value satisfying sufficient decrease
    f_lo: jax.Array
    s_lo: jax.Array
    hi: jax.Array          # zoom: the other end
    f_hi: jax.Array
    s_hi: jax.Array
    prev: jax.Array        # bracketing: the previous trial step
    f_prev: jax.Array
    s_prev: jax.Array
    best: jax.Array        # lowest value seen with sufficient decrease
    f_best: jax.Array
    g_best: jax.Array
    count: jax.Array
    done: jax.Array
    wolfe: jax.Array


def _cubic_minimum(a, fa, sa, b, fb, sb):
    """Minimiser of the cubic through (a, fa, slope sa) and (b, fb, slope sb), N&W eq. 3.59;
    NaN when the cubic has no minimum between them."""
    d1 = sa + sb - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - sa * sb
    d2 = jnp.sign(b - a) * jnp.sqrt(jnp.where(disc >= 0, disc, jnp.nan))
    return b - (b - a) * (sb + d2 - d1) / (sb - sa + 2.0 * d2)


def _zoom_trial(lo, f_lo, s_lo, hi, f_hi, s_hi):
    """Next trial inside the bracket: the cubic minimum kept at least 10% of the bracket from its
    ends, else the midpoint; a tenth of the way from ``lo`` when ``hi`` is non-finite."""
    width = hi - lo
    cubic = _cubic_minimum(lo, f_lo, s_lo, hi, f_hi, s_hi)
    margin = 0.1 * jnp.abs(width)
    low, high = jnp.minimum(lo, hi) + margin, jnp.maximum(lo, hi) - margin
    inside = jnp.isfinite(cubic) & (cubic >= low) & (cubic <= high)
    guess = jnp.where(inside, cubic, lo + 0.5 * width)
    return jnp.where(jnp.isfinite(f_hi), guess, lo + 0.1 * width)


def strong_wolfe(value_and_grad: Callable, x, value, grad, direction, initial_step, *args,
                 c1: float = 1e-4, c2: float = 0.9, max_evaluations: int = 20,
                 max_step: float = 1e10, active=True) -> LineSearchResult:
    """Find a step ``t`` along ``direction`` from ``x`` satisfying the strong Wolfe conditions
    f(x + t d) ≤ f(x) + c1 t ∇f·d and |∇f(x + t d)·d| ≤ c2 |∇f·d| (N&W Alg. 3.5–3.6).

    Args:
        value_and_grad: ``(x, *args) -> (f, ∇f)``; called at exactly one place in the program.
        x, value, grad: the current point, f(x) and ∇f(x) (1-d arrays).
        direction: a descent direction (∇f·d < 0; the caller resets to −∇f otherwise).
        initial_step: first trial step (1 for a quasi-Newton direction).
        c1, c2: sufficient-decrease and curvature constants (0 < c1 < c2 < 1).
        max_evaluations: budget (an int or a traced integer); when it runs out the lowest value
            with sufficient decrease seen is returned (``wolfe`` False), or step 0 if none.
        active: False skips the search (no evaluation; step 0), for a converged member of a
            batch, whose steps would otherwise each spend the whole budget at its minimum.
    """
    slope0 = jnp.dot(grad, direction)
    dtype = value.dtype
    nan = jnp.array(jnp.nan, dtype)
    zero = jnp.zeros((), dtype)
    init = _State(
        trial=jnp.asarray(initial_step, dtype), zooming=jnp.array(False),
        lo=zero, f_lo=value, s_lo=slope0, hi=nan, f_hi=nan, s_hi=nan,
        prev=zero, f_prev=value, s_prev=slope0,
        best=zero, f_best=value, g_best=grad, count=jnp.array(0), done=~jnp.asarray(active),
        wolfe=jnp.array(False))

    def body(st: _State) -> _State:
        t = st.trial
        f, g = value_and_grad(x + t * direction, *args)
        s = jnp.dot(g, direction)
        finite = jnp.isfinite(f) & jnp.all(jnp.isfinite(g))
        f = jnp.where(finite, f, jnp.inf)
        decrease_ok = finite & (f <= value + c1 * t * slope0)
        curvature_ok = jnp.abs(s) <= -c2 * slope0
        accept = decrease_ok & curvature_ok
        better = decrease_ok & (f < st.f_best)
        best, f_best = jnp.where(better, t, st.best), jnp.where(better, f, st.f_best)
        g_best = jnp.where(better, g, st.g_best)

        # bracketing (Alg. 3.5): a bracket [lo, hi] is found when the trial fails sufficient
        # decrease or is no lower than the previous trial, or when the slope turns positive
        too_high = ~decrease_ok | ((st.count > 0) & (f >= st.f_prev))
        turned = ~too_high & (s >= 0)
        b_lo = jnp.where(too_high, st.prev, t)
        b_flo = jnp.where(too_high, st.f_prev, f)
        b_slo = jnp.where(too_high, st.s_prev, s)
        b_hi = jnp.where(too_high, t, st.prev)
        b_fhi = jnp.where(too_high, f, st.f_prev)
        b_shi = jnp.where(too_high, s, st.s_prev)
        bracketed = too_high | turned
        expand = jnp.minimum(2.0 * t, max_step)

        # zoom (Alg. 3.6): the trial replaces hi if it is too high, else it becomes lo (and the
        # old lo becomes hi when the slope points back past it)
        z_high = ~decrease_ok | (f >= st.f_lo)
        flip = ~z_high & (s * (st.hi - st.lo) >= 0)
        z_hi = jnp.where(z_high, t, jnp.where(flip, st.lo, st.hi))
        z_fhi = jnp.where(z_high, f, jnp.where(flip, st.f_lo, st.f_hi))
        z_shi = jnp.where(z_high, s, jnp.where(flip, st.s_lo, st.s_hi))
        z_lo = jnp.where(z_high, st.lo, t)
        z_flo = jnp.where(z_high, st.f_lo, f)
        z_slo = jnp.where(z_high, st.s_lo, s)

        zooming = st.zooming | bracketed
        lo = jnp.where(st.zooming, z_lo, b_lo)
        f_lo = jnp.where(st.zooming, z_flo, b_flo)
        s_lo = jnp.where(st.zooming, z_slo, b_slo)
        hi = jnp.where(st.zooming, z_hi, b_hi)
        f_hi = jnp.where(st.zooming, z_fhi, b_fhi)
        s_hi = jnp.where(st.zooming, z_shi, b_shi)
        trial = jnp.where(zooming, _zoom_trial(lo, f_lo, s_lo, hi, f_hi, s_hi), expand)
        count = st.count + 1
        # a bracket narrower than round-off can hold no better point
        collapsed = zooming & (jnp.abs(hi - lo) <= 1e-12 * jnp.maximum(jnp.abs(lo), 1e-300))
        return _State(trial, zooming, lo, f_lo, s_lo, hi, f_hi, s_hi,
                      t, f, s, jnp.where(accept, t, best), jnp.where(accept, f, f_best),
                      jnp.where(accept, g, g_best), count,
                      accept | (count >= max_evaluations) | collapsed, accept)

    final = jax.lax.while_loop(lambda st: ~st.done, body, init)
    return LineSearchResult(final.best, final.f_best, final.g_best, final.count, final.wolfe)
