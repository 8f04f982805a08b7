"""Problem: parameter layout, links, transforms, and clear errors for bad models."""

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lensframe.errors import ConfigError, ParameterError, UnknownComponentError
from lensframe.problem import Problem


def build(components, data, **kw):
    return Problem.build(components, data, likelihood_options={"supersampling": 1}, **kw)


def test_layout_roles_and_values(tiny_spec):
    components, data, truth = tiny_spec()
    components = copy.deepcopy(components)
    components["lens"]["params"]["center_x"] = {"link": "source.center_x"}
    p = build(components, data)
    assert p.free_names == ("lens.theta_E", "source.R_sersic", "source.center_x",
                            "source.center_y")
    assert p.layout.linear == ("source.amp",)
    assert dict(p.layout.linked) == {"lens.center_x": "source.center_x"}
    theta = jnp.array([0.61, 0.2, 0.07, -0.01])
    values = p.values(theta, p.args)
    assert float(values["lens.center_x".split(".")[0]]["center_x"]) == pytest.approx(0.07)
    assert float(values["source"]["n_sersic"]) == 1.0  # fixed
    assert float(values["lens"]["center_y"]) == 0.0  # default
    assert "amp" not in values["source"]
    named = p.named(theta)
    assert set(named) >= {"source.amp", "lens.center_x"} and np.isfinite(named["source.amp"])


def test_named_is_one_compiled_program_equal_to_op_by_op(tiny_problem, monkeypatch):
    """named() runs the values and the linear solve as one jitted program (traced once per
    problem structure, data as an argument) and agrees with evaluating them op by op."""
    import pickle

    p, truth = tiny_problem
    theta = jnp.array([truth[k] for k in p.free_names])
    traces = []
    original = Problem._named_arrays
    monkeypatch.setattr(Problem, "_named_arrays",
                        lambda self, t, a: traces.append(1) or original(self, t, a))
    named = p.named(theta)
    with jax.disable_jit():
        values = p.values(theta, p.args)
        solved = p.likelihood.linear_solution(values, p.args["data"])
    for key, amp in solved.items():
        assert named[key] == pytest.approx(float(amp), rel=1e-10)
    assert named["lens.theta_E"] == pytest.approx(truth["lens.theta_E"])
    other = jax.tree_util.tree_map(lambda x: x, p.args)
    other["data"] = {**other["data"], "image": other["data"]["image"] * 2.0}
    doubled = p.named(theta, other)
    assert len(traces) == 1    # the second data set reused the compiled program
    twin = Problem(p.components, p.layout, p.priors, p.fixed_values, p.likelihood,
                   p.likelihood_name, p.likelihood_version, other["data"])
    assert twin.named(theta) == pytest.approx(p.named(theta, other))
    assert len(traces) == 1    # so did another problem of the same structure (a batch's lens)
    for key in solved:
        assert doubled[key] == pytest.approx(2.0 * named[key], rel=1e-8)  # linear in the image
    clone = pickle.loads(pickle.dumps(p))     # the jitted program is dropped, rebuilt on use
    assert clone.named(theta) == pytest.approx(named)


def test_products_compiled_equal_op_by_op(tiny_problem):
    p, truth = tiny_problem
    theta = jnp.array([truth[k] for k in p.free_names])
    compiled = p.products(theta)
    with jax.disable_jit():
        eager = p.likelihood.products(p.values(theta, p.args), p.args["data"])
    assert set(compiled) == set(eager) and {"model", "residual"} <= set(compiled)
    for key, value in eager.items():
        np.testing.assert_allclose(compiled[key], np.asarray(value), rtol=1e-10, atol=1e-12)


def test_log_density_is_prior_plus_likelihood_and_unit_cube_maps_priors(tiny_problem):
    p, truth = tiny_problem
    theta = jnp.array([truth[k] for k in p.free_names])
    lp = p.log_prior(theta, p.args)
    expected_prior = (-np.log(0.7) - np.log(truth["source.R_sersic"]) - np.log(np.log(10.0))
                      - 2 * np.log(0.6))
    assert float(lp) == pytest.approx(expected_prior, rel=1e-12)
    assert float(p.log_density(theta, p.args)) == pytest.approx(
        float(lp + p.log_likelihood(theta, p.args)), rel=1e-12)
    corner = p.from_unit(jnp.array([0.0, 1.0, 0.5, 0.5]), p.args)
    np.testing.assert_allclose(np.asarray(corner), [0.3, 0.5, 0.0, 0.0], atol=1e-12)
    outside = theta.at[0].set(1.5)
    assert float(p.log_density(outside, p.args)) == -np.inf


def test_unconstrained_density_includes_the_jacobian(tiny_problem):
    p, truth = tiny_problem
    z = jnp.array([0.3, -0.2, 0.1, 0.4])
    theta, logdet = p.from_unconstrained(z, p.args)
    jac = jax.jacfwd(lambda v: p.from_unconstrained(v, p.args)[0])(z)
    assert float(logdet) == pytest.approx(float(jnp.linalg.slogdet(jac)[1]), abs=1e-10)
    assert float(p.log_density_unconstrained(z, p.args)) == pytest.approx(
        float(p.log_density(theta, p.args) + logdet), rel=1e-12)


def test_with_data_keeps_structure_key_and_new_shapes_change_it(tiny_spec):
    c, d, _ = tiny_spec(seed=0)
    _, d2, _ = tiny_spec(seed=1)
    _, d3, _ = tiny_spec(seed=0, n=24)
    p = build(c, d)
    assert p.with_data(d2).structure_key() == p.structure_key()
    assert not np.array_equal(p.with_data(d2).data["image"], p.data["image"])
    assert p.with_data(d3).structure_key() != p.structure_key()


@pytest.mark.parametrize("mutate,error,match", [
    (lambda c: c["lens"]["params"].pop("theta_E"), ParameterError, "missing parameter.*theta_E"),
    (lambda c: c["lens"]["params"].update(theta_e=1.0), ParameterError,
     r"components.lens.params: unknown parameter.*'theta_e'.*did you mean 'theta_E'"),
    (lambda c: c["lens"]["params"].update(theta_E={"prior": "uniform", "low": 2, "high": 1}),
     ParameterError, r"components.lens.params.theta_E: prior bounds are reversed"),
    (lambda c: c["lens"]["params"].update(theta_E={"prior": "normal", "mu": 1, "sigma": 1}),
     ParameterError, r"theta_E: the prior's support"),
    (lambda c: c["lens"]["params"].update(theta_E=-1.0), ParameterError,
     "outside the allowed range"),
    (lambda c: c["lens"]["params"].update(theta_E="linear"), ParameterError,
     "cannot be solved linearly"),
    (lambda c: c["lens"]["params"].update(theta_E={"prior": "unifrom", "low": 0, "high": 1}),
     ParameterError, "did you mean 'uniform'"),
    (lambda c: c["lens"]["params"].update(theta_E={"prior": "uniform", "low": 0}),
     ParameterError, "takes exactly low, high"),
    (lambda c: c["lens"]["params"].update(center_x={"link": "source.centre_x"}), ParameterError,
     "did you mean 'source.center_x'"),
    (lambda c: (c["lens"]["params"].update(center_x={"link": "lens.center_y"}),
                c["lens"]["params"].update(center_y={"link": "lens.center_x"})),
     ParameterError, "cycle"),
    (lambda c: c["lens"].update(profile="SIEE"), UnknownComponentError, "did you mean 'SIE'"),
    (lambda c: c["lens"].update(plnae="lens"), ConfigError, "components.lens: unknown key 'plnae'"),
    (lambda c: c["source"].update(plane="sky"), ConfigError, "components.source.plane"),
    (lambda c: c["source"].pop("plane"), ConfigError, "components.source.plane"),
])
def test_bad_models_are_rejected_naming_the_key(tiny_spec, mutate, error, match):
    components, data, _ = tiny_spec()
    components = copy.deepcopy(components)
    mutate(components)
    with pytest.raises(error, match=match):
        build(components, data)


def test_unknown_likelihood_option_and_likelihood_name(tiny_spec):
    components, data, _ = tiny_spec()
    with pytest.raises(TypeError, match=r"likelihood 'imaging'.*'supersampilng'.*supersampling"):
        Problem.build(components, data, likelihood_options={"supersampilng": 2})
    with pytest.raises(ValueError, match="supersampling"):
        Problem.build(components, data, likelihood_options={"supersampling": 0})
    with pytest.raises(UnknownComponentError, match="did you mean 'imaging'"):
        Problem.build(components, data, likelihood="imagin")


OPTIONS_PLUGIN = {
    "optprof/__init__.py": "",
    "optprof/plugin.py": """
        from lensframe import hookimpl

        @hookimpl
        def lensframe_register_profiles(registry):
            registry.add("STACKED_GAUSSIANS", kind="light", ref="optprof.impl:Stacked")
    """,
    "optprof/impl.py": """
        from dataclasses import dataclass

        import jax.numpy as jnp
        from lensframe.params import ParamSpec
        from lensframe.profile import LightProfile

        @dataclass(frozen=True)
        class Options:
            n_components: int = 1

        class Stacked(LightProfile):
            Options = Options

            @property
            def params(self):
                amps = tuple(ParamSpec(f"amp_{i}", linear=True) for i in range(self.options.n_components))
                return amps + (ParamSpec("sigma", lower=0.0),)

            def surface_brightness(self, x, y, sigma, **amps):
                r2 = x * x + y * y
                return sum(a * jnp.exp(-r2 / (2 * (sigma * (i + 1)) ** 2))
                           for i, a in enumerate(amps[f"amp_{i}"] for i in range(len(amps))))
    """,
}


def test_profile_options_shape_the_parameters_and_the_structure(plugin_distribution, tiny_spec):
    plugin_distribution("optprof-dist", {"optprof-dist": "optprof.plugin"}, OPTIONS_PLUGIN)
    components, data, _ = tiny_spec()
    components = {"lens": components["lens"],
                  "source": {"profile": "stacked_gaussians", "plane": "source", "n_components": 3,
                             "params": {"amp_0": "linear", "amp_1": "linear", "amp_2": "linear",
                                        "sigma": {"prior": "uniform", "low": 0.05, "high": 0.5}}}}
    p3 = build(components, data)
    assert p3.layout.linear == ("source.amp_0", "source.amp_1", "source.amp_2")
    assert ("profile.n_components", 3) in p3.components["source"].options
    named = p3.named(jnp.array([0.6, 0.2]))
    assert all(np.isfinite(named[f"source.amp_{i}"]) for i in range(3))

    components["source"]["n_components"] = 2
    with pytest.raises(ParameterError, match="unknown parameter.*'amp_2'"):
        build(components, data)
    del components["source"]["params"]["amp_2"]
    assert build(components, data).structure_key() != p3.structure_key()

    components["source"]["n_components"] = "two"
    with pytest.raises(TypeError, match=r"components.source: profile 'STACKED_GAUSSIANS' option "
                                        r"'n_components' must be an integer"):
        build(components, data)


def test_outside_the_profile_domain_the_likelihood_is_a_finite_penalty(tiny_spec):
    components, data, _ = tiny_spec()
    components = copy.deepcopy(components)
    components["source"]["params"]["e1"] = {"prior": "uniform", "low": -0.9, "high": 0.9}
    components["source"]["params"]["e2"] = {"prior": "uniform", "low": -0.9, "high": 0.9}
    p = build(components, data)
    i1, i2 = p.free_names.index("source.e1"), p.free_names.index("source.e2")
    inside = jnp.zeros(p.dim).at[p.free_names.index("lens.theta_E")].set(0.6).at[
        p.free_names.index("source.R_sersic")].set(0.15)
    outside = inside.at[i1].set(0.8).at[i2].set(0.8)  # |e| = 1.13 > 1
    ll_in = p.log_likelihood(inside, p.args)
    ll_out = p.log_likelihood(outside, p.args)
    further = p.log_likelihood(outside.at[i1].set(0.9), p.args)
    assert np.isfinite(ll_in) and ll_in > -1e6
    assert np.isfinite(ll_out) and ll_out < -1e11 and further < ll_out
    grad = jax.grad(p.log_likelihood)(outside, p.args)
    assert np.all(np.isfinite(grad)) and grad[i1] < 0 and grad[i2] < 0  # points back inside
    assert np.all(np.isfinite(jax.grad(p.log_likelihood)(inside, p.args)))


def test_wildcard_parameter_keys(tiny_spec):
    components, data, _ = tiny_spec()
    components = copy.deepcopy(components)
    components["source"]["params"]["center_?"] = {"prior": "uniform", "low": -0.2, "high": 0.2}
    components["source"]["params"]["e*"] = 0.05
    components["source"]["params"]["e2"] = 0.0  # explicit beats the pattern
    p = build(components, data)
    assert p.describe()[[r["parameter"] for r in p.describe()].index("source.center_x")][
        "detail"] == "Uniform(low=-0.3, high=0.3)"  # explicit keys from the spec win
    fixed = dict(zip(p.layout.fixed, p.fixed_values.tolist()))
    assert fixed["source.e1"] == 0.05 and fixed["source.e2"] == 0.0
    components["source"]["params"]["amp_*"] = "linear"
    with pytest.raises(ParameterError, match=r"amp_\*: the pattern matches no parameter"):
        build(components, data)
