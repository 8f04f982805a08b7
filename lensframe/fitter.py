"""The fitter plugin interface.

A fitter is a class with an ``Options`` frozen dataclass and a ``run`` method. It receives the
problem, its validated options and a :class:`Programs` factory from the dispatcher: every pure
function it wants compiled goes through ``programs.compile(name, fn)``, which compiles it once per
combination (in-process memo plus JAX's on-disk cache) and times the compilation. ``fn`` must take
all numbers as arguments (``problem.args``, PRNG keys, starting points) and close over nothing but
the problem's static structure and the options.

Two families, as in ``docs/architecture.md``: compiled loops (PSO, L-BFGS, NUTS) driven in chunks so
a progress bar can move, and host-driven samplers (emcee, nautilus) calling a compiled batched
log-density.

Ctrl-C: a fitter catches ``KeyboardInterrupt`` in its host loop and returns a normal
:class:`~lensframe.result.FitResult` built from what it has so far, with
``diagnostics["interrupted"] = True`` and ``diagnostics["interrupted_at"]`` saying where (e.g.
"sampling step 340 of 1000"); the caller decides whether to save it. A log-density that is NaN is
treated as −∞ and the number of such evaluations is reported as ``diagnostics["n_nonfinite"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol

from .errors import ParameterError
from .options import NoOptions

if TYPE_CHECKING:  # pragma: no cover
    from .problem import Problem
    from .progress import ProgressReporter
    from .result import FitResult


class Programs(Protocol):
    def compile(self, name: str, fn: Callable) -> Callable: ...


class FitterPlugin:
    """Base class of fitter plugins."""

    Options: ClassVar[type] = NoOptions
    #: the paper or library the algorithm follows, shown by ``lensframe info``
    reference: ClassVar[str] = ""

    def run(self, problem: "Problem", options: Any, *, key, init_from: "FitResult | None",
            programs: Programs, progress: "ProgressReporter") -> "FitResult":
        raise NotImplementedError


def require_free_parameters(problem: "Problem", fitter: str) -> None:
    """Refuse, before anything is compiled, a problem with nothing to fit (every parameter fixed,
    linked or linear); the message names the fitter."""
    if problem.dim == 0:
        raise ParameterError(
            f"fitter '{fitter}': the problem has no free parameters; give at least one parameter "
            "a prior (e.g. {prior = \"uniform\", low = ..., high = ...})")
