"""Standard strong-lensing plugin: mass and light profiles and the imaging likelihood.

Linked to lensframe only through the ``lensframe`` entry-point table of the project's
``pyproject.toml`` (``strong = "lensframe_strong.plugin"``), exactly as a third-party package is.
"""
