"""Standard optimisers (fitters that find the best fit)."""
