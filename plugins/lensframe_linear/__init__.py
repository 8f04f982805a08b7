"""Standard linear-inversion solvers (amplitudes of linear model components)."""
