"""Priors against scipy.stats (an independent reference) and their transforms' exact properties."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from lensframe.errors import ParameterError
from lensframe.priors import LogUniform, Normal, TruncatedNormal, Uniform

CASES = [
    (Uniform(-0.3, 1.7), stats.uniform(loc=-0.3, scale=2.0)),
    (LogUniform(0.05, 3.0), stats.loguniform(0.05, 3.0)),
    (Normal(0.2, 0.7), stats.norm(0.2, 0.7)),
    (TruncatedNormal(0.5, 0.4, 0.0, 2.0),
     stats.truncnorm((0.0 - 0.5) / 0.4, (2.0 - 0.5) / 0.4, loc=0.5, scale=0.4)),
]
IDS = ["uniform", "loguniform", "normal", "truncnormal"]


@pytest.mark.parametrize("prior,ref", CASES, ids=IDS)
def test_log_prob_and_inverse_cdf_match_scipy(prior, ref):
    u = np.linspace(0.01, 0.99, 41)
    x = np.asarray(prior.from_unit(jnp.asarray(u)))
    np.testing.assert_allclose(x, ref.ppf(u), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(prior.log_prob(jnp.asarray(x))), ref.logpdf(x),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("prior,ref", CASES, ids=IDS)
def test_unconstrained_bijection_roundtrip_and_jacobian(prior, ref):
    z = jnp.linspace(-4.0, 4.0, 17)
    x, logdet = prior.from_unconstrained(z)
    np.testing.assert_allclose(np.asarray(prior.to_unconstrained(x)), np.asarray(z), atol=1e-8)
    dxdz = jax.vmap(jax.grad(lambda t: prior.from_unconstrained(t)[0]))(z)
    np.testing.assert_allclose(np.asarray(logdet), np.log(np.abs(np.asarray(dxdz))), atol=1e-10)
    low, high = prior.support()
    assert np.all(np.asarray(x) >= low) and np.all(np.asarray(x) <= high)


def test_bounded_prior_is_minus_infinity_outside_support():
    assert float(Uniform(0.0, 1.0).log_prob(1.5)) == -np.inf
    assert float(LogUniform(0.1, 1.0).log_prob(0.01)) == -np.inf
    assert float(TruncatedNormal(0.0, 1.0, -1.0, 1.0).log_prob(-2.0)) == -np.inf


@pytest.mark.parametrize("prior", [Uniform(2.0, 1.0), LogUniform(1.0, 1.0),
                                   LogUniform(-1.0, 2.0), Normal(0.0, -1.0),
                                   TruncatedNormal(0.0, 1.0, 3.0, 2.0),
                                   TruncatedNormal(0.0, 1.0, 40.0, 50.0)])
def test_impossible_hyperparameters_are_rejected_naming_the_parameter(prior):
    with pytest.raises(ParameterError, match="lens.theta_E"):
        prior.check("lens.theta_E")


def test_a_truncated_normal_far_in_its_tail_is_refused_before_any_fit():
    with pytest.raises(ParameterError, match="lens.theta_E.*cannot be sampled.*40 sigma"):
        TruncatedNormal(0.0, 1.0, 40.0, 50.0).check("lens.theta_E")
    TruncatedNormal(0.0, 1.0, 5.0, 6.0).check("lens.theta_E")  # 3e-7 of the mass: fine
