"""lensframe-cored-plugin: a cored isothermal sphere for lensframe (an example plugin).

Importing this package imports nothing heavy; the profile itself lives in
:mod:`lensframe_cored.cored` and is imported by lensframe only when a model uses it.
"""

__version__ = "0.1.0"
