"""Catalogue of the power-law mass profiles (EPL and its multipoles); no JAX import."""

PROFILES: tuple = ()
