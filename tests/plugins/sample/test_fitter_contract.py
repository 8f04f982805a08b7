"""What every population/sampling fitter (pso, emcee, nuts, nautilus) promises: bad input fails
before anything is compiled, naming the option or the fitter; Ctrl-C keeps the work done."""

import numpy as np
import pytest

from gaussian_toy import InterruptingProgress
from lensframe import Fitter, dispatch
from lensframe.errors import ParameterError

FITTERS = ["pso", "emcee", "nuts", "nautilus"]
COUNTS = {"pso": "n_particles", "emcee": "n_steps", "nuts": "n_chains", "nautilus": "n_live"}
# the options of each fitter's own tests on the same toy, so their compiled programs are reused
SMALL = {
    "pso": {"n_particles": 32, "n_iterations": 150, "chunk": 50},
    "emcee": {"n_steps": 1000, "burn": 200},
    "nuts": {"n_chains": 4, "n_warmup": 200, "n_samples": 300, "chunk": 100},
    "nautilus": {"n_live": 200, "n_eff": 1000, "n_networks": 1},
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
    fitter = Fitter(toy(), quiet=True)
    # the bar advances after each chunk is done (pso, nuts: calls 1–2 are the warm-up display),
    # every 5 steps (emcee), after each likelihood batch (nautilus: a posterior exists once its
    # first shell is built); the interrupt comes at the given advance
    fitter.progress = InterruptingProgress(after={"pso": 2, "nuts": 4, "nautilus": 12}.get(name, 3))
    result = fitter.run(name, key=0, **SMALL[name])
    d = result.diagnostics
    assert d["interrupted"] is True and d["interrupted_at"]
    assert np.all(np.isfinite(result.best_theta)) and np.isfinite(result.log_density)
    if name == "pso":
        assert d["iterations"] == 100 and "iteration 100 of 150" in d["interrupted_at"]
    elif name == "emcee":
        # interrupted in burn-in: half of the steps done are kept
        assert 0 < d["n_steps"] < 200 and "during burn-in" in d["interrupted_at"]
        assert len(result.samples) == 32 * (d["n_steps"] - d["n_steps"] // 2)
    elif name == "nuts":
        assert d["n_samples"] == 200 and result.samples.shape == (4 * 200, 3)
    else:
        assert len(result.samples) > 0
        np.testing.assert_allclose(result.weights.sum(), 1.0)


def test_ctrl_c_before_anything_to_keep_propagates_with_where(toy):
    fitter = Fitter(toy(), quiet=True)
    fitter.progress = InterruptingProgress(after=1)   # before nautilus stored a point
    with pytest.raises(KeyboardInterrupt, match="nautilus interrupted after 100 likelihood "
                                                "calls: no posterior yet"):
        fitter.run("nautilus", key=0, **SMALL["nautilus"])


@pytest.mark.parametrize("name", FITTERS)
def test_registered_with_paper_and_documented_frozen_options(name):
    import dataclasses

    from lensframe.registry import get_registry

    plugin = get_registry().get(name, "fitter").load()
    assert plugin.reference, f"{name} cites no paper"
    options = plugin.Options()   # the defaults are valid
    for f in dataclasses.fields(options):
        assert f.metadata.get("help"), f"{name} option '{f.name}' has no help"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(options, dataclasses.fields(options)[0].name, None)
