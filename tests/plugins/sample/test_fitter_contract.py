"""What every population/sampling fitter (pso, emcee, nuts, nautilus) promises: bad input fails
before anything is compiled, naming the option or the fitter; Ctrl-C keeps the work done."""

import numpy as np
import pytest

from gaussian_toy import InterruptingProgress
from lensframe import Fitter, dispatch
from lensframe.errors import ParameterError

FITTERS = ["pso", "emcee", "nuts", "nautilus"]
COUNTS = {"pso": "n_particles", "emcee": "n_steps", "nuts": "n_chains", "nautilus": "n_live"}
SMALL = {
    "pso": {"n_particles": 16, "n_iterations": 40, "chunk": 10},
    "emcee": {"n_steps": 400, "burn": 100},
    "nuts": {"n_chains": 2, "n_warmup": 100, "n_samples": 200, "chunk": 50},
    "nautilus": {"n_live": 100, "n_networks": 1, "n_eff": 500},
}


@pytest.mark.parametrize("name", FITTERS)
def test_no_free_parameters_is_refused_before_compiling(toy, name):
    compiled = len(dispatch._memo)
    with pytest.raises(ParameterError, match=f"fitter '{name}': the problem has no free "
                                             "parameters"):
        Fitter(toy(dim=0), quiet=True).run(name)
    assert len(dispatch._memo) == compiled


@pytest.mark.parametrize("name", FITTERS)
@pytest.mark.parametrize("value", [0, -3])
def test_zero_or_negative_counts_name_the_option(toy, name, value):
    option = COUNTS[name]
    compiled = len(dispatch._memo)
    with pytest.raises(ValueError, match=f"fitter '{name}'.*option '{option}' must be > 0"):
        Fitter(toy(), quiet=True).run(name, **{option: value})
    assert len(dispatch._memo) == compiled


@pytest.mark.parametrize("name", FITTERS)
def test_ctrl_c_returns_the_work_done_so_far(toy, name):
    fitter = Fitter(toy(dim=2), quiet=True)
    # nuts: advance 1–2 are the warm-up display, 3 the first sampling chunk; nautilus advances
    # once per likelihood batch of 100 and has a posterior once its first shell is built
    fitter.progress = InterruptingProgress(after={"nuts": 4, "nautilus": 12}.get(name, 3))
    result = fitter.run(name, key=0, **SMALL[name])
    d = result.diagnostics
    assert d["interrupted"] is True and d["interrupted_at"]
    assert np.all(np.isfinite(result.best_theta)) and np.isfinite(result.log_density)
    if name == "pso":
        assert 0 < d["iterations"] < SMALL["pso"]["n_iterations"]
    elif name == "emcee":
        assert 0 < d["n_steps"] < SMALL["emcee"]["n_steps"] and len(result.samples) > 0
    elif name == "nuts":
        assert d["n_samples"] == 2 * 50 and result.samples.shape == (2 * 2 * 50, 2)
    else:
        assert len(result.samples) > 0
        np.testing.assert_allclose(result.weights.sum(), 1.0)


def test_ctrl_c_before_anything_to_keep_propagates_with_where(toy):
    fitter = Fitter(toy(dim=2), quiet=True)
    fitter.progress = InterruptingProgress(after=1)   # before nautilus stored a point
    with pytest.raises(KeyboardInterrupt, match="nautilus interrupted after 100 likelihood "
                                                "calls: no posterior yet"):
        fitter.run("nautilus", key=0, **SMALL["nautilus"])
