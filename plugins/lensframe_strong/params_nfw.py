"""Catalogue of the NFW family, the convergence sheet and polar shear; no JAX import."""

PROFILES: tuple = ()
