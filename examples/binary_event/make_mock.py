"""Make the mock binary-lens event of ``examples/binary_event.toml`` with VBMicrolensing (not
lensframe), so the example tests lensframe against an independent code.

Two data sets: a survey (one epoch a day over ±2 tE, 0.015 mag) and a follow-up telescope (hourly
over a day at the caustic entry and a day and a half at the exit, 0.008 mag), with different source
and blend fluxes.
The source crosses the caustic of a resonant binary (s = 1.1, q = 0.1), so a finite source is
resolved. Fixed seed; run ``python examples/binary_event/make_mock.py`` to rewrite the files.
"""

import json
import math
from pathlib import Path

import numpy as np
import VBMicrolensing

HERE = Path(__file__).resolve().parent
TRUTH = {"lens.s": 1.1, "lens.q": 0.1, "lens.rho": 0.005, "event.t0": 7500.0, "event.u0": 0.1,
         "event.tE": 20.0, "event.alpha": 0.6}
SETS = {  # name: (epochs, mag error, source flux, blend flux); flux zero point 22
    "survey": (np.arange(7460.3, 7540.0, 1.0), 0.015, 1.0, 0.2),
    "followup": (np.concatenate([np.arange(7492.8, 7493.8, 1 / 24),
                                 np.arange(7504.4, 7505.9, 1 / 24)]), 0.008, 3.0, 1.0),
}


def magnification(times):
    vbm = VBMicrolensing.VBMicrolensing()
    vbm.RelTol, vbm.Tol = 1e-7, 1e-7
    p = TRUTH
    params = [math.log(p["lens.s"]), math.log(p["lens.q"]), p["event.u0"], p["event.alpha"],
              math.log(p["lens.rho"]), math.log(p["event.tE"]), p["event.t0"]]
    return np.asarray(vbm.BinaryLightCurve(params, list(times))[0])


def main(seed: int = 20161195):
    rng = np.random.default_rng(seed)
    for name, (times, error, f_s, f_b) in SETS.items():
        flux = f_s * magnification(times) + f_b
        mag = 22.0 - 2.5 * np.log10(flux) + rng.normal(scale=error, size=times.size)
        rows = np.stack([times + 2450000.0, mag, np.full(times.size, error)], 1)
        np.savetxt(HERE / f"{name}.dat", rows, fmt=["%.5f", "%.4f", "%.4f"],
                   header="HJD  I_mag  error  (mock: examples/binary_event/make_mock.py)")
    (HERE / "truth.json").write_text(json.dumps(TRUTH, indent=2) + "\n")


if __name__ == "__main__":
    main()
