"""Catalogue of the light profiles beyond SERSIC_ELLIPSE (Sérsic, Gaussians, shapelets); no JAX
import."""

PROFILES: tuple = ()
