"""The dispatcher: resolution by name, option validation, compile once per combination."""

import pytest

from lensframe import Fitter
from lensframe.dispatch import clear_memo
from lensframe.errors import UnknownComponentError

QUICK = {"n_starts": 1, "max_steps": 40, "chunk": 20}


def test_unknown_fitter_suggests_close_names(tiny_problem):
    p, _ = tiny_problem
    with pytest.raises(UnknownComponentError, match=r"unknown fitter 'lbgfs'.*did you mean 'lbfgs'"):
        Fitter(p).run("lbgfs")


def test_unknown_option_is_a_type_error_listing_valid_options(tiny_problem):
    p, _ = tiny_problem
    with pytest.raises(TypeError, match=r"fitter 'lbfgs'.*'n_start'.*did you mean 'n_starts'.*"
                                        r"valid options: n_starts, max_steps"):
        Fitter(p).run("lbfgs", n_start=4)


@pytest.mark.parametrize("options,error,match", [
    ({"max_steps": -5}, ValueError, "max_steps"),
    ({"n_starts": 0}, ValueError, "n_starts"),
    ({"n_starts": "many"}, TypeError, "n_starts' must be an integer"),
    ({"vectorize": "yes"}, TypeError, "vectorize' must be true or false"),
])
def test_bad_option_values_stop_before_compiling(tiny_problem, options, error, match):
    p, _ = tiny_problem
    with pytest.raises(error, match=match):
        Fitter(p).run("lbfgs", **options)


def test_fitter_names_are_case_insensitive_and_fit_recovers_truth(tiny_problem):
    p, truth = tiny_problem
    result = Fitter(p, quiet=True).run("LBFGS", n_starts=2, max_steps=80, chunk=20)
    assert result.provenance["fitter"] == "lbfgs"
    assert result.best_fit["lens.theta_E"] == pytest.approx(truth["lens.theta_E"], rel=0.01)
    assert set(result.best_fit) >= set(p.free_names) | {"source.amp"}


def test_second_run_on_new_data_of_same_shapes_does_not_compile(tiny_spec):
    from lensframe.problem import Problem

    clear_memo()
    c, d1, truth = tiny_spec(seed=3)
    _, d2, _ = tiny_spec(seed=4)
    p1 = Problem.build(c, d1, likelihood_options={"supersampling": 1})
    first = Fitter(p1, quiet=True).run("lbfgs", **QUICK)
    assert first.provenance["programs_compiled"] >= 2
    assert first.provenance["compile_seconds"] > 0

    p2 = p1.with_data(d2)
    second = Fitter(p2, quiet=True).run("lbfgs", **QUICK)
    assert second.provenance["programs_compiled"] == 0
    assert second.provenance["compile_seconds"] == 0.0
    assert second.provenance["cache_hit"] is True
    assert second.provenance["combination_key"] == first.provenance["combination_key"]
    # the compiled program really used the new data: the fits differ
    assert second.best_theta.tolist() != first.best_theta.tolist()

    # a different static option is a different combination and compiles again
    third = Fitter(p2, quiet=True).run("lbfgs", **dict(QUICK, memory_size=5))
    assert third.provenance["combination_key"] != first.provenance["combination_key"]
    assert third.provenance["programs_compiled"] >= 1


def test_init_from_must_match_the_free_parameters(tiny_problem, tiny_spec):
    import copy

    from lensframe.errors import LensframeError
    from lensframe.problem import Problem

    p, _ = tiny_problem
    previous = Fitter(p, quiet=True).run("lbfgs", **QUICK)
    c, d, _ = tiny_spec()
    c = copy.deepcopy(c)
    c["source"]["params"]["n_sersic"] = {"prior": "uniform", "low": 0.5, "high": 4.0}
    other = Problem.build(c, d, likelihood_options={"supersampling": 1})
    with pytest.raises(LensframeError, match="init_from"):
        Fitter(other, quiet=True).run("lbfgs", init_from=previous, **QUICK)
    again = Fitter(p, quiet=True).run("lbfgs", init_from=previous, jitter=0.0, **QUICK)
    assert again.log_density >= previous.log_density - 1e-6
